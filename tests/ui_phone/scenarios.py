"""Scenarios for ``phone_run.py``: generator functions that drive the app and yield seconds to wait.

They record facts in ``phone.report``; the tests in this folder decide what is right.
"""

from __future__ import annotations

import sqlite3
import time

from kivy.metrics import Metrics

# Screens in the order a user meets them; each entry: (screen, how to enter it).
SCREEN_ORDER = ("decks", "study", "browse", "editor", "import", "settings", "stats")
SETTLE = 0.35  # seconds for layout triggers, RecycleViews and text textures to settle


def _db_reviews(app) -> int:
    # A separate read-only connection: counts only what the app has committed to disk.
    path = app.col.db_path
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT COUNT(*) FROM review").fetchone()[0]


def _first_deck_with_cards(app):
    rows = app.col.deck_tree(app.now())
    return next(r for r in rows if r.new + r.learning + r.review > 0)


def _dp_box(phone, widget) -> list[float]:
    x, y, r, t = phone.window_box(widget)
    d = Metrics.density
    return [round(x / d, 1), round(y / d, 1), round(r / d, 1), round(t / d, 1)]


def screens(phone):
    """Every screen (and the study screen's answer side, a menu and a dialog): screenshot + geometry."""
    app = phone.app
    yield SETTLE
    deck = _first_deck_with_cards(app)
    note_id = app.col.search(deck=deck.name, now=app.now())[0].note_id
    for name in SCREEN_ORDER:
        kwargs = {"study": {"deck_id": deck.id}, "editor": {"note_id": note_id},
                  "settings": {"deck_id": deck.id}}.get(name, {})  # fmt: skip
        app.show(name, **kwargs)
        yield SETTLE
        # The import screen's file list reads its folder on a worker thread: wait for it.
        for _ in range(100):
            if not any(getattr(w, "listing", False) for w in phone.walk()):
                break
            yield 0.1
        for _ in range(100):  # the stats screen counts on a worker thread
            if name != "stats" or not app.root.get_screen("stats").loading:
                break
            yield 0.1
        for _ in range(150):  # so does the browse list's search (a frame is slow on a big phone screen)
            if name != "browse" or app.root.get_screen("browse").selected_card_id:
                break
            yield 0.1
        phone.report["screens"][name] = phone.layout_problems()
        phone.report["screens"][name]["current"] = app.root.current
        yield from phone.screenshot(name)
        if name == "study":
            study = app.root.get_screen("study")
            study.reveal()
            yield SETTLE
            phone.report["screens"]["study-answer"] = phone.layout_problems()
            phone.report["answer_buttons_dp"] = {k: _dp_box(phone, study.ids[k]) for k in ("again", "hard", "good", "easy")}
            yield from phone.screenshot("study-answer")
        if name == "browse":
            browse = app.root.get_screen("browse")
            if browse.selected_card_id:
                browse.toggle_suspend()  # the longest label of its bar: "Unsuspend"
                yield SETTLE
                phone.report["screens"]["browse-suspended"] = phone.layout_problems()
                phone.report["browse_suspend_label"] = browse.selection_suspended
                yield from phone.screenshot("browse-suspended")
                browse.toggle_suspend()
                yield SETTLE
        if name == "decks":
            bar = app.root.get_screen("decks").ids.bar
            phone.report["decks_bar_narrow"] = bar.narrow
            if bar.narrow:
                menu_button = bar.ids.action_box.children[0]
                phone.tap(menu_button)
                yield SETTLE
                phone.report["screens"]["decks-menu"] = phone.layout_problems()
                yield from phone.screenshot("decks-menu")
                phone.key(27)  # the back key closes the menu first
                yield SETTLE
                phone.report["menu_closed_by_back"] = app.root.current == "decks" and _no_modal()
            app.root.get_screen("decks").add_deck()  # a dialog with a text field and buttons
            yield SETTLE
            phone.report["screens"]["decks-dialog"] = phone.layout_problems()
            yield from phone.screenshot("decks-dialog")
            phone.key(27)
            yield SETTLE
    app.go_back()


def _no_modal() -> bool:
    from flashcards.ui.widgets import open_modal

    return open_modal() is None


def _after_guard(*buttons, limit=30.0):
    """Wait (letting the app run) until the answer guard of ``buttons`` is over.

    The guard is a deadline on Kivy's clock (``Clock.get_time()``, the current frame's time).
    """
    from kivy.clock import Clock

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and any(Clock.get_time() <= b.guard_until + 0.05 for b in buttons):
        yield 0.05


