"""Studying through the real window: keyboard and touch, undo, reveal, the answer guard, shortcuts."""

from __future__ import annotations

import sqlite3
import time

from conftest import press, pump, pump_for, tap, type_char, wait_until
from seed import WORDS, mixed_scripts, spanish

from flashcards.ui import study_screen
from flashcards.ui.study_screen import GUARD_SECONDS

SPACE, ENTER, ESCAPE = 32, 13, 27


def reviews_on_disk(app) -> int:
    """Answers committed to the database file, read through a separate connection."""
    con = sqlite3.connect(app.col.db_path)
    try:
        return con.execute("SELECT COUNT(*) FROM review WHERE rating BETWEEN 1 AND 4").fetchone()[0]
    finally:
        con.close()


def start_study_by_keyboard(app):
    assert app.root.current == "decks"
    type_char("s")  # studies the selected deck: the first one with cards due
    assert app.root.current == "study"
    return app.root.get_screen("study")


def test_study_five_cards_by_keyboard(make_app):
    app = make_app(spanish)
    study = start_study_by_keyboard(app)
    assert study.deck_name == "Spanish"
    seen = []
    for rating in ("3", "3", "4", "1", "2"):
        assert not study.revealed
        seen.append(study.card.card_id)
        press(SPACE, " ", text=" ")
        assert study.revealed
        assert all(study.intervals)
        type_char(rating)
    assert reviews_on_disk(app) == 5
    assert len(set(seen)) == 5  # five different cards came up
    con = sqlite3.connect(app.col.db_path)
    ratings = [r[0] for r in con.execute("SELECT rating FROM review ORDER BY id")]
    durations = [r[0] for r in con.execute("SELECT duration_ms FROM review ORDER BY id")]
    con.close()
    assert ratings == [3, 3, 4, 1, 2]
    assert all(d > 0 for d in durations)  # the answer time is recorded


def test_study_five_cards_by_touch(make_app):
    app = make_app(spanish)
    decks = app.root.get_screen("decks")
    rows = [r for r in app.root.get_screen("decks").ids.rv.children[0].children if r.name == "Spanish"]
    tap(rows[0])  # already selected: a second tap studies it
    assert app.root.current == "study"
    study = app.root.get_screen("study")
    assert decks.selected_row().name == "Spanish"
    for _ in range(5):
        wait_until(study.ids.show_button.guard_over)
        tap(study.ids.show_button)
        assert study.revealed
        wait_until(study.ids.good.guard_over)
        tap(study.ids.good)
        assert not study.revealed
    assert reviews_on_disk(app) == 5


def test_tap_card_reveals_and_the_answer_guard_stops_double_taps(make_app, monkeypatch):
    # A longer guard than the real one, so that slow offscreen frames cannot outlast it.
    monkeypatch.setattr(study_screen, "GUARD_SECONDS", 2.0)
    app = make_app(spanish)
    study = start_study_by_keyboard(app)
    first = study.card.card_id
    tap(study.ids.card_view)  # tap anywhere on the card
    assert study.revealed
    tap(study.ids.again)  # too soon after the answer appeared: ignored
    assert reviews_on_disk(app) == 0 and study.revealed
    wait_until(study.ids.good.guard_over)
    tap(study.ids.good)
    tap(study.ids.good)  # the second tap of a double tap lands on "Show answer": ignored too
    assert reviews_on_disk(app) == 1
    assert not study.revealed and study.card.card_id != first


def test_undo_again_and_again(make_app):
    app = make_app(spanish)
    study = start_study_by_keyboard(app)
    first = study.card.card_id
    for _ in range(2):
        press(SPACE, " ", text=" ")
        type_char("3")
    second_next = study.card.card_id
    assert reviews_on_disk(app) == 2
    press(122, "z", ["ctrl"])
    assert reviews_on_disk(app) == 1
    assert study.card.card_id != second_next and not study.revealed
    press(122, "z", ["ctrl"])
    assert reviews_on_disk(app) == 0
    assert study.card.card_id == first
    assert study.count_new == len(WORDS) + 1


def test_shortcuts_bury_suspend_edit_and_shifted_keys(make_app):
    app = make_app(spanish)
    study = start_study_by_keyboard(app)
    c1 = study.card.card_id
    type_char("-")  # bury
    assert app.col.card_columns(c1)["buried_until"] > 0
    c2 = study.card.card_id
    assert c2 != c1
    type_char("@")  # Shift+2: suspends; must not answer "Hard" (the key is '2')
    assert app.col.card_columns(c2)["suspended"] == 1
    assert reviews_on_disk(app) == 0
    c3 = study.card.card_id
    type_char("e")
    assert app.root.current == "editor"
    editor = app.root.get_screen("editor")
    assert editor.mode == "edit" and editor.note_id == study.card.note_id
    editor.set_field(1, "la casa (edited)")
    editor.ids.fields.children[0].ids.input.focus = True
    type_char("s")  # typed into the field, not a shortcut
    press(ESCAPE)  # leaves the editor without saving (Escape = back)
    assert app.root.current == "study" and study.card.card_id == c3
    # Ctrl+Z undoes the suspend, then the bury.
    press(122, "z", ["ctrl"])
    assert app.col.card_columns(c2)["suspended"] == 0
    press(122, "z", ["ctrl"])
    assert app.col.card_columns(c1)["buried_until"] == 0


