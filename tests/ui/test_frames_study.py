"""Studying renders as little as it can in the frame that answers a key: the back and the answer
buttons are rendered while the front is read, labels are used again, the study screen is laid out
before it is first shown, and the write-ahead log is checkpointed off the main thread."""

from __future__ import annotations

from datetime import timedelta

from conftest import pump, pump_for, screenshot, type_char, wait_until
from seed import NOW, spanish

SPACE = 32


def _card_labels(study):
    from flashcards.ui.widgets import CardLabel

    return [w for w in reversed(study.ids.card_view.ids.content.children) if isinstance(w, CardLabel)]


def _buttons(study):
    return [study.ids[k] for k in ("again", "hard", "good", "easy")]


def _reveal():
    from conftest import press

    press(SPACE, " ", text=" ")


def _ready_for_reveal(study) -> bool:
    return study.ids.card_view.prepared() and all(study.intervals)


def test_the_back_and_the_intervals_are_rendered_before_the_reveal(make_app):
    from flashcards.ui.widgets import fmt_interval

    app = make_app(spanish)
    type_char("s")
    study = app.root.get_screen("study")
    view = study.ids.card_view
    wait_until(lambda: _ready_for_reveal(study))
    assert not study.revealed
    front = _card_labels(study)
    assert [lbl.text for lbl in front] == ["la casa"]
    ready = dict(view._ready)  # rendered ahead, not on screen
    assert any("the house" in markup for markup in ready)
    assert all(lbl.texture is not None and lbl.texture_size[1] > 0 for lbl in ready.values())
    before = {id(lbl): lbl.texture for lbl in [*front, *ready.values()]}
    buttons = {id(b): b.texture for b in _buttons(study)}
    # The hidden buttons already show the intervals answering would give now.
    ivl = study.session.intervals(study.card.card_id, app.now())
    assert study.intervals == [fmt_interval(ivl[k]) for k in (1, 2, 3, 4)]
    assert [b.interval for b in _buttons(study)] == study.intervals

    _reveal()
    assert study.revealed
    shown = _card_labels(study)
    assert [lbl.text for lbl in shown] == ["la casa", "the house"]
    assert shown[0] is front[0]
    for lbl in shown:  # every label on screen was rendered before the key: the same texture
        assert before.get(id(lbl)) is lbl.texture
    for b in _buttons(study):  # the buttons too
        assert buttons[id(b)] is b.texture
    screenshot("30-study-revealed-prepared")


def _one_review_card(col):
    """One card answered Easy at NOW: a review card, overdue by the time the tests run."""
    did = col.add_deck("Review")
    col.add_note("Basic", ["la casa", "the house"], [], deck_id=did, now=NOW)
    session = col.study(did)
    session.answer(session.next_card(NOW).card_id, 4, NOW)
    return did


def test_the_reveal_shows_fresh_intervals_when_time_moved_on(make_app, monkeypatch):
    from flashcards.ui.widgets import fmt_interval

    app = make_app(_one_review_card)
    type_char("s")
    study = app.root.get_screen("study")
    wait_until(lambda: _ready_for_reveal(study))
    prepared = list(study.intervals)
    card = study.card.card_id
    later = app.now() + timedelta(days=200)  # the card read for a long time: its memory decayed more
    monkeypatch.setattr(app, "now", lambda: later)
    _reveal()
    ivl = study.session.intervals(card, later)
    assert study.intervals == [fmt_interval(ivl[k]) for k in (1, 2, 3, 4)]
    assert study.intervals != prepared
    assert [b.interval for b in _buttons(study)] == study.intervals


def test_a_new_font_size_drops_text_rendered_ahead(make_app):
    from kivy.metrics import sp

    app = make_app(spanish)
    type_char("s")
    study = app.root.get_screen("study")
    wait_until(lambda: _ready_for_reveal(study))
    app.set_font_size(30)
    pump(2)
    _reveal()
    shown = _card_labels(study)
    assert [lbl.text for lbl in shown] == ["la casa", "the house"]
    assert all(lbl.font_size == sp(30) for lbl in shown)
    # Rendered at that size: the line is taller than at the default 18 sp.
    assert all(lbl.texture_size[1] >= sp(30) for lbl in shown)


def test_labels_are_kept_across_cards_and_sides(make_app):
    app = make_app(spanish)
    type_char("s")
    study = app.root.get_screen("study")
    seen = set()
    for _ in range(5):
        wait_until(lambda: _ready_for_reveal(study))
        seen |= {id(w) for w in _card_labels(study)}
        _reveal()
        seen |= {id(w) for w in _card_labels(study)}
        front, back = study.card.rendered.front, study.card.rendered.back
        assert front and back
        texts = [w.text for w in _card_labels(study)]
        assert len(texts) == 2 and texts[0] != texts[1]
        type_char("3")
    # Five cards, two sides each: a handful of labels, not one or more per side.
    assert len(seen) <= 4


def test_the_study_screen_is_laid_out_before_it_is_first_shown(make_app):
    app = make_app(spanish)
    pump_for(1.2)  # the warm-up after start builds the study screen
    assert app.root.has_screen("study")
    study = app.root.get_screen("study")
    show = study.ids.show_button
    texture = show.texture
    assert show.width > 600  # the window's width, not Kivy's default 100 px
    type_char("s")
    assert app.root.current == "study"
    assert show.texture is texture  # not rendered again in the first frame of studying


def test_answers_are_checkpointed_on_a_worker_and_look_like_no_outside_change(make_app, monkeypatch):
    from flashcards.ui import study_screen

    monkeypatch.setattr(study_screen, "CHECKPOINT_EVERY", 2)
    app = make_app(spanish)
    type_char("s")
    study = app.root.get_screen("study")
    app.col.data_version_changed()  # from here on, only other connections' commits count
    for _ in range(2):
        _reveal()
        type_char("3")
    wait_until(lambda: study.checkpointer.idle() and study.checkpointer.last_result is not None)
    busy, log_pages, copied = study.checkpointer.last_result
    assert busy == 0 and log_pages > 0 and copied == log_pages
    assert not app.col.data_version_changed()  # the session's queue is not rebuilt for it
    assert app.col.study(study.deck_id) is not None
    reviews = app.col.db.connection().execute("SELECT COUNT(*) FROM review").fetchone()[0]
    assert reviews == 2


def test_a_theme_change_restyles_shown_and_prepared_text(make_app):
    app = make_app(spanish)
    type_char("s")
    study = app.root.get_screen("study")
    wait_until(lambda: _ready_for_reveal(study))
    app.set_theme("dark")
    pump(2)
    _reveal()
    shown = _card_labels(study)
    assert [lbl.text for lbl in shown] == ["la casa", "the house"]
    assert all(list(lbl.color) == list(app.c_text) for lbl in shown)
    screenshot("32-study-dark-revealed")
    app.set_theme("light")
