"""The browse list's frames: rows rendered within one time budget per frame, however often it asks;
a search's result handed over as one reference, row widgets made ahead, replaced results freed a
slice per frame, the list clipped and cleared to its surface colour, no redraws for a fading bar."""

from __future__ import annotations

from conftest import pixels, press, pump, pump_for, wait_until
from seed import NOW, spanish


def test_rows_are_rendered_within_one_budget_per_frame(make_app):
    from kivy.uix.label import Label

    from flashcards.ui.browse_screen import RowPainter

    make_app(spanish)
    painter = RowPainter()
    painter.BUDGET = 0.0  # one row per frame
    painter.FRAME_BUDGET = 60.0  # however long the frame has worked already
    rows = [Label() for _ in range(3)]
    for i, row in enumerate(rows):
        painter.ask(row, f"row {i}")
    painter._now.cancel()
    painter.paint()
    painter.paint()  # the list asked again in the same frame: no second budget
    assert [r.text for r in rows] == ["row 0", "", ""]
    assert rows[0].texture_size[0] > 0  # rendered in the budget, not later
    pump(1)
    assert [r.text for r in rows] == ["row 0", "row 1", ""]
    pump(1)
    assert [r.text for r in rows] == ["row 0", "row 1", "row 2"]
    assert not painter.busy()


def test_a_frame_that_has_worked_long_leaves_its_rows_to_the_next_but_never_two_in_a_row(make_app):
    from kivy.uix.label import Label

    from flashcards.ui.browse_screen import RowPainter

    make_app(spanish)
    painter = RowPainter()
    painter.BUDGET = 0.0  # one row per frame that paints
    painter.FRAME_BUDGET = 0.0  # every frame has worked too long already
    rows = [Label() for _ in range(3)]
    for i, row in enumerate(rows):
        painter.ask(row, f"row {i}")
    painter._now.cancel()
    painter.paint()
    assert [r.text for r in rows] == ["", "", ""]  # left to the next frame ...
    pump(1)
    assert [r.text for r in rows] == ["row 0", "", ""]  # ... which paints, whatever its own work
    pump(1)
    assert [r.text for r in rows] == ["row 0", "", ""]
    pump(1)
    assert [r.text for r in rows] == ["row 0", "row 1", ""]
    pump(2)
    assert [r.text for r in rows] == ["row 0", "row 1", "row 2"] and not painter.busy()


def _rgb(color):
    return tuple(round(c * 255) for c in color[:3])


def _near(a, b):
    return all(abs(x - y) <= 2 for x, y in zip(a, b, strict=True))


def _twenty_cards(col):
    did = spanish(col)
    for i in range(11):  # 20 cards in all: more rows than the list shows
        col.add_note("Basic", [f"palabra {i}", f"word {i}"], [], deck_id=did, now=NOW)


def test_rows_are_clipped_to_the_list_and_its_background_fills_only_below_the_rows(make_app):
    from kivy.metrics import dp

    from flashcards.ui.browse_screen import ROWS

    app = make_app(_twenty_cards)
    app.show("browse")
    browse = app.root.get_screen("browse")
    rv = browse.ids.rv
    wait_until(lambda: browse.wait_idle() and rv.layout_manager.children and not ROWS.busy())
    n = len(browse.rows)
    row_h = dp(64)
    assert n * row_h > rv.height  # the list is longer than its view: rows cover all of it
    # Half of the first row scrolled above the list's top edge: it must not paint over the status
    # line (the scissor clips it), while the list's first visible pixels are that row's.
    rv.scroll_y = 1 - (row_h / 2) / (n * row_h - rv.height)
    pump(4)
    x = rv.x + rv.width * 0.8  # right of any text
    above, inside = pixels([(x, rv.top + dp(6)), (x, rv.top - dp(6))])
    assert _near(above, _rgb(app.c_bg)), above
    assert _near(inside, _rgb(app.c_select)), inside  # the first card is the selected one
    # Below the list (the button bar's gap) no row shows either.
    rv.scroll_y = 0.5
    pump(4)
    (below,) = pixels([(x, rv.y - dp(4))])
    assert _near(below, _rgb(app.c_bg)), below

    # One hit: one row, then the list's own background down to its bottom edge.
    browse.ids.search.text = "la casa"  # searches 0.3 s after the last keystroke
    pump_for(0.5)
    wait_until(lambda: browse.wait_idle() and len(browse.rows) == 1 and not ROWS.busy())
    pump_for(0.5)  # the list was scrolled half-way: its scroll effect settles it at the top
    first_row, under = pixels([(x, rv.top - row_h / 2), (x, rv.y + dp(20))])
    assert _near(first_row, _rgb(app.c_select)), first_row
    assert _near(under, _rgb(app.c_surface)), under