def test_escape_goes_back_and_never_quits_ctrl_q_quits(make_app, monkeypatch):
    app = make_app(spanish)
    stopped = []
    monkeypatch.setattr(app, "stop", lambda *a: stopped.append(True))
    start_study_by_keyboard(app)
    press(ESCAPE)
    assert app.root.current == "decks"
    press(ESCAPE)  # nothing to go back to: stays, does not quit
    press(ESCAPE)
    assert app.root.current == "decks" and not stopped
    press(113, "q", ["ctrl"])
    assert stopped == [True]


def test_edit_from_study_shows_the_edited_card(make_app):
    app = make_app(spanish)
    study = start_study_by_keyboard(app)
    type_char("e")
    editor = app.root.get_screen("editor")
    editor.set_field(0, "la casa grande")
    tap(editor.ids.save_button)
    assert app.root.current == "study"
    assert "la casa grande" in study.ids.card_view.ids.content.children[-1].text


def test_finished_screen_says_when_next_card_is_due(make_app):
    app = make_app(lambda col: spanish(col, 1))
    app.show("study", deck_id=app.root.get_screen("decks").rows[0].id)
    study = app.root.get_screen("study")
    for _ in range(10):
        if study.finished:
            break
        press(SPACE, " ", text=" ")
        type_char("4")  # Easy graduates a new card at once
    assert "finished this deck" in study.finished_text
    assert "next card is due in" in study.finished_text
    press(ENTER, "\r")
    assert app.root.current == "decks"


def test_mixed_scripts_long_fields_and_literal_markup(make_app):
    app = make_app(mixed_scripts)
    app.show("study", deck_id=app.root.get_screen("decks").rows[0].id)
    study = app.root.get_screen("study")
    texts = []
    for _ in range(3):
        press(SPACE, " ", text=" ")
        labels = [w for w in study.ids.card_view.ids.content.children if hasattr(w, "markup")]
        texts.append((study.card.note_id, [w.text for w in labels], labels))
        type_char("3")
    by_len = max(texts, key=lambda t: sum(len(x) for x in t[1]))
    assert len(by_len[1]) > 10  # the long field is cut into many labels
    assert all(lbl.texture_size[1] < 4096 for lbl in by_len[2])
    joined = "\n".join(x for t in texts for x in t[1])
    assert "&bl;b&br;not bold&bl;/b&br;" in joined
    assert "[font=FCCJK]" in joined and "[font=FCHangul]" in joined and "[font=FCSymbols]" in joined
    pump()


def test_a_double_tap_delivered_late_still_answers_once(make_app):
    """Both taps of a double tap were made before the next card appeared; a slow frame delivers the
    second one after the guard's time on the clock: it is still ignored (the touch is older)."""
    from kivy.tests import UnitTestTouch

    app = make_app(spanish)
    study = start_study_by_keyboard(app)
    press(SPACE, " ", text=" ")
    wait_until(study.ids.good.guard_over)
    spot = study.ids.good.to_window(*study.ids.good.center)
    first, second = UnitTestTouch(*spot), UnitTestTouch(*spot)  # the finger, twice in quick succession
    first.touch_down()
    first.touch_up()
    pump_for(0.1)
    assert reviews_on_disk(app) == 1 and not study.revealed
    pump_for(GUARD_SECONDS + 0.1)  # the frame that delivers the second tap comes late
    second.touch_down()
    second.touch_up()
    pump(3)
    assert not study.revealed and reviews_on_disk(app) == 1


def test_the_guard_counts_from_the_frame_that_shows_the_buttons(make_app):
    """On a slow machine the frame that draws the answer buttons can take longer than the guard:
    a tap in the first frame after they appear is still ignored, and one after the guard answers."""
    from kivy.core.window import Window
    from kivy.tests import UnitTestTouch

    app = make_app(spanish)
    study = start_study_by_keyboard(app)
    wait_until(study.ids.show_button.guard_over)
    slow = []

    def slow_draw(*_):
        if study.revealed and not slow:
            slow.append(True)
            time.sleep(GUARD_SECONDS + 0.2)  # the frame showing the buttons takes longer than the guard

    Window.bind(on_draw=slow_draw)
    try:
        study.reveal()
        assert study.ids.good.guard_until == float("inf")  # no tap gets through before the frame is drawn
        pump(1)  # the slow frame: drawn and flipped
        assert slow and study.ids.good.guard_until < float("inf")
    finally:
        Window.unbind(on_draw=slow_draw)
    spot = study.ids.good.to_window(*study.ids.good.center)
    t = UnitTestTouch(*spot)  # the first frame after the buttons appeared
    t.touch_down()
    t.touch_up()
    pump(2)
    assert study.revealed and reviews_on_disk(app) == 0
    wait_until(study.ids.good.guard_over)
    tap(study.ids.good)
    assert reviews_on_disk(app) == 1 and not study.revealed
