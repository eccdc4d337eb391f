"""Study: front, reveal, four answer buttons with their intervals, undo, bury/suspend/flag/edit.

Touch-first: a tap anywhere on the card reveals it; the answer buttons sit at the bottom and ignore
taps for a moment after the answer appears, and the "Show answer" button ignores taps for a moment
after an answer, so a double tap answers once. Every answer is committed by the core before the
next card is shown.
"""

from __future__ import annotations

import threading
import time

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty

from flashcards.errors import FlashcardsError
from flashcards.ui.theme import FLAG_COLORS, FLAG_NAMES
from flashcards.ui.widgets import (
    FCScreen,
    Menu,
    SoundPlayer,
    after_drawn,
    fmt_interval,
    fmt_when,
    guard_until_drawn,
)

#: Taps on the answer buttons are ignored this long after the answer is shown (and on "Show
#: answer" this long after an answer), so a double tap or a finger still moving answers once.
GUARD_SECONDS = 0.4
KEY_SPACE, KEY_ENTER, KEY_NUMPAD_ENTER = 32, 13, 271
RATING_NAMES = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}
#: Every this many answers a worker thread copies the WAL's new pages into the database file.
CHECKPOINT_EVERY = 16


class WalCheckpointer:
    """Copies committed pages from the write-ahead log into the database on a worker thread.

    SQLite does it itself in the commit that takes the log past 1,000 pages: every ~140 answers
    one answer's commit, on the main thread, copied ~1,000 pages and synced the file, 60-80 ms here
    (``benchmarks/bench_frames.py``). A passive checkpoint on the worker's own connection every few
    answers copies them a few at a time while the user reads the next card; the commit that
    reaches 1,000 pages then finds them copied already. A checkpoint changes no data, so the main
    connection does not see it as another connection's change (``PRAGMA data_version``).
    """

    def __init__(self):
        self._thread: threading.Thread | None = None
        self.last_result: tuple | None = None  # (busy, pages in the log, pages copied), for tests

    def run(self, col) -> None:
        if self._thread is not None and self._thread.is_alive():
            return  # the running one copies these pages too

        def work():
            try:
                self.last_result = col.checkpoint()
            except Exception:  # noqa: BLE001 - only a head start: SQLite's own checkpoint still runs
                self.last_result = None
            finally:
                col.db.close()  # this thread's connection only

        self._thread = threading.Thread(target=work, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def idle(self) -> bool:
        """(Tests) True when no checkpoint is running."""
        return self._thread is None or not self._thread.is_alive()


class StudyScreen(FCScreen):
    deck_name = StringProperty("")
    revealed = BooleanProperty(False)
    finished = BooleanProperty(False)
    finished_text = StringProperty("")
    count_new = NumericProperty(0)
    count_learning = NumericProperty(0)
    count_review = NumericProperty(0)
    kind = NumericProperty(-1)  # 0 new, 1 learning, 2 review (the current card's)
    intervals = ListProperty(["", "", "", ""])
    can_undo = BooleanProperty(False)
    flag = NumericProperty(0)
    flag_color = ListProperty([0, 0, 0, 0])
    has_sound = BooleanProperty(False)
    card = ObjectProperty(None, allownone=True)
    notice = StringProperty("")
    counts_markup = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        self.session = None
        self.deck_id = None
        self._shown_at = 0.0
        self.sound = SoundPlayer()
        self._clear_notice = Clock.create_trigger(lambda dt: setattr(self, "notice", ""), 2.5)
        self.checkpointer = WalCheckpointer()
        self._answers = 0
        # The app builds this screen before it is shown (a warm-up after start): laid out at the
        # window's size from the start, its labels are rendered then, at the widths they are shown
        # at, and not all again in the first frame of studying (60-85 ms there).
        from kivy.core.window import Window

        self.size = Window.size

    def top_actions(self):
        return [("Undo", self.undo), ("Edit", self.edit), ("Bury", self.bury), ("Suspend", self.suspend),
                ("Flag", self.flag_menu)]

    # ------------------------------------------------------------------ flow

    def enter(self, back: bool = False, deck_id: int | None = None, **kwargs) -> None:
        if deck_id is not None:
            self.deck_id = deck_id
            self.session = self.col.study(deck_id)
            self.deck_name = self.col.deck_names().get(deck_id, "")
            self.next_card()
        elif back and self.card is not None:
            # Back from the editor: show the edited card again, on the side it was on.
            try:
                self.card._rendered = None
                self._show_side()
            except FlashcardsError:  # the note was deleted meanwhile
                self.next_card()
        elif self.session is not None and self.card is None:
            self.next_card()

    def leave(self) -> None:
        self.sound.stop()

    def external_change(self) -> None:
        # The CLI or an import changed the collection: keep the card on screen, update the counts.
        if self.session is not None:
            self._update_counts()
            if self.card is None:
                self.next_card()

    def _update_counts(self):
        n, lrn, r = self.session.counts(self.app.now())
        self.count_new, self.count_learning, self.count_review = n, lrn, r
        self.can_undo = self.session.can_undo()
        self._counts_markup()

    def _counts_markup(self, *_):
        app = self.app
        parts = []
        for kind, value, color in ((0, self.count_new, app.c_new), (1, self.count_learning, app.c_learn),
                                   (2, self.count_review, app.c_review)):
            hexc = "".join(f"{int(c * 255):02x}" for c in color[:3])
            text = f"[u]{value}[/u]" if kind == self.kind else str(value)
            parts.append(f"[color={hexc}]{text}[/color]")
        self.counts_markup = "  +  ".join(parts)

    def next_card(self) -> None:
        self.sound.stop()
        now = self.app.now()
        self.card = self.session.next_card(now) if self.session is not None else None
        self.revealed = False
        if self.card is None:
            self.finished = True
            self.kind = -1
            due = self.session.next_due(now) if self.session is not None else None
            self.finished_text = ("Congratulations! You have finished this deck for now.\n"
                                  + (f"The next card is due {fmt_when(due, now)}." if due else
                                     "No more cards are scheduled in this deck."))
            self.ids.card_view.show("")
            self._update_counts() if self.session is not None else None
            return
        self.finished = False
        state = self.card.state
        self.kind = 0 if state == 0 else (2 if state == 2 else 1)
        self.flag = int(self.col.card_columns(self.card.card_id)["flag"])
        self._update_counts()
        self._show_side()
        self._shown_at = time.monotonic()
        # A second tap of a double tap must not reveal the next card: counted from when it is drawn.
        guard_until_drawn([self.ids.show_button], GUARD_SECONDS)
        self.play_sounds()

    def _show_side(self) -> None:
        r = self.card.rendered
        html, sounds = (r.back, r.sounds_back) if self.revealed else (r.front, r.sounds_front)
        all_sounds = list(dict.fromkeys([*sounds, *r.sounds_front, *r.sounds_back]))
        self._side_sounds = sounds
        self._all_sounds = all_sounds
        self.has_sound = bool(all_sounds)
        view = self.ids.card_view
        view.show(html, all_sounds, self.col.media_dir, self.app.cloze_hex)
        if not self.revealed:
            # The back is rendered while the front is read, a block per frame.
            view.prepare(r.back, all_sounds, self.col.media_dir, self.app.cloze_hex)
            # The answer buttons' intervals, in the frame after the card is drawn, while the buttons
            # are hidden: revealing then renders no button text (unless the intervals changed).
            card = self.card
            after_drawn(lambda: self._update_intervals() if self.card is card and not self.revealed else None)

    def _update_intervals(self) -> None:
        if self.card is None:
            return
        ivl = self.session.intervals(self.card.card_id, self.app.now())
        self.intervals = [fmt_interval(ivl[k]) for k in (1, 2, 3, 4)]  # unchanged values re-render nothing

    def on_flag(self, _inst, value):
        self.flag_color = FLAG_COLORS[value] or [0, 0, 0, 0]

    def reveal(self) -> None:
        if self.card is None or self.revealed:
            return
        self.revealed = True
        self._show_side()
        self._update_intervals()  # exact for now; the same text as prepared in all but rare cases
        # Counted from the first frame that shows the buttons, not from now (a frame can be slow).
        guard_until_drawn([self.ids[k] for k in ("again", "hard", "good", "easy")], GUARD_SECONDS)
        self.play_sounds()

    def answer(self, rating: int) -> None:
        if self.card is None or not self.revealed:
            return
        duration = int((time.monotonic() - self._shown_at) * 1000)
        try:
            self.session.answer(self.card.card_id, rating, self.app.now(), duration_ms=duration)
        except FlashcardsError as e:
            self.error(e)
            return
        self._answers += 1
        if self._answers % CHECKPOINT_EVERY == 0:
            self.checkpointer.run(self.col)
        self.next_card()

    # ------------------------------------------------------------------ actions

    def undo(self) -> None:
        if self.session is None:
            return
        if self.session.undo() is None:
            self._notify("Nothing to undo")
            return
        self._notify("Undone")
        self.next_card()

    def bury(self) -> None:
        if self.card is not None:
            self.session.bury(self.card.card_id, self.app.now())
            self._notify("Card buried until tomorrow")
            self.next_card()

    def suspend(self) -> None:
        if self.card is not None:
            self.session.suspend(self.card.card_id, self.app.now())
            self._notify("Card suspended")
            self.next_card()

    def set_flag(self, flag: int) -> None:
        if self.card is not None:
            self.session.set_flag(self.card.card_id, flag)
            self.flag = flag
            self.can_undo = self.session.can_undo()

    def flag_menu(self) -> None:
        if self.card is None:
            return
        items = [(f"Flag {FLAG_NAMES[i]}" if i else "Remove flag", lambda i=i: self.set_flag(i)) for i in range(8)]
        Menu(items=items).open(self.ids.bar)

    def edit(self) -> None:
        if self.card is not None:
            self.app.show("editor", note_id=self.card.note_id)

    def play_sounds(self, replay: bool = False) -> None:
        if self.card is None:
            return
        names = self._side_sounds if not replay or self._side_sounds else self._all_sounds
        self.sound.play([self.col.media_dir / n for n in names])

    def play_one(self, index: int) -> None:
        if 0 <= index < len(self._all_sounds):
            self.sound.play([self.col.media_dir / self._all_sounds[index]])

    def _notify(self, text: str) -> None:
        self.notice = text
        self._clear_notice()

    # ------------------------------------------------------------------ keys

    def on_key(self, key, codepoint, modifiers):
        if "ctrl" in modifiers or "meta" in modifiers:
            if codepoint == "z" or key == 122:
                self.undo()
                return True
            if codepoint and codepoint in "01234567" and len(codepoint) == 1:
                self.set_flag(int(codepoint) if int(codepoint) != self.flag else 0)
                return True
            return False
        if key in (KEY_SPACE, KEY_ENTER, KEY_NUMPAD_ENTER):
            if self.finished:
                self.app.go_back()
            elif self.revealed:
                self.answer(3)
            else:
                self.reveal()
            return True
        return False

    def on_text(self, text):
        if text in ("1", "2", "3", "4"):
            if self.revealed:
                self.answer(int(text))
            return True
        actions = {"-": self.bury, "@": self.suspend, "e": self.edit, "r": lambda: self.play_sounds(replay=True),
                   "u": self.undo}
        fn = actions.get(text)
        if fn is None:
            return False
        fn()
        return True