# ---------------------------------------------------------------- a result reaches the list


def _forty_cards(col):
    did = spanish(col)
    for i in range(31):  # 40 cards in all: more rows than the list shows
        col.add_note("Basic", [f"palabra {i}", f"word {i}"], ["many"], deck_id=did, now=NOW)


def test_a_result_reaches_the_list_as_the_cores_rows_in_their_order(make_app):
    from flashcards.ui.browse_screen import ROW_KEYS, CardRows

    app = make_app(_forty_cards)
    app.show("browse")
    browse = app.root.get_screen("browse")
    wait_until(browse.wait_idle)
    rv = browse.ids.rv
    expected = app.col.search(now=app.now())
    assert isinstance(browse.rows, CardRows) and rv.data is browse.rows  # one reference, no copy
    assert [r.card_id for r in browse.rows.cards] == [r.card_id for r in expected]
    row = browse.rows[3]  # a dict of the core's row, made when asked for
    assert set(row) == set(ROW_KEYS) and row["question"] == expected[3].question
    assert [r["card_id"] for r in browse.rows[1:3]] == [expected[1].card_id, expected[2].card_id]
    # The rows on screen show the cards at their indices.
    pump(3)
    for view, i in rv.layout_manager.view_indices.items():
        assert view.card_id == expected[i].card_id


def _typed(browse, text):
    browse.ids.search.text = text  # searches 0.3 s after the last keystroke
    pump_for(0.4)
    wait_until(browse.wait_idle)


def test_the_selection_and_search_filters_behave_as_before(make_app):
    app = make_app(_forty_cards)
    app.show("browse")
    browse = app.root.get_screen("browse")
    wait_until(browse.wait_idle)
    press(274)
    press(274)  # two rows down
    third = browse.rows[2]
    assert browse.selected_card_id == third["card_id"] and browse.selected_row() == third
    app.col.set_suspended([third["card_id"]], True)
    _typed(browse, third["question"])
    assert [r["card_id"] for r in browse.rows] == [third["card_id"]]  # still selected: it is listed
    assert browse.selected_card_id == third["card_id"] and browse.selection_suspended
    _typed(browse, "palabra 30")
    assert len(browse.rows) == 1 and browse.rows[0]["question"] == "palabra 30"
    assert browse.selected_card_id == browse.rows[0]["card_id"] and not browse.selection_suspended
    _typed(browse, "nothing like this")
    assert len(browse.rows) == 0 and browse.selected_card_id == 0 and browse.selected_row() is None
    assert browse.status == "0 cards"


def test_row_widgets_are_made_while_the_search_runs_not_when_its_result_arrives(make_app, monkeypatch):
    import threading

    from flashcards.ui.browse_screen import CardRowView
    from flashcards.ui.widgets import SpareRowAdapter

    app = make_app(_forty_cards)
    started, go = threading.Event(), threading.Event()
    search = app.col.search

    def slow_search(*args, **kwargs):
        started.set()
        go.wait(10)
        return search(*args, **kwargs)

    monkeypatch.setattr(app.col, "search", slow_search)
    made = []
    init = CardRowView.__init__

    def counted(self, **kw):
        made.append(self)
        init(self, **kw)

    monkeypatch.setattr(CardRowView, "__init__", counted)
    app.show("browse")
    browse = app.root.get_screen("browse")
    adapter = browse.ids.rv.view_adapter
    assert isinstance(adapter, SpareRowAdapter)
    assert browse.searching and not started.is_set()  # the thread starts once this frame is drawn
    wait_until(started.is_set)
    before = len(made)
    pump(1)
    assert len(made) - before <= 1  # one a frame ...
    wait_until(lambda: adapter.rows_made() >= browse.rows_wanted())
    ahead = len(made)
    assert ahead == browse.rows_wanted() and ahead > 5  # ... until a screenful
    go.set()
    wait_until(lambda: browse.wait_idle() and browse.ids.rv.layout_manager.view_indices)
    on_screen = list(browse.ids.rv.layout_manager.view_indices)
    # The result made no row widget: it used those made ahead (or ones Kivy kept from an earlier list).
    assert len(made) == ahead and len(on_screen) >= browse.rows_wanted() - 2