def touch_study(phone):
    """Tap-to-reveal, the answer guard, double taps, the back key, pause/resume, through real touches.

    Timing is by frames and by the guard's own deadline, never by fixed sleeps: the machine may be
    slow (a frame can take seconds here under load), and that must not decide the outcome.
    """
    app = phone.app
    r = phone.report
    yield SETTLE
    deck = _first_deck_with_cards(app)
    decks = app.root.get_screen("decks")
    # Reach the study screen with the finger: a tap selects a deck row, a tap on the selected row studies.
    for _ in range(2):
        row = next(w for w in phone.find_all() if type(w).__name__ == "DeckRowView" and w.deck_id == deck.id)
        phone.tap(row)
        yield SETTLE
        if app.root.current == "study":
            break
    r["study_reached_by_taps"] = app.root.current == "study"
    study = app.root.get_screen("study")
    answer_buttons = [study.ids[k] for k in ("again", "hard", "good", "easy")]
    reviews = _db_reviews(app)
    first = study.card.card_id

    # 1. A tap on the card (not on the button) reveals it.
    yield from _after_guard(study.ids.show_button)
    phone.tap(study.ids.card_view)
    r["revealed_by_card_tap"] = study.revealed

    # 2. The answer guard: taps on "Good" in the reveal's frame and right after the buttons appear are ignored.
    phone.tap(study.ids.good)
    r["answered_in_reveal_frame"] = study.card.card_id != first or _db_reviews(app) != reviews
    yield 0  # the next frame: the answer buttons are on screen now
    phone.tap(study.ids.good)
    r["answered_first_frame_after_reveal"] = study.card.card_id != first or _db_reviews(app) != reviews

    # 3. Double taps answer once: two taps in one frame, then two taps one frame apart.
    yield from _after_guard(*answer_buttons)
    phone.tap(study.ids.good)
    phone.tap(study.ids.good)
    yield SETTLE
    r["reviews_after_same_frame_double_tap"] = _db_reviews(app) - reviews
    r["revealed_after_same_frame_double_tap"] = study.revealed
    second = study.card.card_id if study.card else None
    r["moved_to_next_card"] = second is not None and second != first
    yield from _after_guard(study.ids.show_button)
    phone.tap(study.ids.card_view)
    yield from _after_guard(*answer_buttons)
    good_spot = phone.window_box(study.ids.good)
    phone.tap(study.ids.good)
    yield 0  # the next card is on screen; the finger comes down again on the same spot
    phone.tap(None, at=((good_spot[0] + good_spot[2]) / 2, (good_spot[1] + good_spot[3]) / 2))
    phone.tap(study.ids.show_button)
    yield SETTLE
    r["reviews_after_spaced_double_tap"] = _db_reviews(app) - reviews
    r["revealed_after_spaced_double_tap"] = study.revealed

    # 4. The "Show answer" button works after its guard; the answer buttons sit at the bottom.
    yield from _after_guard(study.ids.show_button)
    phone.tap(study.ids.show_button)
    yield SETTLE
    r["revealed_by_button"] = study.revealed
    r["answer_buttons_dp"] = {k: _dp_box(phone, study.ids[k]) for k in ("again", "hard", "good", "easy")}
    r["window_dp"] = [phone.window.width / Metrics.density, phone.window.height / Metrics.density]
    yield from phone.screenshot("study-answer")

    # 5. Pause (the phone switches apps) keeps the app alive; resume shows the same card.
    card_before = study.card.card_id
    r["on_pause_returns"] = app.on_pause()
    r["pause_dispatch_returns"] = app.dispatch("on_pause")
    app.dispatch("on_resume")
    yield SETTLE
    r["same_screen_after_resume"] = app.root.current
    r["same_card_after_resume"] = study.card is not None and study.card.card_id == card_before

    # 6. The back key (27) goes back one screen and never quits; Kivy's own key-27 handler is not reached.
    reached_kivy = []

    def on_keyboard(_window, key, *_args):
        if key == 27:
            reached_kivy.append(key)

    phone.window.bind(on_keyboard=on_keyboard)
    r["back_handled"] = phone.key(27)
    yield SETTLE
    r["after_back"] = app.root.current
    r["back_at_root_handled"] = phone.key(27)
    yield SETTLE
    r["after_back_at_root"] = app.root.current
    r["kivy_key27_handler_reached"] = len(reached_kivy)
    from kivy.app import App

    r["app_still_running"] = App.get_running_app() is app and app.root is not None
    r["decks_selected_deck"] = decks.selected_deck_id() == deck.id
    yield from phone.screenshot("decks-after-back")







def desktop_picker(phone):
    """The picker's desktop fallback (a popup with Kivy's file chooser) at phone size."""
    import tempfile
    from pathlib import Path

    from flashcards.ui.android_picker import pick_import_file

    r = phone.report
    yield SETTLE
    folder = Path(tempfile.mkdtemp(prefix="picker-"))
    (folder / "verbs.csv").write_text("front,back\nser,to be\n", encoding="utf-8")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8")
    picked, cancelled = [], []

    popup = pick_import_file(picked.append, lambda: cancelled.append(True), start_dir=folder)
    yield SETTLE
    r["listed"] = sorted(Path(p).name for p in popup.chooser.files if Path(p).is_file())
    r["import_disabled_before_choice"] = popup.import_button.disabled
    phone.report["screens"]["picker"] = phone.layout_problems()
    yield from phone.screenshot("picker")
    phone.tap(popup.cancel_button)
    phone.tap(popup.cancel_button)
    yield SETTLE
    r["cancelled"] = len(cancelled)

    popup = pick_import_file(picked.append, lambda: cancelled.append(True), start_dir=folder)
    yield SETTLE
    popup.chooser.selection = [str(folder / "verbs.csv")]
    yield SETTLE
    r["import_enabled_after_choice"] = not popup.import_button.disabled
    phone.tap(popup.import_button)
    phone.tap(popup.import_button)
    yield SETTLE
    r["picked"] = [Path(p).name for p in picked]
    r["cancelled_after_pick"] = len(cancelled)
    r["popup_closed"] = popup.parent is None
