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
    pump(3)
    screenshot("09-stats")
    assert type_char
