"""Every screen at 1280x800, screenshotted (the PNGs are looked at by a person, see the report)."""

from __future__ import annotations

from conftest import press, pump, screenshot, type_char, wait_until
from seed import mixed_scripts, spanish


def test_every_screen_renders(make_app):
    def setup(col):
        spanish(col)
        mixed_scripts(col)

    app = make_app(setup)
    sm = app.root
    assert sm.current == "decks"
    screenshot("01-decks")
    press(274)  # down arrow
    decks = sm.get_screen("decks")
    names = [r.name for r in decks.rows]
    app.show("study", deck_id=decks.rows[names.index("World")].id)
    pump(3)
    screenshot("02-study-front")
    press(32, " ", text=" ")
    screenshot("03-study-back")
    app.go_back()
    app.show("browse")
    wait_until(lambda: sm.get_screen("browse").wait_idle())
    screenshot("04-browse")
    sm.get_screen("browse").card_info()
    pump(3)
    screenshot("05-card-info")
    press(27)
    app.show("editor", notetype="Cloze")
    pump(3)
    screenshot("06-add-cloze")
    app.go_back()
    app.go_back()
    app.show("import")
    pump(3)
    screenshot("07-import")
    app.go_back()
    app.show("settings", deck_id=decks.rows[0].id)
    pump(3)
    screenshot("08-settings")
    app.go_back()
    app.show("stats")
    stats_screen = sm.get_screen("stats")
    wait_until(lambda: stats_screen.shown and not stats_screen.loading)  # counted on a worker thread
    screenshot("09-stats")
    assert type_char


def test_dialogs_dark_theme_import_preview_finished_and_stats_with_data(make_app, tmp_path):
    from conftest import pump_for, tap

    def setup(col):
        spanish(col, 3)

    app = make_app(setup)
    sm = app.root
    decks = sm.get_screen("decks")
    decks.add_deck()
    pump_for(0.4)
    screenshot("10-add-deck-dialog")
    press(27)
    decks.delete_selected()
    screenshot("11-delete-deck-confirm")
    press(27)
    pump_for(0.4)
    type_char("s")
    for _ in range(4):
        press(32, " ", text=" ")
        type_char("3")
    study = sm.get_screen("study")
    while not study.finished:
        press(32, " ", text=" ")
        type_char("4")
    screenshot("12-study-finished")
    press(27)
    app.show("stats")
    stats_screen = sm.get_screen("stats")
    wait_until(lambda: stats_screen.shown and not stats_screen.loading)
    assert stats_screen.today_text.startswith("Studied ") and len(stats_screen.forecast) == 30
    screenshot("13-stats-with-reviews")
    app.go_back()
    app.set_theme("dark")
    type_char("s")
    screenshot("14-dark-decks-or-study")
    app.go_back()
    screenshot("15-dark-decks")
    app.set_theme("light")
    csv_file = tmp_path / "capitals.csv"
    csv_file.write_text("#deck:Capitals\nFrance,Paris\nItaly,Rome\n,no front\n", encoding="utf-8")
    app.show("import")
    imp = sm.get_screen("import")
    imp.ids.chooser.path = str(tmp_path)
    imp.chooser_selected([str(csv_file)])
    wait_until(lambda: imp.stage == "planned")
    screenshot("16-import-preview")
    tap(imp.ids.import_button)
    wait_until(lambda: imp.stage == "done")
    screenshot("17-import-done")
