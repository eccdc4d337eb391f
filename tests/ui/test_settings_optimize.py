"""Deck settings' personal scheduling in a real window: fitting FSRS parameters to a deck's history
(on a worker thread), applying them, the phone's message, the retention advisor's curve, and the
screen's layout (Save always visible, hints wrapped)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import pump, screenshot, tap, wait_until
from core_helpers import SYNTH_START, synthetic_history
from fsrs.scheduler import DEFAULT_PARAMETERS

from flashcards import optimizer

START = SYNTH_START
# A learner whose memory is not the defaults' (higher initial stabilities, steeper forgetting).
TRUE = list(DEFAULT_PARAMETERS)
TRUE[0:4] = [0.8, 2.5, 6.0, 20.0]
TRUE[8] = 1.3
TRUE[20] = 0.45
N_CARDS = 80


def _study(col) -> int:
    """Deck "Syn": N_CARDS cards answered 8 times each through the study session, recall drawn from
    FSRS with TRUE and the next review at 0.4-2.5x the model's interval; returns the deck id."""
    did = col.add_deck("Syn")
    for i in range(N_CARDS):
        col.add_note("Basic", [f"q{i}", f"a{i}"], deck_id=did, now=START - timedelta(days=1))
    card_ids = sorted(r.card_id for r in col.search(deck="Syn"))
    answers = [(t, card_ids[k], rating) for k, t, rating in synthetic_history(tuple(TRUE), N_CARDS, seed=7)]
    session = col.study(did)
    for t, cid, rating in sorted(answers):
        session.answer(cid, rating, now=t)
    return did


def tap_in_view(settings, widget) -> None:
    """Scroll the settings page until ``widget`` shows, then tap it through the window."""
    settings.ids.scroll.scroll_to(widget, animate=False)
    pump(3)
    assert _inside_window(widget)
    tap(widget)


@pytest.fixture(scope="module")
def studied_template(tmp_path_factory):
    from flashcards.collection import Collection

    path = tmp_path_factory.mktemp("studied") / "data"
    with Collection.open(path) as c:
        _study(c)
        c.add_deck("Other")
    return path


@pytest.fixture
def studied_app(studied_template, tmp_path, make_app):
    """The app on a copy of the studied collection, showing the settings of deck "Syn"."""
    data = tmp_path / "studied"
    shutil.copytree(studied_template, data)
    app = make_app(data_dir=data)
    did = app.col.deck_id("Syn")
    app.show("settings", deck_id=did)
    pump(3)
    return app, app.root.get_screen("settings"), did


def test_too_little_history_says_the_minimum(studied_app):
    app, settings, did = studied_app
    tap_in_view(settings, settings.ids.optimize_button)
    wait_until(lambda: not settings.opt_busy and settings.opt_text and "Fitting" not in settings.opt_text)
    assert settings.opt_is_error and settings.plan is None
    assert "fitting needs at least 1,500" in settings.opt_text
    assert "Not enough history" in settings.opt_text
    assert app.col.deck_options(did).fsrs_parameters is None  # nothing stored
    assert settings.ids.opt_result.children == []


