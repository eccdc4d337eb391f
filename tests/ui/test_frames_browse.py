"""The browse list renders its rows within one time budget per frame, however often it asks."""

from __future__ import annotations

from conftest import pump, pump_for, wait_until
from seed import NOW, spanish


def test_rows_are_rendered_within_one_budget_per_frame(make_app):
    from kivy.uix.label import Label

    from flashcards.ui.browse_screen import RowPainter

    make_app(spanish)
    painter = RowPainter()
    painter.BUDGET = 0.0  # one row per frame
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


def _pixels(points):
    """The window's RGB (0-255) at each (x, y) window point, read from the frame just drawn."""
    from kivy.core.window import Window
    from kivy.graphics.opengl import GL_RGBA, GL_UNSIGNED_BYTE, glReadPixels

    got = []

    def grab(*_):
        Window.unbind(on_flip=grab)
        got.append([tuple(glReadPixels(int(x), int(y), 1, 1, GL_RGBA, GL_UNSIGNED_BYTE)[:3]) for x, y in points])

    Window.bind(on_flip=grab)
    Window.canvas.ask_update()
    wait_until(lambda: got, timeout=5)
    return got[0]


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
    above, inside = _pixels([(x, rv.top + dp(6)), (x, rv.top - dp(6))])
    assert _near(above, _rgb(app.c_bg)), above
    assert _near(inside, _rgb(app.c_select)), inside  # the first card is the selected one
    # Below the list (the button bar's gap) no row shows either.
    rv.scroll_y = 0.5
    pump(4)
    (below,) = _pixels([(x, rv.y - dp(4))])
    assert _near(below, _rgb(app.c_bg)), below

    # One hit: one row, then the list's own background down to its bottom edge.
    browse.ids.search.text = "la casa"  # searches 0.3 s after the last keystroke
    pump_for(0.5)
    wait_until(lambda: browse.wait_idle() and len(browse.rows) == 1 and not ROWS.busy())
    pump_for(0.5)  # the list was scrolled half-way: its scroll effect settles it at the top
    first_row, under = _pixels([(x, rv.top - row_h / 2), (x, rv.y + dp(20))])
    assert _near(first_row, _rgb(app.c_select)), first_row
    assert _near(under, _rgb(app.c_surface)), under
