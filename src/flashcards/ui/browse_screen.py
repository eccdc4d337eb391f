"""Browse: search cards by text, deck, tag and state; edit, add, delete, suspend; card info.

The search runs on a worker thread (its own database connection) and the list is a RecycleView
whose rows format their text only when they become visible, so 100,000 cards stay smooth. The
worker's result reaches the list as one reference (:class:`CardRows`, no dict per card and no copy),
the row widgets are made while the search runs, and a result that is replaced is freed a slice per
frame (:class:`Release`): each of these cost the window a frame of 20-110 ms with 100,000 cards.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.event import EventDispatcher
from kivy.factory import Factory
from kivy.graphics import ClearBuffers, ClearColor
from kivy.metrics import dp, sp
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.recycleview import RecycleView
from kivy.uix.recycleview.datamodel import RecycleDataModelBehavior
from kivy.uix.recycleview.views import RecycleDataViewBehavior

from flashcards.errors import FlashcardsError
from flashcards.gcpause import paused as gc_paused
from flashcards.ui.html_markup import escape, plain_markup
from flashcards.ui.widgets import (
    FCModal,
    FCScreen,
    SpareRowAdapter,
    WindowClipBehavior,
    confirm,
    fmt_interval,
)


class SurfaceClearColor(ClearColor):
    """Kivy's ClearColor made with no arguments, as kv makes canvas instructions (``rgba`` set after)."""

    def __init__(self, **kwargs):
        super().__init__(0, 0, 0, 1, **kwargs)


# browse_screen.kv clears the list's area with these (kv knows Color, Rectangle, ... by default).
for _name, _cls in (("SurfaceClearColor", SurfaceClearColor), ("ClearBuffers", ClearBuffers)):
    if _name not in Factory.classes:
        Factory.register(_name, cls=_cls)

STATE_NAMES = {0: "new", 1: "learning", 2: "review", 3: "relearning"}
STATE_FILTERS = ["Any state", "new", "learning", "review", "due", "suspended", "buried", "leech", "flagged"]
ALL_DECKS = "All decks"
KEY_UP, KEY_DOWN, KEY_ENTER, KEY_DELETE = 273, 274, 13, 127


