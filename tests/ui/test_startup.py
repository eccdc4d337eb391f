"""The first screen's light deck rows show the core's numbers; the study screen is prepared after start."""

from __future__ import annotations

from conftest import pump, type_char, wait_until
from seed import mixed_scripts, spanish

from flashcards.ui.decks_screen import DeckCounts, count_texture


def test_deck_rows_draw_the_core_counts(make_app):
    def setup(col):
        spanish(col)
        mixed_scripts(col)

    app = make_app(setup)
    pump(3)
    decks = app.root.get_screen("decks")
    expected = {r.id: (r.new, r.learning, r.review) for r in app.col.deck_tree(app.now())}
    views = list(decks.ids.rv.children[0].children)
    assert len(views) == len(expected) == 3
    for row in views:
        counts = next(w for w in row.children if isinstance(w, DeckCounts))
        shown = (counts.new, counts.learning, counts.review)
        assert shown == expected[row.deck_id], row.name
        for value, (color, rect) in zip(shown, counts._cells, strict=True):
            # The drawn texture is the one for that number, inside the row, coloured by kind.
            assert rect.texture is count_texture(str(value), bool(value))
            assert row.y <= rect.pos[1] and rect.pos[1] + rect.size[1] <= row.top
            assert (list(color.rgba) == list(app.c_muted)) == (value == 0)
    assert sum(expected[r.deck_id][0] for r in views if r.depth == 0) > 0


def test_subdeck_names_are_plain_text_and_markup_shows_literally(make_app):
    def setup(col):
        spanish(col)
        col.add_deck("[b]Odd[/b]::Child")

    app = make_app(setup)
    pump(3)
    labels = {row.name: row.children[-1] for row in app.root.get_screen("decks").ids.rv.children[0].children}
    odd = labels["[b]Odd[/b]"]
    assert odd.markup is False and odd.text == "[b]Odd[/b]"  # shown as typed, not bold
    assert "Child" in labels


def test_study_screen_is_prepared_after_the_first_screen(make_app):
    app = make_app(spanish)
    assert app.root.current == "decks"
    wait_until(lambda: app.root.has_screen("study") and not app._warm_steps)
    assert app.root.current == "decks"  # prepared, not shown
    type_char("s")
    study = app.root.get_screen("study")
    assert app.root.current == "study" and study.card is not None and study.deck_name == "Spanish"