def test_optimize_shows_old_and_new_then_apply_stores_them(studied_app, monkeypatch):
    app, settings, did = studied_app
    monkeypatch.setattr(optimizer, "MIN_TRAINING_ITEMS", 300)  # a real fit on ~500 items
    states = []
    settings.bind(opt_busy=lambda _w, v: states.append(v))
    tap_in_view(settings, settings.ids.optimize_button)
    wait_until(lambda: not settings.opt_busy, timeout=60)
    assert states[:2] == [True, False]
    plan = settings.plan
    assert plan is not None and plan.fit.fitted, settings.opt_text
    assert plan.fit.previous == tuple(DEFAULT_PARAMETERS) and plan.fit.parameters != plan.fit.previous
    text = settings.opt_text
    assert f"Fitted to {plan.fit.n_reviews:,} reviews of {N_CARDS} cards" in text
    b, a = plan.evaluation_before, plan.evaluation_after
    assert f"log loss {b.log_loss:.4f} → {a.log_loss:.4f}" in text
    assert a.log_loss < b.log_loss  # fitted to a learner who is not the defaults
    ch = plan.change
    assert f"{ch.due_moved:,} of {ch.cards:,} studied cards move ({ch.earlier:,} earlier, {ch.later:,} later)" in text
    assert "Average interval" in text
    # the table: 21 parameter rows + a header, 4 columns; a changed value shows the new one
    grid = settings.ids.opt_result.children[-1]
    cells = [w.plain for w in reversed(grid.children)]
    assert len(cells) == 4 * 22 and cells[:4] == ["", "parameter", "current", "fitted"]
    assert cells[4:8] == ["w0", "initial stability, Again", f"{plan.fit.previous[0]:.4f}",
                          f"{plan.fit.parameters[0]:.4f}"]
    screenshot("settings_optimize_result")

    tap_in_view(settings, settings.apply_button)
    wait_until(lambda: not settings.opt_busy, timeout=60)
    assert not settings.opt_is_error, settings.opt_text
    assert settings.opt_text.startswith("Applied") and "rescheduled" in settings.opt_text
    stored = app.col.deck_options(did).fsrs_parameters
    assert stored == list(plan.fit.parameters)
    assert settings.params_text.startswith("Fitted: ") and f"{stored[0]:.3g}" in settings.params_text
    assert settings.plan is None and settings.ids.opt_result.children == []


def test_the_window_keeps_drawing_while_fitting_and_a_late_result_for_another_deck_is_dropped(
        studied_app, monkeypatch):
    import threading

    app, settings, did = studied_app
    monkeypatch.setattr(optimizer, "MIN_TRAINING_ITEMS", 300)
    gate = threading.Event()
    real = optimizer.plan_optimization
    calls = []

    def slow_plan(col, deck):  # the real fit, held back until the test has looked at the screen
        calls.append(deck)
        gate.wait(30)
        return real(col, deck)

    monkeypatch.setattr(optimizer, "plan_optimization", slow_plan)
    tap_in_view(settings, settings.ids.optimize_button)
    try:
        assert calls == ["Syn"] and settings.opt_busy and settings.ids.optimize_button.disabled
        spinner = settings.ids.opt_busy
        assert spinner.active and spinner.width > 0
        angle = spinner.angle
        pump(5)  # frames keep coming while the worker waits: the Kivy thread is not blocked
        assert spinner.angle != angle
        tap(settings.ids.optimize_button)  # disabled while busy: no second fit
        assert calls == ["Syn"]
        settings.ids.deck.text = "Other"  # the user picks another deck meanwhile
        pump(2)
        assert settings.deck_id == app.col.deck_id("Other") and not settings.opt_busy
    finally:
        gate.set()
    wait_until(lambda: not any(t.name == "settings-fsrs" for t in threading.enumerate()), timeout=60)
    pump(5)
    assert settings.plan is None and settings.opt_text == ""  # the fit of "Syn" is not shown for "Other"


def test_cancel_keeps_the_parameters(studied_app, monkeypatch):
    app, settings, did = studied_app
    monkeypatch.setattr(optimizer, "MIN_TRAINING_ITEMS", 300)
    tap_in_view(settings, settings.ids.optimize_button)
    wait_until(lambda: settings.plan is not None, timeout=60)
    tap_in_view(settings, settings.cancel_button)
    assert settings.plan is None and settings.opt_text.startswith("Not applied")
    assert app.col.deck_options(did).fsrs_parameters is None


def test_without_the_optimizer_the_button_explains(studied_app, monkeypatch):
    app, settings, did = studied_app
    monkeypatch.setattr(optimizer, "optimizer_available", lambda: False)
    monkeypatch.setattr(optimizer, "plan_optimization", lambda *a, **k: pytest.fail("must not fit"))
    tap_in_view(settings, settings.ids.optimize_button)
    assert not settings.opt_busy
    assert optimizer.MISSING_MESSAGE in settings.opt_text
    assert "runs on the desktop" in settings.opt_text and "exported packages" in settings.opt_text
    monkeypatch.setattr(optimizer, "deck_retention_advice", lambda *a, **k: pytest.fail("must not simulate"))
    tap_in_view(settings, settings.ids.advise_button)
    assert not settings.advice_busy and settings.advice is None
    assert optimizer.MISSING_MESSAGE in settings.advice_text
    screenshot("settings_optimize_unavailable")


