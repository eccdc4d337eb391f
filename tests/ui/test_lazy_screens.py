"""Start-up builds the first screen only; every other screen is built (kv rules, module, widget)
the first time it is shown, or ahead of it while the deck list is idle, and then works."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import press, pump, pump_for, tap, type_char, wait_until
from seed import spanish

from flashcards.collection import Collection
from flashcards.ui import app as app_module

ESCAPE, SPACE, DOWN = 27, 32, 274
SRC = Path(__file__).resolve().parents[2] / "src"
LATER_SCREENS = ("study", "browse", "editor", "import", "settings", "stats")


def back_to_decks(app) -> None:
    press(ESCAPE)
    if app.root.current != "decks":  # the first Escape left a focused text field
        press(ESCAPE)
    assert app.root.current == "decks"


def test_each_screen_is_built_when_first_shown_and_works(make_app, monkeypatch):
    # No warm-up in this test (it would build the study screen ahead of its first use).
    monkeypatch.setattr(app_module, "WARM_DELAY", 3600.0)
    app = make_app(spanish)
    sm = app.root
    decks = sm.get_screen("decks")
    assert sm.screen_names == ["decks"] and sm.current == "decks"
    assert app._warm_steps and app._warm_event is not None  # scheduled from the first frame

    # Study, by its shortcut: a card, revealed with Space, answered with 3: one review stored.
    with _built("study", sm):
        type_char("s")
    study = sm.get_screen("study")
    assert study.deck_name == "Spanish" and study.card is not None
    press(SPACE, " ", text=" ")
    assert study.revealed
    type_char("3")
    con = sqlite3.connect(app.col.db_path)
    try:
        assert con.execute("SELECT COUNT(*) FROM review").fetchone()[0] == 1
    finally:
        con.close()
    back_to_decks(app)

    with _built("browse", sm):
        type_char("b")
    browse = sm.get_screen("browse")
    wait_until(browse.wait_idle)
    assert len(browse.rows) == 9 and browse.status == "9 cards"
    back_to_decks(app)

    with _built("stats", sm):
        type_char("t")
    stats = sm.get_screen("stats")
    wait_until(lambda: stats.shown and not stats.loading)  # counted on a worker thread
    assert stats.today_text.startswith("Studied 1 card in") and len(stats.forecast) == 30
    back_to_decks(app)

    with _built("import", sm):
        type_char("i")
    imp = sm.get_screen("import")
    assert imp.stage == "choose" and Path(imp.ids.chooser.path).is_dir()
    back_to_decks(app)

    with _built("editor", sm):
        type_char("a")
    editor = sm.get_screen("editor")
    assert editor.mode == "add" and editor.ids.deck.text == "Spanish"
    assert len(editor.ids.fields.children) == 2  # Basic: Front, Back
    back_to_decks(app)

    # Settings through the Options button, tapped (the selected deck's options).
    press(DOWN)
    selected = decks.selected_row()
    assert selected.name == "Spanish::Verbs"
    options = next(w for w in decks.walk() if getattr(w, "text", None) == "Options")
    with _built("settings", sm):
        tap(options)
    settings = sm.get_screen("settings")
    assert settings.deck_id == selected.id and settings.ids.deck.text == "Spanish::Verbs"
    back_to_decks(app)

    assert sorted(sm.screen_names) == sorted(("decks", *LATER_SCREENS))
    # Shown again: the same screen objects, not built a second time.
    before = {name: sm.get_screen(name) for name in sm.screen_names}
    type_char("b")
    assert sm.get_screen("browse") is before["browse"]
    back_to_decks(app)


class _built:
    """``with _built(name, sm):`` the screen does not exist before the block and is shown after."""

    def __init__(self, name, sm):
        self.name, self.sm = name, sm

    def __enter__(self):
        assert self.name not in self.sm.screen_names, f"{self.name} was built before it was shown"
        return self

    def __exit__(self, exc_type, *_):
        if exc_type is None:
            pump(2)
            assert self.sm.current == self.name and self.name in self.sm.screen_names
        return False


CHILD = r"""
import gc, json, os, sys, time
from pathlib import Path
from flashcards.ui import app as ui
from kivy.clock import Clock
from kivy.lang import Builder

record = {}

def ui_state():
    ui_dir = str(Path(ui.__file__).parent)
    return {
        "screens": list(App.get_running_app().root.screen_names),
        "kv": sorted(Path(f).name for f in Builder.files if str(Path(f).parent) == ui_dir),
        "modules": sorted(m for m in sys.modules if m.startswith("flashcards.ui.") and m.endswith("_screen")),
        "gc": gc.isenabled(),
    }

