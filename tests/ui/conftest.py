"""Real-window GUI tests: Kivy renders offscreen (SDL's offscreen driver + Mesa), no display needed.

Kivy reads its environment when first imported, so the settings come before any kivy import. One
window serves the whole process; each test builds a fresh app on it with its own data dir, drives
it with real key and touch events, and takes the app off the window afterwards.
"""

from __future__ import annotations

import os
import tempfile

os.environ["KIVY_NO_ARGS"] = "1"
os.environ["KIVY_NO_CONSOLELOG"] = "1"
os.environ["KIVY_NO_FILELOG"] = "1"
os.environ["KIVY_USE_DEFAULTCONFIG"] = "1"
os.environ["KIVY_HOME"] = tempfile.mkdtemp(prefix="kivy-home-")
os.environ.setdefault("KIVY_METRICS_DENSITY", "1")
os.environ.setdefault("KIVY_DPI", "96")

import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from flashcards.ui.app import configure_kivy  # noqa: E402

configure_kivy((1280, 800))

from kivy.base import EventLoop  # noqa: E402

# Screenshots for people to look at (git-ignored); FLASHCARDS_SCREENSHOTS puts them elsewhere.
SCREENS_DIR = Path(os.environ.get("FLASHCARDS_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "screenshots" / "desktop")


def pump(frames: int = 2) -> None:
    """Advance Kivy by a few frames (clock, input, drawing)."""
    for _ in range(frames):
        EventLoop.idle()


def pump_for(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        EventLoop.idle()


def wait_until(predicate, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for the app")
        EventLoop.idle()
        time.sleep(0.005)
    pump(2)


def press(key: int, codepoint: str | None = None, modifiers=(), text: str | None = None) -> None:
    """A key as a real keyboard sends it: key down, the text it types (if any), key up."""
    from kivy.core.window import Window

    scancode = 0
    Window.dispatch("on_key_down", key, scancode, codepoint, list(modifiers))
    if text is not None:
        Window.dispatch("on_textinput", text)
    Window.dispatch("on_key_up", key, scancode)
    pump(2)


def type_char(ch: str) -> None:
    """A printable character: '@' is Shift+2 on the key, '@' in the text (as SDL2 delivers it)."""
    shifted = {"@": ("2", ["shift"]), "!": ("1", ["shift"]), "?": ("/", ["shift"])}
    base, mods = shifted.get(ch, (ch, []))
    press(ord(base), base, mods, text=ch)


def tap(widget) -> None:
    """A finger tap at the widget's centre, through the window's real hit-testing."""
    from kivy.tests import UnitTestTouch

    pump(3)  # let a screen that was just shown lay itself out
    t = UnitTestTouch(*widget.to_window(*widget.center))
    t.touch_down()
    pump(1)
    t.touch_up()
    pump(3)


def pixels(points):
    """The window's RGB (0-255) at each (x, y) window point, read from the frame just drawn."""
    from kivy.core.window import Window
    from kivy.graphics.opengl import GL_RGBA, GL_UNSIGNED_BYTE, glReadPixels

    got = []

    def grab(*_):
        Window.unbind(on_flip=grab)
        got.append([tuple(glReadPixels(int(x), int(y), 1, 1, GL_RGBA, GL_UNSIGNED_BYTE)[:3]) for x, y in points])

    Window.bind(on_flip=grab)
    Window.canvas.ask_update()
    wait_until(lambda: got, timeout=5)
    return got[0]


def screenshot(name: str) -> Path:
    """Save what the window shows now as ``SCREENS_DIR/name.png``."""
    from kivy.core.window import Window

    SCREENS_DIR.mkdir(parents=True, exist_ok=True)
    target = SCREENS_DIR / f"{name}.png"
    for old in SCREENS_DIR.glob(f"{name}*.png"):
        old.unlink()
    done = []

    def grab(*_):
        Window.unbind(on_flip=grab)
        # Window.screenshot reads the back buffer: take it in on_flip, before the buffers swap.
        done.append(Window.screenshot(str(target)))

    pump_for(0.4)  # let open/close animations of dialogs finish
    Window.bind(on_flip=grab)
    Window.canvas.ask_update()
    wait_until(lambda: done, timeout=5)
    written = Path(done[0])
    written.replace(target)
    return target


@pytest.fixture
def make_app(tmp_path):
    """Build the app on the shared window around a fresh data dir; ``setup(col)`` seeds it first."""
    from kivy.core.window import Window

    from flashcards.collection import Collection
    from flashcards.ui.app import FlashcardsApp
    from flashcards.ui.widgets import open_modal

    apps = []

    def make(setup=None, data_dir: Path | None = None):
        col = Collection.open(data_dir or tmp_path / "data")
        if setup is not None:
            setup(col)
        app = FlashcardsApp(col)
        app._run_prepare()
        if EventLoop.status != "started":
            EventLoop.start()
        app.dispatch("on_start")
        apps.append(app)
        pump(3)
        return app

    yield make
    for app in apps:
        while (m := open_modal()) is not None:
            m.dismiss(animation=False)
            pump(1)
        app.dispatch("on_stop")
        if app.root is not None:
            Window.remove_widget(app.root)
        app.col.close()
    # Frames still scheduled for the old widgets run in the next test, under its app.