def test_advisor_draws_the_curve_and_use_recommended_saves_it(studied_app):
    app, settings, did = studied_app
    app.col.set_deck_options(did, replace(app.col.deck_options(did), desired_retention=0.95))
    settings.load_deck()
    tap_in_view(settings, settings.ids.advise_button)
    wait_until(lambda: not settings.advice_busy, timeout=60)
    advice = settings.advice
    assert advice is not None, settings.advice_text
    assert [p.desired_retention for p in advice.points] == list(optimizer.RETENTION_GRID)
    assert f"Recommended desired retention: {advice.recommended:.2f}" in settings.advice_text
    chart = settings.ids.chart
    pump(3)
    assert chart.height > 100 and chart.opacity == 1
    assert len(chart.canvas.children) > 50  # axes, ticks, two curves, markers
    button = settings.ids.use_recommended
    assert button.text == f"Use recommended ({advice.recommended:.2f})"
    screenshot("settings_retention_advisor")
    assert advice.recommended != 0.95
    tap_in_view(settings, button)
    assert app.col.deck_options(did).desired_retention == advice.recommended
    assert settings.ids.retention.text == f"{advice.recommended:.2f}"
    assert settings.message.startswith("Saved") and "rescheduled" in settings.message


def _inside_window(widget) -> bool:
    from kivy.core.window import Window

    x, y = widget.to_window(widget.x, widget.y)
    return 0 <= x and 0 <= y and x + widget.width <= Window.width and y + widget.height <= Window.height


def test_save_stays_visible_and_hints_wrap(studied_app, monkeypatch):
    """In this process's window (1280x800; the phone shapes below run this test in their own process)."""
    from kivy.core.window import Window

    app, settings, did = studied_app
    name = f"{Window.width}x{Window.height}"
    monkeypatch.setattr(optimizer, "MIN_TRAINING_ITEMS", 300)
    tap_in_view(settings, settings.ids.optimize_button)
    wait_until(lambda: settings.plan is not None, timeout=60)
    pump(5)
    assert _inside_window(settings.ids.opt_text)  # the result is scrolled into view
    screenshot(f"settings_optimize_{name}")
    tap_in_view(settings, settings.ids.advise_button)
    wait_until(lambda: settings.advice is not None, timeout=60)
    pump(5)
    assert _inside_window(settings.ids.advice_text)
    save = settings.ids.save_button
    assert _inside_window(save)  # with the whole result and curve in the page, Save is on screen
    # every hint is shown whole: wrapped, not shortened
    rows = [w for w in settings.walk() if type(w).__name__ == "SettingRow" and w.hint]
    assert len(rows) >= 5
    for row in rows:
        hint = row.ids.row_hint
        assert not hint.shorten and hint.height >= hint.texture_size[1] > 0
        assert row.height >= row.ids.row_label.height + hint.height
    screenshot(f"settings_advisor_{name}")
    settings.ids.scroll.scroll_y = 1
    pump(3)
    screenshot(f"settings_top_{name}")
    tap(save)
    assert settings.message.startswith("Saved")


CHILD = "FLASHCARDS_SETTINGS_LAYOUT_CHILD"


@pytest.mark.skipif(bool(os.environ.get(CHILD)), reason="already the phone-shaped process")
@pytest.mark.parametrize(("px", "density"), [((720, 1280), 2.0), ((1080, 2400), 2.625)])
def test_layout_in_phone_shaped_windows(px, density):
    """The test above in a window of the phone's shape (360x640 and 412x915 dp): Kivy fixes the window
    size and density when imported, hence a process of its own."""
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, **{
        CHILD: "1", "KCFG_GRAPHICS_WIDTH": str(px[0]), "KCFG_GRAPHICS_HEIGHT": str(px[1]),
        "KIVY_METRICS_DENSITY": str(density), "KIVY_DPI": str(round(160 * density))})
    out = subprocess.run(
        [sys.executable, "-m", "pytest", str(Path(__file__)), "-q", "-p", "no:cacheprovider",
         "-k", "test_save_stays_visible_and_hints_wrap"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "1 passed" in out.stdout