def _date(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone().strftime("%Y-%m-%d")


# Characters about one em wide (CJK, Hangul, kana, full-width forms, emoji); others count 0.55 em.
_WIDE = re.compile("[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60"
                   "\uffe0-\uffe6\U0001f000-\U0001faff\U00020000-\U0003fffd]")


def clip(text: str, width_px: float, font_px: float) -> str:
    """``text`` cut to about what fits on one line ``width_px`` wide at ``font_px``, with "…"
    when cut (an estimate: 0.55 em a character, 1 em for a wide one; the list clips the rest)."""
    budget = width_px / max(1.0, font_px)
    if len(text) <= budget:
        return text  # fits even if every character were wide
    used = 0.0
    for i, ch in enumerate(text):
        used += 1.0 if _WIDE.match(ch) else 0.55
        if used > budget - 1:
            return text[:i].rstrip() + "…"
    return text


def _hex(color) -> str:
    return "".join(f"{int(c * 255):02x}" for c in color[:3])


class RowPainter:
    """Gives list rows their text a few milliseconds' worth per frame.

    A fling brings 4-10 new rows into view per frame, and each row's text costs 2-4 ms here
    (markup layout, SDL_ttf, a texture upload through the software renderer): drawing them all
    in one frame took 50-150 ms. Rows are rendered in the order they asked until ``BUDGET`` is
    spent, the rest in the next frames (blank meanwhile); a row that scrolls away first is
    given its newer text, or none, and never renders the old one.
    """

    BUDGET = 0.004
    #: A frame that has already worked this long (a new search result: ~3 ms to bind every row;
    #: a screen opening) paints nothing, unless the frame before painted nothing either: its
    #: drawing (20-40 ms under llvmpipe) and the frame-rate cap's sleep (up to 12 ms) still come,
    #: and 4-5 ms of painting on top made such frames the slowest of a search. Flinging binds
    #: a row or two a frame (under 1 ms) and paints as before.
    FRAME_BUDGET = 0.003

    def __init__(self):
        self.pending: dict = {}  # row -> text, in the order asked
        self._now = Clock.create_trigger(self.paint, -1)  # this frame, after the list's refresh
        self._next = Clock.create_trigger(self.paint, 0)  # the next frame
        self._frame = -1  # Clock.frames when the time below was counted
        self._spent = 0.0  # seconds spent painting in that frame
        self._skipped = -1  # Clock.frames of the last frame that left its rows to the next

    def ask(self, row, text: str) -> None:
        if row.text == text:
            self.pending.pop(row, None)
            return
        if row.text:
            row.text = ""  # not another card's text while this one waits
        self.pending[row] = text
        self._now()

    def paint(self, *_):
        # The budget is per frame: the list can ask for rows (and so run this) more than once in
        # a frame, and each run started a budget of its own (25 ms a frame seen while flinging).
        if Clock.frames != self._frame:
            self._frame, self._spent = Clock.frames, 0.0
        if (self._spent == 0 and self._skipped != Clock.frames - 1
                and Clock.time() - Clock.get_time() > self.FRAME_BUDGET):
            self._skipped = Clock.frames
            self._next()
            return
        start = time.perf_counter()
        painted = self._spent > 0
        while self.pending and (not painted or self._spent + time.perf_counter() - start < self.BUDGET):
            row = next(iter(self.pending))
            row.text = self.pending.pop(row)
            row.texture_update()  # inside the budget, not later in the frame
            row._trigger_texture.cancel()
            painted = True
        self._spent += time.perf_counter() - start
        if self.pending:
            self._next()

    def busy(self) -> bool:
        """(Tests) True while some row still waits for its text."""
        return bool(self.pending)


ROWS = RowPainter()


class CardRowView(RecycleDataViewBehavior, ButtonBehavior, Label):
    """One label of two lines: the note's sort field; deck · state · due · tags.

    One texture per row, only as wide as its text (cut to the row's width before it is
    rendered): a row that scrolls into view costs one small texture, not two row-wide ones.
    """

    index = NumericProperty(0)
    card_id = NumericProperty(0)
    selected = BooleanProperty(False)
    suspended = BooleanProperty(False)

    def refresh_view_attrs(self, rv, index, data):
        self.index = index
        self.card_id = data["card_id"]
        self.selected = data["card_id"] == rv.screen.selected_card_id
        self.suspended = data["suspended"]
        # Formatting happens here, for the visible rows only; the same text is not rendered again.
        room = (rv.width or self.width) - dp(28)
        title = clip(data["question"][:300] or "(empty)", room, sp(16))
        bits = [data["deck"], STATE_NAMES.get(data["state"], "?")]
        if data["suspended"]:
            bits.append("suspended")
        if data["state"] != 0 and data["due_ms"]:
            bits.append("due " + _date(data["due_ms"]))
        if data["tags"]:
            bits.append(data["tags"])
        detail = clip("  ·  ".join(bits), room, sp(13))
        app = App.get_running_app()
        muted = _hex(app.c_muted)
        title_markup = plain_markup(title)
        if data["suspended"]:
            title_markup = f"[color={muted}]{title_markup}[/color]"
        ROWS.ask(self, f"{title_markup}\n[size={int(sp(13))}][color={muted}]{plain_markup(detail)}[/color][/size]")

    def on_release(self):
        screen = self.parent.recycleview.screen if self.parent else None
        if screen is None:
            return
        if screen.selected_card_id == self.card_id:
            screen.edit_selected()
        else:
            screen.select_card(self.card_id)


ROW_KEYS = ("card_id", "note_id", "question", "deck", "state", "due_ms", "suspended", "tags")


class CardRows(Sequence):
    """A search's rows as the list and the screen read them: ``rows[i]`` is a dict of
    :data:`ROW_KEYS`, made from the core's ``CardRow`` when it is asked for.

    Only the visible rows and the selection are ever asked for, so the worker hands over the
    core's list as it is: building 100,000 dicts took ~60 ms of the worker's time (holding the
    GIL the window needs), and Kivy's own data model copies the list it is given and drops the
    previous one in the window's frame (100,000 dicts freed: ~18 ms).
    """

    __slots__ = ("cards", "__weakref__")

    def __init__(self, cards: list):
        self.cards = cards

    def __len__(self) -> int:
        return len(self.cards)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self.cards)))]
        r = self.cards[index]
        return {key: getattr(r, key) for key in ROW_KEYS}


