"""Work the window does per frame: labels drawn again get new textures (no stall in Mesa)."""

from __future__ import annotations

from conftest import press, pump, screenshot, type_char, wait_until
from seed import spanish


def test_a_label_drawn_again_at_the_same_size_gets_a_new_texture(make_app):
    from kivy.core.text import Label as CoreLabel

    make_app(spanish)  # the app installs it when it builds
    label = CoreLabel(text="12", font_size=20, font_name="FCSans")
    label.refresh()
    before = label.texture
    label.text = "13"  # the same size in Noto Sans (tabular digits): Kivy alone refills it in place
    label.refresh()
    assert tuple(label.texture.size) == tuple(before.size)
    assert label.texture is not before


LONG = "Die Donaudampfschifffahrtsgesellschaftskapitänsmütze " * 6


def _big_deck(n):
    """``n`` notes imported from a TSV (the core's importer): Cyrillic, an emoji, one very long row."""

    def setup(col):
        import tempfile
        from pathlib import Path

        from flashcards import importing

        path = Path(tempfile.mkdtemp()) / "big.tsv"
        with path.open("w", encoding="utf-8") as f:
            f.write("#separator:tab\n#deck:Big\n")
            f.write(f"{LONG}\tlong answer\n")
            for i in range(1, n):
                f.write(f"слово {i} — что это? 🙂 日本語\tanswer {i}\n")
        importing.import_file(col, path, backup=False)

    return setup


def _visible(browse):
    lm = browse.ids.rv.layout_manager
    return sorted(((i, w) for w, i in lm.view_indices.items()), key=lambda iw: iw[0])


def test_browse_lays_out_many_rows_by_arithmetic_and_follows_the_scroll(make_app):
    from kivy.metrics import dp

    app = make_app(_big_deck(3000))
    app.show("browse")
    browse = app.root.get_screen("browse")
    from flashcards.ui.browse_screen import ROWS

    wait_until(lambda: browse.wait_idle() and _visible(browse) and not ROWS.busy())
    rv = browse.ids.rv
    assert len(browse.rows) == 3000
    row_h = dp(64)
    assert rv.layout_manager.height == 3000 * row_h  # the whole list's height, no row laid out one by one
    top = _visible(browse)
    assert top[0][0] == 0
    assert [i for i, _ in top] == list(range(top[0][0], top[0][0] + len(top)))
    # Rows sit one under the other, 64 dp apart, in index order.
    assert [round(w.y - top[0][1].y) for _, w in top] == [round(-k * row_h) for k in range(len(top))]
    # The very long first row is cut to the row's width (with an ellipsis), the others are whole.
    long_row = top[0][1]
    assert "…" in long_row.text and "Donaudampf" in long_row.text
    assert long_row.texture_size[0] <= long_row.width - dp(28)
    assert "слово 1 — что это?" in top[1][1].text and "…" not in top[1][1].text
    screenshot("18-browse-long-rows")

    rv.scroll_y = 0  # the end of the list
    wait_until(lambda: any(i == 2999 for i, _ in _visible(browse)) and not ROWS.busy())
    bottom = _visible(browse)
    assert f"слово {bottom[-1][0]} " in bottom[-1][1].text

    browse.select_index(1500)  # what the arrow keys do: the selected row is brought into view
    wait_until(lambda: any(i == 1500 for i, _ in _visible(browse)) and not ROWS.busy())
    row = dict(_visible(browse))[1500]
    assert row.selected and row.card_id == browse.rows[1500]["card_id"]
    assert "слово 1500 " in row.text


def test_rows_get_their_text_a_slice_per_frame_and_never_a_stale_one(make_app):
    from flashcards.ui.browse_screen import ROWS, RowPainter

    app = make_app(_big_deck(400))
    app.show("browse")
    browse = app.root.get_screen("browse")
    wait_until(lambda: browse.wait_idle() and _visible(browse) and not ROWS.busy())
    rv = browse.ids.rv
    old_budget, RowPainter.BUDGET = RowPainter.BUDGET, 0.0  # one row per frame
    try:
        rv.scroll_y = 0.5  # a jump: every visible row needs a new text
        pump(2)
        rows = _visible(browse)
        waiting = [w for _, w in rows if w in ROWS.pending]
        assert waiting  # not all rendered in one frame ...
        assert all(w.text == "" for w in waiting)  # ... and the waiting ones show nothing, not an old card
        wait_until(lambda: not ROWS.busy())
    finally:
        RowPainter.BUDGET = old_budget
    for i, w in _visible(browse):
        assert f"слово {i} " in w.text


def test_the_card_view_uses_its_text_labels_again(make_app):
    from flashcards.ui.widgets import CardLabel

    app = make_app(spanish)
    type_char("s")
    study = app.root.get_screen("study")
    view = study.ids.card_view
    front = [w for w in reversed(view.ids.content.children) if isinstance(w, CardLabel)]
    first_card = study.card.card_id
    assert "la casa" in front[0].text
    press(32, " ", text=" ")  # reveal: the front's label now shows the front again, then the back
    back = [w for w in reversed(view.ids.content.children) if isinstance(w, CardLabel)]
    assert back[0] is front[0] and "la casa" in back[0].text
    assert any("the house" in w.text for w in back)
    type_char("3")
    assert study.card.card_id != first_card
    after = [w for w in reversed(view.ids.content.children) if isinstance(w, CardLabel)]
    assert after[0] is front[0] and "el perro" in after[0].text and "the house" not in after[0].text
