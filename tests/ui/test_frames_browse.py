"""The browse list renders its rows within one time budget per frame, however often it asks."""

from __future__ import annotations

from conftest import pump
from seed import spanish


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
