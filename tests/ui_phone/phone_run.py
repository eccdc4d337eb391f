"""Run the real app in a phone-shaped window and drive it with a scenario; one process per run.

``python tests/ui_phone/phone_run.py SCENARIO OUT_DIR``

The phone's size and density must be fixed before Kivy is imported (Kivy reads them once), so the
test starts this script in a subprocess with ``KIVY_METRICS_DENSITY``, ``KIVY_DPI``,
``KCFG_GRAPHICS_WIDTH``/``HEIGHT`` (pixels) and ``FLASHCARDS_HOME`` set (see ``phone.py``). The app is
started exactly as on the phone, through ``main.py``. ``SCENARIO`` names a generator function in
``scenarios.py``; it gets a :class:`Phone` and yields seconds to wait (the Kivy loop keeps running
in between). Whatever the scenario stores in ``phone.report`` is written to ``OUT_DIR/report.json``
with any exception, and screenshots go to ``OUT_DIR``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import traceback
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))  # main.py (it puts src/ on the path)
sys.path.insert(0, str(HERE))

from kivy.base import EventLoop  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.metrics import Metrics, dp  # noqa: E402
from kivy.uix.behaviors import ButtonBehavior, ToggleButtonBehavior  # noqa: E402
from kivy.uix.label import Label  # noqa: E402
from kivy.uix.modalview import ModalView  # noqa: E402
from kivy.uix.scrollview import ScrollView  # noqa: E402
from kivy.uix.spinner import Spinner  # noqa: E402
from kivy.uix.textinput import TextInput  # noqa: E402

import main as app_main  # noqa: E402

SCENARIO = sys.argv[1]
OUT = Path(sys.argv[2])
OUT.mkdir(parents=True, exist_ok=True)
TOUCH_MIN_DP = 48


class Phone:
    """What a scenario can do with the running app."""

    def __init__(self, app):
        self.app = app
        self.window = EventLoop.window
        self.report: dict = {
            "window_px": list(self.window.size),
            "density": Metrics.density,
            "window_dp": [round(self.window.width / Metrics.density), round(self.window.height / Metrics.density)],
            "screens": {},
            "shots": [],
        }
        self._shot = 0

    # -- finding widgets
    def walk(self, root=None):
        """Every widget under ``root`` (default: the window), depth first."""
        root = root or self.window
        stack = list(root.children)
        while stack:
            w = stack.pop()
            yield w
            stack.extend(w.children)

    def visible(self, widget) -> bool:
        """Shown on screen: attached to the window, not hidden with opacity/disabled-size tricks."""
        w = widget
        while w is not None and w is not self.window:
            if getattr(w, "opacity", 1) == 0:
                return False
            parent = w.parent
            if parent is None:
                return False
            # A ScreenManager keeps only the current screen(s) as children: detached screens have no parent.
            w = parent
        return w is self.window and widget.width > 0 and widget.height > 0

    def find_all(self, cls=None, text=None, root=None, visible_only=True):
        found = []
        for w in self.walk(root):
            if cls is not None and not isinstance(w, cls):
                continue
            if text is not None and text.lower() not in str(getattr(w, "text", "")).lower():
                continue
            if visible_only and not self.visible(w):
                continue
            found.append(w)
        return found

    def find(self, cls=None, text=None, root=None):
        found = self.find_all(cls, text, root)
        if not found:
            raise LookupError(f"no visible {cls.__name__ if cls else 'widget'} with text {text!r}")
        return found[0]

    def window_box(self, widget) -> tuple[float, float, float, float]:
        """(x, y, right, top) in window pixels."""
        x, y = widget.to_window(widget.x, widget.y)
        return x, y, x + widget.width, y + widget.height

    # -- input
    def tap(self, widget, at=None):
        """A finger tap at the widget's centre (or window point ``at``), through Kivy's hit-testing."""
        from kivy.tests import UnitTestTouch

        if at is None:
            x, y, r, t = self.window_box(widget)
            at = ((x + r) / 2, (y + t) / 2)
        touch = UnitTestTouch(*at)
        touch.touch_down()
        touch.touch_up()
        return touch

    def key(self, code: int, codepoint: str | None = None):
        """Press and release a key (27 = Escape = Android's back key). Returns what the handlers said."""
        handled = self.window.dispatch("on_key_down", code, 0, codepoint, [])
        self.window.dispatch("on_key_up", code, 0)
        return handled

    # -- evidence
    def screenshot(self, name: str):
        """Save what is on screen as ``NN-name.png``; use as ``yield from phone.screenshot(name)``.

        The pixels are read in ``on_flip``, after the frame is drawn and before the buffers swap:
        read between frames, the back buffer holds stale content (screens bleed into each other).
        """
        self._shot += 1
        target = OUT / f"{self._shot:02d}-{name}.png"
        done = []

        def capture(window):
            window.unbind(on_flip=capture)
            # Window.screenshot numbers files ("x0001.png") to avoid overwriting: a fresh name each time.
            done.append(window.screenshot(name=str(target)))

        self.window.bind(on_flip=capture)
        while not done:
            self.window.canvas.ask_update()  # Kivy draws (and flips) only when something changed
            yield 0
        self.report["shots"].append(Path(done[0]).name)

    def layout_problems(self, root=None) -> dict:
        """Geometry checks for the current screen: touch targets, clipping, overlaps, text overflow."""
        win_w, win_h = self.window.size
        min_px = dp(TOUCH_MIN_DP) - 0.5
        small, outside, overflow, overlaps, tofu, cut_buttons, cut_text = [], [], [], [], [], [], []
        targets = []
        # Layers are the window's children (screens, then dropdowns and dialogs on top). An open
        # dialog (ModalView) covers everything below it: only its layer and those above count.
        layers = list(self.window.children)  # index 0 is drawn last, on top
        modal_at = next((i for i, c in enumerate(layers) if isinstance(c, ModalView)), len(layers))
        for w in self.find_all(root=root):
            layer = _layer(w, self.window)
            if layer is None or layers.index(layer) > modal_at:
                continue  # hidden under a dialog
            if w.disabled and not isinstance(w, (ButtonBehavior, TextInput)):
                continue
            x, y, r, t = self.window_box(w)
            inside_scroll = any(isinstance(p, ScrollView) for p in _parents(w))
            name = _describe(w)
            if isinstance(w, (ButtonBehavior, ToggleButtonBehavior, TextInput)) and not inside_scroll:
                if w.width < min_px or w.height < min_px:
                    small.append(f"{name}: {w.width / Metrics.density:.0f}x{w.height / Metrics.density:.0f} dp")
                targets.append((name, (x, y, r, t), layer))
            if not inside_scroll and (x < -1 or y < -1 or r > win_w + 1 or t > win_h + 1):
                outside.append(f"{name}: ({x:.0f},{y:.0f})-({r:.0f},{t:.0f}) in {win_w}x{win_h}")
            if isinstance(w, Label) and w.text and not inside_scroll:
                w.texture_update()
                tw, th = w.texture_size
                if tw > w.width + 2 or th > w.height + 2:
                    overflow.append(f"{name}: text {tw:.0f}x{th:.0f} px in a {w.width:.0f}x{w.height:.0f} box")
            if isinstance(w, Label) and w.text and _shortened(w):
                # A button's label says what it does: cut short, it says nothing. A spinner shows a value.
                action = isinstance(w, ButtonBehavior) and not isinstance(w, Spinner)
                (cut_buttons if action else cut_text).append(name)
            if isinstance(w, Label) and w.text:
                missing = _missing_glyphs(w)
                if missing:
                    tofu.append(f"{name}: no glyph for {' '.join(f'U+{ord(c):04X}' for c in missing)} in {w.font_name}")
        for i, (a, box_a, layer_a) in enumerate(targets):
            for b, box_b, layer_b in targets[i + 1 :]:
                # A dropdown lies over the screen on purpose: only targets in one layer must not overlap.
                if layer_a is layer_b and _intersects(box_a, box_b):
                    overlaps.append(f"{a} overlaps {b}")
        return {
            "small_targets": small, "outside_window": outside, "text_overflow": overflow, "overlaps": overlaps,
            "missing_glyphs": tofu, "shortened_buttons": cut_buttons,
            "info_shortened_text": cut_text,  # ellipsised labels (deck names, titles): reported, not failed
        }  # fmt: skip


_MARKUP = re.compile(r"\[(/?)(\w+)(?:=([^\]]*))?\]")
_ENTITIES = {"&bl;": "[", "&br;": "]", "&amp;": "&"}


def _font_file(name: str) -> str | None:
    from kivy.core.text import LabelBase

    if name in LabelBase._fonts:
        return LabelBase._fonts[name][0]  # the regular face; the other faces share the cmap here
    return name if os.path.isfile(name) else None


_COVERAGE: dict[str, object] = {}


def _covers(font: str, ch: str) -> bool:
    from flashcards.ui import fonts

    path = _font_file(font)
    if path is None:
        return True  # unknown font: cannot tell
    if path not in _COVERAGE:
        _COVERAGE[path] = fonts.Coverage(fonts.read_cmap(path))
    return ord(ch) in _COVERAGE[path]


def _missing_glyphs(label) -> list[str]:
    """Characters the label would draw as boxes: not in the font each run is set in (SDL2_ttf has no fallback)."""
    pieces = []
    if label.markup:
        stack = [label.font_name]
        pos = 0
        for m in _MARKUP.finditer(label.text):
            pieces.append((stack[-1], label.text[pos : m.start()]))
            closing, tag, value = m.groups()
            if tag == "font":
                if closing and len(stack) > 1:
                    stack.pop()
                elif not closing:
                    stack.append(value)
            pos = m.end()
        pieces.append((stack[-1], label.text[pos:]))
    else:
        pieces.append((label.font_name, label.text))
    missing = []
    for font, text in pieces:
        if label.markup:
            for entity, char in _ENTITIES.items():
                text = text.replace(entity, char)
        for ch in text:
            if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Mn") or ch in missing:
                continue
            if not _covers(font, ch):
                missing.append(ch)
    return missing


def _shortened(label) -> bool:
    """Whether Kivy cut the label's text short with an ellipsis to make it fit."""
    if not label.shorten:
        return False
    label.texture_update()
    lines = getattr(label._label, "_cached_lines", None) or []
    shown = "".join(word.text for line in lines for word in line.words)
    full = _MARKUP.sub("", label.text) if label.markup else label.text
    if label.markup:
        for entity, char in _ENTITIES.items():
            full = full.replace(entity, char)
    return "".join(shown.split()) != "".join(full.split())


def _layer(w, window):
    """The window's child that holds ``w``."""
    while w.parent is not None and w.parent is not window:
        w = w.parent
    return w if w.parent is window else None


def _parents(w):
    p = w.parent
    while p is not None and p is not p.parent:
        yield p
        p = p.parent


def _describe(w) -> str:
    text = str(getattr(w, "text", "") or "").replace("\n", " ")[:30]
    return f"{type(w).__name__}({text!r})" if text else type(w).__name__


def _intersects(a, b, slack=1.0) -> bool:
    return a[0] < b[2] - slack and b[0] < a[2] - slack and a[1] < b[3] - slack and b[1] < a[3] - slack


def _run():
    import scenarios

    scenario = getattr(scenarios, SCENARIO)
    state = {"phone": None, "gen": None, "done": False}
    report_path = OUT / "report.json"

    def finish(error: str | None):
        if state["done"]:
            return
        state["done"] = True
        report = state["phone"].report if state["phone"] else {}
        report["error"] = error
        report_path.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
        from kivy.app import App

        app = App.get_running_app()
        if app is not None:
            app.stop()

    def step(_dt):
        try:
            wait = next(state["gen"])
        except StopIteration:
            finish(None)
            return
        except BaseException:  # noqa: BLE001 - into the report
            finish(traceback.format_exc())
            return
        Clock.schedule_once(step, wait or 0)

    def start(_dt):
        from kivy.app import App

        app = App.get_running_app()
        if app is None or app.root is None:
            Clock.schedule_once(start, 0.1)
            return
        state["phone"] = Phone(app)
        state["gen"] = scenario(state["phone"])
        step(0)

    def watchdog(_dt):
        finish(f"watchdog: scenario {SCENARIO} still running after {WATCHDOG_S} s")

    Clock.schedule_once(start, 0.3)
    Clock.schedule_once(watchdog, WATCHDOG_S)
    started = time.monotonic()
    status = app_main.main()
    if not report_path.exists():
        report_path.write_text(json.dumps({"error": f"app exited with {status} before the scenario ended"}))
    return time.monotonic() - started


WATCHDOG_S = float(os.environ.get("PHONE_WATCHDOG_S", "150"))  # frames take seconds on a loaded machine

if __name__ == "__main__":
    _run()
