"""Browse/search, adding a cloze note, settings that change the queue, and an import, through the GUI."""

from __future__ import annotations

from conftest import press, pump, pump_for, tap, type_char, wait_until
from seed import NOW, WORDS, spanish


def searched(browse, **fields):
    """Fill filter fields as a user would, then wait for the search they trigger to finish."""
    for name, value in fields.items():
        browse.ids[name].text = value
    browse.search()  # what Enter in the field does (typing triggers it after a short pause)
    wait_until(browse.wait_idle)
    return browse.rows


def open_browse(app):
    app.show("browse")
    browse = app.root.get_screen("browse")
    wait_until(browse.wait_idle)
    return browse


def test_search_by_text_deck_tag_and_state(make_app):
    app = make_app(spanish)
    browse = open_browse(app)
    assert len(browse.rows) == len(WORDS) + 1
    assert [r["question"] for r in searched(browse, search="perro")] == ["el perro"]
    assert [r["question"] for r in searched(browse, search="", tag="verb")] == ["hablar"]
    assert [r["question"] for r in searched(browse, tag="", deck_filter="Spanish::Verbs")] == ["hablar"]
    assert len(searched(browse, deck_filter="All decks")) == len(WORDS) + 1
    # Suspend the selected card from the button bar, then filter by state.
    first = browse.selected_card_id
    pump(3)
    row = next(v for v in browse.ids.rv.children[0].children if v.card_id == first)
    tap(row)  # the first row is already selected: tapping it again opens the editor
    assert app.root.current == "editor"
    press(27)
    wait_until(browse.wait_idle)
    browse.toggle_suspend()
    wait_until(browse.wait_idle)
    assert [r["card_id"] for r in searched(browse, state_filter="suspended")] == [first]
    press(274)  # arrows and '/' work while no field has focus
    type_char("/")
    pump(2)
    assert browse.ids.search.focus
    type_char("b")  # typed into the search field, not a shortcut
    assert app.root.current == "browse"


def test_card_info_and_delete(make_app):
    app = make_app(spanish)
    browse = open_browse(app)
    browse.card_info()
    pump(3)
    from flashcards.ui.widgets import open_modal

    info = open_modal()
    assert "Review history" in info.body or "No reviews yet" in info.body
    press(27)
    pump_for(0.5)  # the dialog's closing animation
    assert open_modal() is None
    browse.delete_selected()
    pump_for(0.5)
    dialog = open_modal()
    tap(dialog.ids.ok_button)
    wait_until(lambda: browse.wait_idle() and len(browse.rows) == len(WORDS))


def test_add_a_cloze_note_with_validation(make_app):
    app = make_app(spanish)
    browse = open_browse(app)
    n_before = len(browse.rows)
    app.show("editor", notetype="Cloze")
    editor = app.root.get_screen("editor")
    assert editor.ids.notetype.text == "Cloze"
    assert [w.name for w in reversed(editor.ids.fields.children)] == ["Text", "Back Extra"]
    editor.set_field(0, "Paris is the capital of France")
    tap(editor.ids.save_button)
    assert editor.message_is_error and "c1" in editor.message  # a Cloze note needs {{c1::...}}
    editor.set_field(0, "{{c1::Paris}} is the capital of {{c2::France}}")
    editor.ids.tags.text = "geo capitals"
    tap(editor.ids.save_button)
    assert not editor.message_is_error and "Added" in editor.message
    press(27)
    assert len(searched(browse)) == n_before + 2  # two cloze cards
    assert len(searched(browse, search="capital of")) == 2
    note = app.col.note(browse.rows[0]["note_id"])
    assert note.notetype == "Cloze" and note.tags == ["geo", "capitals"]


def test_settings_change_the_queue(make_app):
    app = make_app(spanish)
    decks = app.root.get_screen("decks")
    spanish_row = next(r for r in decks.rows if r.name == "Spanish")
    assert spanish_row.new == len(WORDS) + 1
    app.show("settings", deck_id=spanish_row.id)
    settings = app.root.get_screen("settings")
    settings.ids.new_per_day.text = "2"
    settings.ids.font_size.value = 24
    settings.save()
    assert settings.message.startswith("Saved") and not settings.message_is_error
    assert app.font_size == 24
    settings.ids.new_per_day.text = "many"
    settings.save()
    assert settings.message_is_error
    press(27)
    assert app.root.current == "decks"
    assert next(r for r in decks.rows if r.name == "Spanish").new == 2
    type_char("s")
    study = app.root.get_screen("study")
    assert study.count_new == 2
    for _ in range(2):
        press(32, " ", text=" ")
        type_char("4")
    assert study.finished


def test_dark_theme_setting(make_app):
    app = make_app(spanish)
    app.show("settings")
    settings = app.root.get_screen("settings")
    tap(settings.ids.dark_check)
    settings.save()
    assert app.theme_name == "dark" and app.col.get_setting("theme") == "dark"


def test_import_a_csv_through_the_screen(make_app, tmp_path):
    csv_file = tmp_path / "capitals.csv"
    csv_file.write_text("#deck:Capitals\nFrance,Paris\nItaly,Rome\nSpain,Madrid\n,no front\n", encoding="utf-8")
    app = make_app(spanish)
    type_char("i")
    assert app.root.current == "import"
    screen = app.root.get_screen("import")
    screen.ids.chooser.path = str(tmp_path)
    screen.chooser_selected([str(csv_file)])
    wait_until(lambda: screen.stage in ("planned", "error"))
    assert screen.stage == "planned", screen.error_text
    assert "Capitals" in screen.plan_text and "[b]3[/b] new" in screen.plan_text
    assert "[b]1[/b] skipped" in screen.plan_text
    tap(screen.ids.import_button)
    wait_until(lambda: screen.stage in ("done", "error"))
    assert screen.stage == "done", screen.error_text
    assert not app.busy
    press(27)
    decks = app.root.get_screen("decks")
    row = next(r for r in decks.rows if r.name == "Capitals")
    assert row.new == 3 and row.cards == 3


def test_import_errors_are_shown_in_words(make_app, tmp_path):
    bad = tmp_path / "notes.xyz"
    bad.write_text("x", encoding="utf-8")
    app = make_app(spanish)
    app.show("import")
    screen = app.root.get_screen("import")
    screen.choose(str(bad))
    wait_until(lambda: screen.stage in ("planned", "error"))
    assert screen.stage == "error" and "unsupported file type" in screen.error_text
    assert NOW