class Release:
    """Frees replaced search results a slice per frame instead of all at once.

    When the last reference to 100,000 rows goes, CPython frees them in one step that nothing
    interrupts: ~18 ms for the rows, 2-10 ms for their index, in whichever frame that happens.
    Lists and dicts given here are emptied ``SLICE`` items at a time, as many slices a frame as
    fit in ``BUDGET`` (one at least).
    """

    SLICE = 1000  # ~0.2-0.5 ms of freeing
    BUDGET = 0.002  # 100,000 rows are gone in ~0.5 s, in frames that also paint rows and draw

    def __init__(self):
        self.pending: list = []  # lists and dicts to empty, and (weakref, list) pairs to look at
        self._trigger = Clock.create_trigger(self.step, 0)

    def later(self, *things) -> None:
        """Lists or dicts nobody else holds, to be emptied."""
        self.pending.extend(t for t in things if t)
        if self.pending:
            self._trigger()

    def rows(self, rows) -> None:
        """A replaced :class:`CardRows`: its list is emptied from the next frame if by then nobody
        else holds the rows (a caller still reading old rows keeps them whole)."""
        if isinstance(rows, CardRows) and rows.cards:
            self.pending.append((weakref.ref(rows), rows.cards))
            self._trigger()

    def step(self, *_) -> None:
        start = time.perf_counter()
        done = False
        while self.pending and (not done or time.perf_counter() - start < self.BUDGET):
            done = True
            thing = self.pending[-1]
            if isinstance(thing, tuple):
                ref, cards = thing
                self.pending[-1] = cards if ref() is None else ()
            elif isinstance(thing, list):
                del thing[-self.SLICE:]
            else:
                for _ in range(min(self.SLICE, len(thing))):
                    thing.popitem()
            if not self.pending[-1]:
                self.pending.pop()
        if self.pending:
            self._trigger()

    def busy(self) -> bool:
        """(Tests) True while something is still to be freed."""
        return bool(self.pending)


RELEASE = Release()


class RowsDataModel(RecycleDataModelBehavior, EventDispatcher):
    """The list's data held as given (a :class:`CardRows`): Kivy's ``RecycleDataModel`` keeps a
    copy in an ``ObservableList``, which would build a dict per card from a lazy sequence."""

    data = ObjectProperty((), rebind=False)

    def __init__(self, **kwargs):
        self.fbind("data", self._data_changed)
        super().__init__(**kwargs)

    def __getitem__(self, index):
        return self.data[index]

    def attach_recycleview(self, rv):
        super().attach_recycleview(rv)
        if rv:
            self.fbind("data", rv._dispatch_prop_on_source, "data")

    def detach_recycleview(self):
        rv = self.recycleview
        if rv:
            self.funbind("data", rv._dispatch_prop_on_source, "data")
        super().detach_recycleview()

    def _data_changed(self, *_):
        self.dispatch("on_data_changed")


class ClippedRecycleView(WindowClipBehavior, RecycleView):
    """The card list: a RecycleView clipped by a scissor rather than a stencil (WindowClipBehavior),
    holding its data as one reference and given rows made ahead."""

    def __init__(self, **kwargs):
        kwargs.setdefault("data_model", RowsDataModel())
        kwargs.setdefault("view_adapter", SpareRowAdapter())  # rows made ahead (make_rows_ahead)
        super().__init__(**kwargs)