from kivy.app import App

class Child(ui.FlashcardsApp):
    def on_start(self):
        super().on_start()
        from kivy.core.window import Window
        record["on_start"] = ui_state()
        decks = self.root.get_screen("decks")
        rv, bar = decks.ids.rv, decks.ids.bar
        def flipped(*_):
            record["frames"] = record.get("frames", 0) + 1
            if not rv.children or not rv.children[0].children:
                return  # the deck rows are not on the window yet
            Window.unbind(on_flip=flipped)
            record["first_frame"] = ui_state()
            record["first_frame"]["rows"] = sorted(row.name for row in rv.children[0].children)
            record["first_frame"]["bar"] = [b.text for b in reversed(bar.ids.action_box.children)]
            Clock.schedule_interval(warmed, 0.05)
        def warmed(_dt):
            if self._warm_steps:
                return None
            record["warm"] = ui_state()
            self.stop()
            return False
        Window.bind(on_flip=flipped)
        Clock.schedule_once(lambda dt: self.stop(), 60)  # a watchdog

gc_before = gc.isenabled()
ui.main(Path(sys.argv[1]), app_class=Child)
record["gc_after_main"] = gc.isenabled() == gc_before
print(json.dumps(record))
"""


def test_a_fresh_process_draws_the_first_screen_before_loading_the_others(tmp_path):
    data = tmp_path / "data"
    col = Collection.open(data)
    try:
        spanish(col)
    finally:
        col.close()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env["KIVY_HOME"] = str(tmp_path / "kivy-home")
    out = subprocess.run([sys.executable, "-c", CHILD, str(data)], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    record = json.loads(out.stdout.strip().splitlines()[-1])

    # The very first frame drawn is the whole first screen: the deck rows and the top bar's buttons.
    assert record["frames"] == 1
    first = record["first_frame"]
    assert first["rows"] == ["Spanish", "Verbs"]
    assert first["bar"] == ["Add deck", "Import", "Browse", "Stats", "Settings"]
    assert first["screens"] == ["decks"]
    assert first["kv"] == ["decks_screen.kv", "widgets.kv"]
    assert first["modules"] == ["flashcards.ui.decks_screen"]
    # main() holds back the cyclic GC while the window and the first screen are built ...
    assert record["on_start"]["gc"] is False
    # ... and the first frame turns it back on; the warm-up then builds the study screen, loads
    # the other screens' kv files and modules, and once no key was pressed for a while (none here)
    # builds those screens too, one per frame.
    warm = record["warm"]
    assert warm["gc"] is True
    assert warm["screens"] == ["decks", "study", *app_module.PRELOAD_SCREENS]
    screen_modules = sorted(m for m, _ in app_module.SCREENS.values())
    assert warm["kv"] == sorted([f"{m}.kv" for m in screen_modules] + ["widgets.kv", "widgets_more.kv"])
    assert warm["modules"] == [f"flashcards.ui.{m}" for m in screen_modules]
    assert record["gc_after_main"] is True


def test_other_screens_are_preloaded_only_while_the_deck_list_is_shown(make_app, monkeypatch):
    monkeypatch.setattr(app_module, "PRELOAD_RETRY", 0.05)
    monkeypatch.setattr(app_module, "PREBUILD_AFTER_INPUT", 2.0)  # longer than the loading takes
    app = make_app(spanish)
    type_char("s")  # studying at once, before the warm-up
    assert app.root.current == "study"
    # The study screen's steps run; the loading of the other screens waits (not in study frames).
    wait_until(lambda: app._warm_steps and all(idle for _, idle in app._warm_steps))
    pending = len(app._warm_steps)
    assert pending == 5 * len(app_module.PRELOAD_SCREENS) + 2  # kv, module; build, lay out, draw ahead
    pump_for(0.5)
    assert len(app._warm_steps) == pending and app.root.current == "study"
    back_to_decks(app)
    # Loaded, then built, but only once the keys have been quiet for PREBUILD_AFTER_INPUT.
    wait_until(lambda: all(idle == "quiet" for _, idle in app._warm_steps))
    assert app.root.screen_names == ["decks", "study"]
    press(DOWN)  # the user moves on the deck list: the building waits again
    pump_for(1.2)
    assert app.root.screen_names == ["decks", "study"]
    wait_until(lambda: not app._warm_steps)
    assert app.root.screen_names == ["decks", "study", *app_module.PRELOAD_SCREENS]
    type_char("b")  # built ahead: shown, not built again
    browse = app.root.get_screen("browse")
    assert app.root.current == "browse"
    wait_until(browse.wait_idle)
    assert len(browse.rows) == 9