def test_replaced_rows_are_freed_a_slice_per_frame_unless_someone_still_reads_them(make_app):
    from flashcards.ui.browse_screen import CardRows, Release

    make_app(spanish)
    release = Release()
    release.SLICE, release.BUDGET = 1000, 0.0  # one slice a frame
    big, index = list(range(2500)), {i: i for i in range(1500)}
    release.later(big, index)
    pump(1)
    assert (len(big), len(index)) == (2500, 500)  # dicts go a slice at a time too
    pump(1)
    assert (len(big), len(index)) == (2500, 0)
    pump(3)
    assert big == [] and not release.busy()

    kept = CardRows(list(range(3000)))
    release.rows(kept)  # still read by someone: left whole
    gone = CardRows(list(range(3000)))
    cards = gone.cards
    release.rows(gone)
    del gone
    pump(2)
    assert len(cards) == 2000 and len(kept) == 3000
    wait_until(lambda: not release.busy())
    assert cards == [] and len(kept) == 3000


def test_the_browse_search_runs_below_the_windows_priority():
    import os
    import sys
    import threading

    import pytest

    from flashcards.ui.browse_screen import _lower_thread_priority

    if not sys.platform.startswith("linux"):
        pytest.skip("a thread's own nice value is a Linux (and Android) feature")
    seen = {}

    def work():
        seen["before"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        _lower_thread_priority()
        seen["after"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    main_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen["after"] == min(19, seen["before"] + 10)  # 10 lower, relative to where it was
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_before  # the window's: untouched


def test_the_scroll_bar_does_not_redraw_the_window_while_it_fades(make_app):
    from kivy.core.window import Window

    from flashcards.ui.browse_screen import ROWS

    app = make_app(_forty_cards)
    app.show("browse")
    browse = app.root.get_screen("browse")
    rv = browse.ids.rv
    wait_until(lambda: browse.wait_idle() and rv.layout_manager.view_indices and not ROWS.busy())
    pump_for(1.2)  # the scroll bar's fade after the list was filled
    rv.scroll_y = 0.5
    wait_until(lambda: not ROWS.busy())
    flips = []

    def count(*_):
        flips.append(1)

    Window.bind(on_flip=count)
    try:
        pump_for(1.2)  # ScrollView fades its bar 0.5 s after the scroll, for 0.5 s: ~30 frames
    finally:
        Window.unbind(on_flip=count)
    assert len(flips) <= 2
    assert rv._bar_color == rv.bar_inactive_color  # the fade did run: nothing drew it


def test_the_filters_get_their_choices_one_spinner_a_frame_after_the_screen_is_shown(make_app):
    from flashcards.ui.browse_screen import ALL_DECKS, STATE_FILTERS

    app = make_app(spanish)
    app.show("browse")
    browse = app.root.get_screen("browse")
    state, deck = browse.ids.state_filter, browse.ids.deck_filter
    assert list(state.values) == [] and list(deck.values) == []  # not in the frame that opens Browse
    assert deck.text == ALL_DECKS and state.text == STATE_FILTERS[0]
    pump(1)  # the screen's first layout and drawing
    assert list(state.values) == [] and list(deck.values) == []
    pump(1)
    assert list(state.values) == STATE_FILTERS and list(deck.values) == []
    pump(1)
    assert list(deck.values) == [ALL_DECKS, "Spanish", "Spanish::Verbs"]
    wait_until(browse.wait_idle)
    deck.text = "Spanish::Verbs"  # a choice made from the list filters it, as before
    wait_until(lambda: browse.wait_idle() and len(browse.rows) == 1)
    assert browse.rows[0]["question"] == "hablar"


def test_a_screen_built_ahead_is_drawn_once_for_one_frame_before_it_is_shown(make_app):
    # llvmpipe prepares the kinds of drawing it meets for the first time (the list's scissored
    # clear among them) for the window it draws to: the app draws a screen built ahead once, into
    # one pixel of the window, so the frame that first shows it does not pay for that.
    from kivy.core.window import Window

    app = make_app(spanish)
    browse = app.screen("browse")  # built ahead, as the app does on the deck list
    app._draw_ahead("browse")
    drawn = [g for g in Window.canvas.after.children if browse.canvas in g.children]
    assert len(drawn) == 1 and Window.canvas.needs_redraw
    pump(2)  # drawn in the next frame, taken away after it
    assert not [g for g in Window.canvas.after.children if browse.canvas in g.children]
    app.show("browse")  # and shown as usual afterwards
    wait_until(lambda: browse.wait_idle() and len(browse.rows) == 9)
    app._draw_ahead("browse")  # not while it is on the window (its canvas has a place there)
    assert not [g for g in Window.canvas.after.children if browse.canvas in g.children]


def test_the_search_starts_after_the_frame_that_shows_it_and_its_rows_come_a_frame_after_its_count(
        make_app, monkeypatch):
    import threading

    from kivy.base import EventLoop

    app = make_app(_forty_cards)
    started, go = threading.Event(), threading.Event()
    search = app.col.search

    def held_search(*args, **kwargs):
        started.set()
        go.wait(10)
        return search(*args, **kwargs)

    monkeypatch.setattr(app.col, "search", held_search)
    app.show("browse")  # between frames, as a key's handler would call it
    browse = app.root.get_screen("browse")
    assert browse.searching and browse.status == "Searching…"
    EventLoop.idle()  # the frame that draws the screen: no worker beside it
    assert not started.wait(0.2)
    EventLoop.idle()
    assert started.wait(5)
    go.set()
    for _ in range(500):  # frame by frame until the count shows
        if browse.status != "Searching…":
            break
        EventLoop.idle()
    assert browse.status == "40 cards"
    assert browse.searching and len(browse.ids.rv.data) == 0  # the rows wait for the next frame
    EventLoop.idle()
    assert not browse.searching and browse.ids.rv.data is browse.rows and len(browse.rows) == 40


def test_moving_the_selection_renders_no_row_again(make_app):
    from flashcards.ui.browse_screen import ROWS

    app = make_app(_forty_cards)
    app.show("browse")
    browse = app.root.get_screen("browse")
    rv = browse.ids.rv
    wait_until(lambda: browse.wait_idle() and rv.layout_manager.view_indices and not ROWS.busy())
    shown = {view: (view.text, view.texture) for view in rv.layout_manager.view_indices}
    press(274)  # down
    press(274)
    assert browse.selected_card_id == browse.rows[2]["card_id"]
    assert not ROWS.busy()
    for view, index in rv.layout_manager.view_indices.items():
        assert (view.text, view.texture) == shown[view]  # same card, same texture: nothing rendered
        assert view.selected == (index == 2)
    browse.select_index(30)  # out of view: the list scrolls there, and the newly shown rows know it
    wait_until(lambda: not ROWS.busy())
    selected = [i for v, i in rv.layout_manager.view_indices.items() if v.selected]
    assert selected == [30]


def test_leaving_browse_drops_a_search_that_has_not_started(make_app, monkeypatch):
    from kivy.base import EventLoop

    app = make_app(_forty_cards)
    app.show("browse")
    browse = app.root.get_screen("browse")
    wait_until(browse.wait_idle)
    calls = []
    search = app.col.search
    monkeypatch.setattr(app.col, "search", lambda *a, **k: calls.append(1) or search(*a, **k))
    browse.ids.search.text = "palabra"  # a search 0.3 s later
    browse.search()  # and one now, whose thread starts two frames later
    app.go_back()
    EventLoop.idle()
    pump_for(0.5)
    assert calls == [] and browse.wait_idle() and app.root.current == "decks"
    app.show("browse")  # coming back searches again, with the filter still set
    wait_until(lambda: browse.wait_idle() and calls)
    assert len(browse.rows) == 31 and all("palabra" in r["question"] for r in browse.rows)