class CardInfoView(FCModal):
    title = StringProperty("")
    body = StringProperty("")


class BrowseScreen(FCScreen):
    escape_leaves_field = True
    status = StringProperty("")
    selected_card_id = NumericProperty(0)
    searching = BooleanProperty(False)
    selection_suspended = BooleanProperty(False)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.rows: Sequence = CardRows([])
        self._index: dict[int, int] = {}  # card id -> position in rows (made by the search's thread)
        self._generation = 0
        self._search_trigger = Clock.create_trigger(lambda dt: self.search(), 0.3)
        self._ahead_trigger = Clock.create_trigger(self.make_rows_ahead, 0)
        self._ahead_wait = 0
        self._choices: list = []  # (spinner, values) still to give (see give_filter_choices)
        self._choices_wait = 0
        self._choices_trigger = Clock.create_trigger(self.give_filter_choices, 0)

    def enter(self, back: bool = False, **kwargs) -> None:
        names = sorted(self.col.deck_names().values(), key=lambda n: n.split("::"))
        decks = [ALL_DECKS, *names]
        if self.ids.deck_filter.text not in decks:
            self.ids.deck_filter.text = ALL_DECKS
        self._choices = [(self.ids.state_filter, STATE_FILTERS), (self.ids.deck_filter, decks)]
        self._choices_wait = 1  # the frame after this one lays out and draws the screen: not in it
        self._choices_trigger()
        self.search()
        self._ahead_wait = 1
        self._ahead_trigger()

    def give_filter_choices(self, *_) -> None:
        """The filters' choices, one spinner a frame from the second frame after the screen is shown:
        a spinner makes a button per choice (~1.2 ms each, 12 ms for the states, more with many
        decks), all in the frame that opened Browse when they were set there."""
        if self._choices_wait > 0:
            self._choices_wait -= 1
        else:
            while self._choices:
                spinner, values = self._choices.pop(0)
                if list(spinner.values) != values:
                    spinner.values = values
                    break
        if self._choices:
            self._choices_trigger()

    def rows_wanted(self) -> int:
        """Row widgets a full list shows: its height in rows, one more for a row cut at each edge
        (asked from the frame after the screen is shown, when the list has its size)."""
        return int(self.ids.rv.height // dp(64)) + 2

    def make_rows_ahead(self, *_) -> None:
        """One row widget a frame until the list has a screenful, made while the first search runs
        (from the second frame after the screen is shown, as the filters' choices)."""
        if self._ahead_wait > 0:
            self._ahead_wait -= 1
            self._ahead_trigger()
            return
        adapter = self.ids.rv.view_adapter
        if not isinstance(adapter, SpareRowAdapter) or adapter.rows_made() >= self.rows_wanted():
            return
        adapter.spare.append(CardRowView())
        self._ahead_trigger()

    def refresh(self) -> None:
        self.search()

    def leave(self) -> None:
        # A search not yet started, or still running, is for a list nobody looks at: it is not
        # started, and its result is dropped (enter searches again). A worker left running kept
        # the collector paused and a processor busy on the next screen.
        self._generation += 1
        self._search_trigger.cancel()
        self.searching = False

    def _deck_filter_id(self):
        name = self.ids.deck_filter.text
        if name == ALL_DECKS:
            return None
        return next((d for d, n in self.col.deck_names().items() if n == name), None)

    # ------------------------------------------------------------------ search

    def search_later(self) -> None:
        self._search_trigger()

    def search(self) -> None:
        """Run the search on a worker thread; the newest search wins.

        The thread starts once the frame showing "Searching…" (or the screen just opened) is
        drawn: a worker running beside that drawing took the renderer's processor and the GIL
        (such frames took 45-68 ms where they take 25-35 alone)."""
        self._generation += 1
        gen = self._generation
        text = self.ids.search.text.strip()
        deck = self._deck_filter_id()
        state = self.ids.state_filter.text
        state = None if state == STATE_FILTERS[0] else state
        tag = self.ids.tag.text.strip() or None
        now = self.app.now()
        col = self.col
        self.searching = True
        self.status = "Searching…"

        def work():
            _lower_thread_priority()
            try:
                with gc_paused():
                    cards = col.search(text=text, deck=deck, tag=tag, state=state, now=now)
                    index = {r.card_id: i for i, r in enumerate(cards)}
                error = None
            except FlashcardsError as e:
                cards, index, error = [], {}, str(e)
            finally:
                col.db.close()  # this thread's connection only
            self._show_results(gen, cards, index, error)

        def start(_dt):
            if gen == self._generation:  # else a newer search replaced this one before it began
                threading.Thread(target=work, name="browse-search", daemon=True).start()

        # Two clock ticks: called between frames (the screen just shown), the next tick begins the
        # very frame that draws it; called in a frame (a key, a timer), the next tick follows its
        # drawing. Either way the second tick comes after the drawing.
        Clock.schedule_once(lambda _dt: Clock.schedule_once(start, 0), 0)

    @mainthread
    def _show_results(self, gen, cards, index, error):
        if gen != self._generation:
            RELEASE.later(cards, index)  # a newer search is on its way
            return
        if error:
            self.status = error
        else:
            n = len(cards)
            self.status = f"{n:,} card{'s' if n != 1 else ''}"
        # The rows in the next frame: this one began with the frame-rate cap's sleep (~12 ms after
        # the quiet frames of a search) and draws the status line; binding every row and drawing
        # them too made it the slowest frame of a search (45-55 ms under llvmpipe, load ~1).
        Clock.schedule_once(lambda _dt: self._show_rows(gen, cards, index), 0)

    def _show_rows(self, gen, cards, index):
        if gen != self._generation:
            RELEASE.later(cards, index)
            return
        self.searching = False
        old_rows, old_index = self.rows, self._index
        self.rows, self._index = CardRows(cards), index
        if self.selected_card_id not in index:
            self.selected_card_id = cards[0].card_id if cards else 0
        self._update_selection_flags()
        self.ids.rv.data = self.rows
        RELEASE.later(old_index)
        RELEASE.rows(old_rows)

    def wait_idle(self):
        """(Tests) True when no search is running."""
        return not self.searching

    # ------------------------------------------------------------------ selection

    def _index_of(self, card_id):
        return self._index.get(card_id, -1)

    def _update_selection_flags(self):
        i = self._index_of(self.selected_card_id)
        self.selection_suspended = bool(i >= 0 and self.rows.cards[i].suspended)

    def select_card(self, card_id: int) -> None:
        self.selected_card_id = card_id
        self._update_selection_flags()
        # Only the rows on screen change their look (rows bound later read the selection): the
        # list's refresh_from_data gave every row another card's text to render, 4 ms a key press.
        for view in self.ids.rv.layout_manager.view_indices:
            view.selected = view.card_id == card_id

    def select_index(self, index: int) -> None:
        if not self.rows:
            return
        index = max(0, min(len(self.rows) - 1, index))
        self.select_card(self.rows.cards[index].card_id)
        rv = self.ids.rv
        row_h = rv.children[0].default_size[1] if rv.children else 64
        content = len(self.rows) * row_h
        if content > rv.height:
            top = index * row_h
            view_top = (1 - rv.scroll_y) * (content - rv.height)
            if top < view_top:
                rv.scroll_y = 1 - top / (content - rv.height)
            elif top + row_h > view_top + rv.height:
                rv.scroll_y = max(0.0, 1 - (top + row_h - rv.height) / (content - rv.height))

    def selected_row(self):
        i = self._index_of(self.selected_card_id)
        return self.rows[i] if i >= 0 else None

    # ------------------------------------------------------------------ actions

    def edit_selected(self) -> None:
        row = self.selected_row()
        if row is not None:
            self.app.show("editor", note_id=row["note_id"])

    def toggle_suspend(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        self.col.set_suspended([row["card_id"]], not row["suspended"])
        self.search()

    def delete_selected(self) -> None:
        row = self.selected_row()
        if row is None:
            return

        def delete():
            self.col.delete_notes([row["note_id"]])
            self.search()

        confirm("Delete note?", f"Delete the note “{row['question'][:80]}” and all its cards? "
                "Their review history is kept.", delete)

    def card_info(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        try:
            info = self.col.card_info(row["card_id"], self.app.now())
        except FlashcardsError as e:
            self.error(e)
            return
        CardInfoView(title=row["question"][:120], body=card_info_markup(info, self.app.now())).open()

    # ------------------------------------------------------------------ keys

    def on_key(self, key, codepoint, modifiers):
        if "ctrl" in modifiers and codepoint == "f":
            self.ids.search.focus = True
            return True
        if modifiers & {"ctrl", "alt", "meta"}:
            return False
        i = self._index_of(self.selected_card_id)
        if key == KEY_UP:
            self.select_index(i - 1)
            return True
        if key == KEY_DOWN:
            self.select_index(i + 1)
            return True
        if key == KEY_ENTER:
            self.edit_selected()
            return True
        if key == KEY_DELETE:
            self.delete_selected()
            return True
        return False

    def on_text(self, text):
        if text == "/":
            Clock.schedule_once(lambda dt: setattr(self.ids.search, "focus", True), 0)
            return True
        return False


def _lower_thread_priority() -> None:
    """The calling thread yields the processor to the window's: its nice value 10 above the one it
    had (at most 19; Linux and Android give each thread its own). On two cores the software
    renderer's threads and a search shared them, and frames drawn while a search ran were the
    slowest of a search (bench_frames search max ~49 -> ~43 ms)."""
    if sys.platform.startswith("linux") or sys.platform == "android":
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + 10))
        except OSError:
            pass


RATINGS = {0: "manual", 1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}
KINDS = {0: "learn", 1: "review", 2: "relearn", 3: "filtered", 4: "manual", 5: "reset"}


def card_info_markup(info, now) -> str:
    """The card-info dialog's text (Kivy markup, user text escaped)."""
    app = App.get_running_app()
    muted = "".join(f"{int(c * 255):02x}" for c in app.c_muted[:3]) if app else "777777"

    def row(k, v):
        return f"[color={muted}]{escape(k)}[/color]   {escape(str(v))}"

    due = _date(info.due_ms) if info.state != 0 and info.due_ms else "new card" if info.state == 0 else ""
    lines = [
        row("Deck", info.deck), row("State", STATE_NAMES.get(info.state, "?") + (" (suspended)" if info.suspended else "")
                                    + (" (buried)" if info.buried else "")),
        row("Next due", due),
        row("Stability", f"{info.stability:.1f} days" if info.stability else "—"),
        row("Difficulty", f"{info.difficulty:.2f} / 10" if info.difficulty else "—"),
        row("Retrievability now", f"{info.retrievability * 100:.0f}%" if info.retrievability is not None else "—"),
        row("Reviews", info.reps), row("Lapses", info.lapses), "",
        "[b]Review history[/b]" if info.reviews else "[b]No reviews yet[/b]",
    ]
    for r in info.reviews:
        when = datetime.fromtimestamp(r["time_ms"] / 1000, UTC).astimezone().strftime("%Y-%m-%d %H:%M")
        ivl = fmt_interval(r["interval_s"]) if r.get("interval_s") else ""
        secs = f"{r['duration_ms'] / 1000:.1f}s" if r.get("duration_ms") else ""
        lines.append(escape(f"{when}   {RATINGS.get(r['rating'], r['rating']):<6}  {KINDS.get(r['kind'], '')}"
                            f"   {ivl}   {secs}"))
    return "\n".join(lines)
