"""The Kivy application: screen manager, navigation history, theme, keyboard, window size.

``main(data_dir)`` is what ``flashcards`` (no subcommand) and the Android entry point call. Kivy's
configuration must be set before its window exists, so this module imports only ``kivy.config`` and
``kivy.app`` at the top; the screens (which import widgets that create the window) load in ``build``.
"""

from __future__ import annotations

import gc
import os
from functools import partial
from pathlib import Path

os.environ.setdefault("KIVY_NO_ARGS", "1")  # our CLI owns sys.argv

from kivy.app import App  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.config import Config  # noqa: E402
from kivy.properties import (  # noqa: E402
    BooleanProperty,
    ColorProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.utils import platform  # noqa: E402

from flashcards.collection import Collection  # noqa: E402
from flashcards.timeutil import utc_now  # noqa: E402
from flashcards.ui import theme  # noqa: E402

UI_DIR = Path(__file__).resolve().parent
#: screen name -> (module, class); each module has a .kv file of the same name beside it.
SCREENS = {
    "decks": ("decks_screen", "DecksScreen"),
    "study": ("study_screen", "StudyScreen"),
    "browse": ("browse_screen", "BrowseScreen"),
    "editor": ("editor_screen", "EditorScreen"),
    "import": ("import_screen", "ImportScreen"),
    "settings": ("settings_screen", "SettingsScreen"),
    "stats": ("stats_screen", "StatsScreen"),
}
POLL_SECONDS = 5.0
#: The study screen is prepared this long after start, once the first screen is on the window.
WARM_DELAY = 0.3
#: Then these screens' kv files and modules are loaded, one per frame, while the deck list is shown
#: (their first opening then only builds the widgets); elsewhere the loading waits this long.
PRELOAD_SCREENS = ("browse", "settings", "import", "stats", "editor")
PRELOAD_RETRY = 1.0
#: Last, the same screens are built, one per frame, on the deck list and once nothing has been
#: typed or touched for this long: building one is a single frame of 30-130 ms (kv rules for
#: 30-110 widgets), which the first opening of Browse or Settings otherwise showed as a stall.
PREBUILD_AFTER_INPUT = 1.0
DEFAULT_SIZE = (1280, 800)


def configure_kivy(window_size: tuple[int, int] | None = None) -> None:
    """Settings that must be in place before the window is created."""
    Config.set("kivy", "exit_on_escape", "0")  # Escape (and Android's back key) means "back"
    Config.set("kivy", "log_level", Config.get("kivy", "log_level") or "info")
    Config.set("input", "mouse", "mouse,multitouch_on_demand")  # no red dots on right click
    Config.set("kivy", "keyboard_mode", "system")
    # A size given from outside (KCFG_GRAPHICS_WIDTH/HEIGHT, e.g. a phone-shaped test window) wins.
    if platform not in ("android", "ios") and not os.environ.get("KCFG_GRAPHICS_WIDTH"):
        w, h = window_size or DEFAULT_SIZE
        # Screenshots shear when the width is not a multiple of 4 (Kivy bug): keep it aligned.
        w = max(360, int(w) - int(w) % 4)
        Config.set("graphics", "width", str(w))
        Config.set("graphics", "height", str(max(480, int(h))))
        Config.set("graphics", "minimum_width", "360")
        Config.set("graphics", "minimum_height", "480")


class FlashcardsApp(App):
    """The app. Screens call the core through ``app.col``; ``app.now()`` is the clock they use."""

    title = "Flashcards"
    theme_name = StringProperty("light")
    font_size = NumericProperty(18)  # card text, in sp
    busy = BooleanProperty(False)  # a long job (import) is running: navigation waits
    col = ObjectProperty(None)
    history = ListProperty([])

    # Palette (see flashcards.ui.theme); .kv rules read these.
    c_bg = ColorProperty()
    c_surface = ColorProperty()
    c_surface2 = ColorProperty()
    c_border = ColorProperty()
    c_text = ColorProperty()
    c_muted = ColorProperty()
    c_accent = ColorProperty()
    c_on_accent = ColorProperty()
    c_select = ColorProperty()
    c_new = ColorProperty()
    c_learn = ColorProperty()
    c_review = ColorProperty()
    c_again = ColorProperty()
    c_hard = ColorProperty()
    c_good = ColorProperty()
    c_easy = ColorProperty()
    c_danger = ColorProperty()
    c_bar = ColorProperty()
    c_on_bar = ColorProperty()

    def __init__(self, col: Collection, prefetch: DeckTreePrefetch | None = None, **kw):
        super().__init__(**kw)
        self.col = col
        self.prefetch = prefetch
        self.apply_theme(col.get_setting("theme") or "light")
        self.font_size = int(col.get_setting("font_size") or 18)
        self._save_size = Clock.create_trigger(self._store_window_size, 1.0)
        self._poll_event = None
        self._warm_steps = []
        self._warm_event = None
        self._last_input = 0.0  # Clock time of the last key or touch (see _warm_next)
        #: main() paused the cyclic GC for the start-up: turned back on once the first frame is drawn.
        self.resume_gc = False

    # ------------------------------------------------------------------ time, theme

    def now(self):
        """The current UTC time (the one place the GUI reads the clock)."""
        return utc_now()

    def apply_theme(self, name: str) -> None:
        name = name if name in theme.PALETTES else "light"
        self.theme_name = name
        for key, value in theme.PALETTES[name].items():
            setattr(self, f"c_{key}", value)
        try:
            from kivy.core.window import Window

            Window.clearcolor = theme.PALETTES[name]["bg"]
        except Exception:  # noqa: BLE001 - no window yet (tests building widgets): nothing to colour
            pass

    @property
    def cloze_hex(self) -> str:
        return theme.CLOZE_HEX[self.theme_name]

    def set_theme(self, name: str) -> None:
        self.col.set_setting("theme", name)
        self.apply_theme(name)

    def set_font_size(self, size: int) -> None:
        size = max(12, min(40, int(size)))
        self.col.set_setting("font_size", size)
        self.font_size = size

    # ------------------------------------------------------------------ building

    def load_kv(self, filename=None):
        # No "flashcards.kv" by class name: build() loads the screens' .kv files explicitly.
        return False

    def build(self):
        from kivy.core.window import Window
        from kivy.uix.screenmanager import NoTransition, ScreenManager

        from flashcards.ui import fonts
        from flashcards.ui.widgets import use_fresh_label_textures

        use_fresh_label_textures()
        fonts.register_fonts()
        self._load_kv("widgets.kv")
        Window.clearcolor = self.c_bg
        sm = ScreenManager(transition=NoTransition())
        # Only the first screen is built now; the others (and their .kv) when first shown: start-up
        # time matters more than the few milliseconds a screen takes to build later.
        sm.add_widget(self._build_screen("decks"))
        self.history = ["decks"]
        Window.bind(on_key_down=self._on_key_down, on_textinput=self._on_textinput, on_resize=self._on_resize)
        return sm

    @staticmethod
    def _load_kv(name: str) -> None:
        from flashcards.ui.widgets import load_kv_once

        load_kv_once(name)

    @staticmethod
    def _import_screen_module(name: str):
        import importlib

        return importlib.import_module(f"flashcards.ui.{SCREENS[name][0]}")

    def _build_screen(self, name: str):
        module, cls = SCREENS[name]
        if name != "decks":
            self._load_kv("widgets_more.kv")  # fields, spinners, card view: not on the first screen
        self._load_kv(f"{module}.kv")
        return getattr(self._import_screen_module(name), cls)(name=name)

    def screen(self, name: str):
        """The screen called ``name``, built on first use."""
        if not self.root.has_screen(name):
            self.root.add_widget(self._build_screen(name))
        return self.root.get_screen(name)

    def on_start(self):
        from kivy.core.window import Window

        self.root.get_screen("decks").enter()
        self._layout_now()
        self._poll_event = Clock.schedule_interval(self._poll, POLL_SECONDS)
        # After the first screen is up, prepare the study screen a piece per frame (kv rules, the
        # screen, the card fonts): the first "study" otherwise spent 170-290 ms building and
        # rendering text for the first time, in the frame the card should appear.
        # Last, gc.freeze(): the ~70,000 objects alive by then (Kivy, the kv rules, the screens)
        # live as long as the app; the cyclic collector no longer walks them, which took 40-140 ms
        # per full collection, a frozen frame at random while studying.
        # Steps are (callable, only while the deck list is shown).
        study = [lambda: self._load_kv("widgets_more.kv"), lambda: self._load_kv("study_screen.kv"),
                 lambda: self.screen("study"), self._warm_card_fonts, self._warm_font_coverage, gc.freeze]
        self._warm_steps = [(step, False) for step in study]
        for name in PRELOAD_SCREENS:
            self._warm_steps += [(partial(self._load_kv, f"{SCREENS[name][0]}.kv"), True),
                                 (partial(self._import_screen_module, name), True)]
        self._warm_steps.append((gc.freeze, True))
        for name in PRELOAD_SCREENS:  # built, laid out at the window's size, drawn once off screen
            self._warm_steps += [(partial(self.screen, name), "quiet"), (partial(self._lay_out, name), "quiet"),
                                 (partial(self._draw_ahead, name), "quiet")]
        self._warm_steps.append((gc.freeze, "quiet"))
        Window.bind(on_flip=self._first_frame_drawn, on_key_down=self._note_input,
                    on_touch_down=self._note_input)

    def _layout_now(self):
        """Lay the first screen out at the window's size before the first frame.

        Left to the frame, every layout was first computed at Kivy's default 100x100: the labels
        measured and rendered at that size and again at the real one, the top bar built as the
        narrow-window menu (a Symbola glyph), and its action buttons only appeared in the second
        frame.
        """
        from kivy.core.window import Window

        self.root.size = Window.size
        self._lay_out("decks")

    def _lay_out(self, name: str) -> None:
        """Lay screen ``name`` out at the manager's size now (its labels then render in the next
        frame, off screen): a screen built ahead is shown without a first layout of all of it,
        45 ms and 30 ms of text for Settings, in the frame that shows it."""
        from kivy.uix.layout import Layout
        from kivy.uix.recyclelayout import RecycleLayout

        screen = self.root.get_screen(name)
        screen.size = self.root.size
        for widget in screen.walk(restrict=True):  # parents before their children
            # A RecycleView lays out its own rows (RecycleLayout.do_layout must not be called).
            if isinstance(widget, Layout) and not isinstance(widget, RecycleLayout):
                widget.do_layout()

    def _first_frame_drawn(self, *_):
        from kivy.core.window import Window

        Window.unbind(on_flip=self._first_frame_drawn)
        if self.resume_gc:
            self.resume_gc = False
            # What the first frame needed (the window, the kv rules, the first screen) stays as long
            # as the app: left out of later passes too, a full collection during the warm-up took
            # ~30 ms instead of walking them all.
            gc.freeze()
            gc.enable()
        # Counted from now, not from on_start: the clock's last tick before the first frame is
        # from before the window opened, so a delay scheduled in on_start ran in the first frame.
        if self._warm_steps and self._warm_event is None:
            self._warm_event = Clock.schedule_once(self._warm_next, WARM_DELAY)

    def _warm_next(self, _dt=None):
        from flashcards.ui.widgets import open_modal

        self._warm_event = None
        if not self._warm_steps or self.root is None or App.get_running_app() is not self:
            return
        step, idle_only = self._warm_steps[0]
        if idle_only and (self.root.current != "decks" or self.busy or open_modal() is not None):
            # Not in a frame of studying, browsing, importing or typing: later, on the deck list.
            self._warm_event = Clock.schedule_once(self._warm_next, PRELOAD_RETRY)
            return
        quiet_for = Clock.get_time() - self._last_input
        if idle_only == "quiet" and quiet_for < PREBUILD_AFTER_INPUT:
            # The user is at work on the deck list: a long frame now would delay their next key.
            self._warm_event = Clock.schedule_once(self._warm_next, PREBUILD_AFTER_INPUT - quiet_for)
            return
        self._warm_steps.pop(0)
        try:
            step()
        except Exception as e:  # noqa: BLE001 - only a head start: the real use loads it again
            from kivy.logger import Logger

            Logger.warning(f"Flashcards: preparing the screens failed: {e}")
            self._warm_steps = []
        if self._warm_steps:
            self._warm_event = Clock.schedule_once(self._warm_next, 0)

    def _draw_ahead(self, name: str) -> None:
        """Draw screen ``name`` once, for one frame, into one pixel of the window (its top bar's,
        the same on every screen), when it is not on the window.

        The first drawing of a screen costs a software renderer (llvmpipe) about twice a later one:
        its labels' textures are copied in and the renderer prepares, for this window, the kinds of
        drawing it meets for the first time (the import screen's first frame: 32-47 ms of drawing,
        later ones 17). Done here, on the deck list, that first time is not the frame that shows
        the screen. (Drawn into an off-screen buffer instead, the window's own first drawing was
        still slow: the renderer prepares per target.)"""
        from kivy.core.window import Window
        from kivy.graphics import InstructionGroup, ScissorPop, ScissorPush

        from flashcards.ui.widgets import software_renderer

        screen = self.root.get_screen(name)
        if not software_renderer() or screen.parent is not None:
            return
        group = InstructionGroup()
        group.add(ScissorPush(x=1, y=max(0, int(Window.height) - 2), width=1, height=1))
        group.add(screen.canvas)
        group.add(ScissorPop())
        Window.canvas.after.add(group)
        Window.canvas.ask_update()

        def detach(_dt):  # next frame, before its input: the screen may be shown from then on
            Window.canvas.after.remove(group)
            group.remove(screen.canvas)

        Clock.schedule_once(detach, 0)

    def _note_input(self, *_):
        self._last_input = Clock.get_time()

    @staticmethod
    def _warm_font_coverage():
        """Read the fallback fonts' character maps on a worker thread: the first card or list row
        with a character the default font lacks (an emoji, a kanji) read four font files' maps in
        its frame, 150-200 ms."""
        import threading

        from flashcards.ui import fonts

        def read():
            for fam in fonts.FALLBACK_ORDER:
                fonts.coverage(fam)

        threading.Thread(target=read, name="font-coverage", daemon=True).start()

    def _warm_card_fonts(self):
        """Render a few characters in the card's font and size, regular, bold and italic, so that
        the first card does not open the font files (SDL_ttf keeps them open per size)."""
        from kivy.core.text import Label as CoreLabel
        from kivy.metrics import sp

        for bold, italic in ((False, False), (True, False), (False, True)):
            CoreLabel(text="Aa", font_size=sp(self.font_size), font_name="FCSans", bold=bold,
                      italic=italic).refresh()

    def on_stop(self):
        from kivy.core.window import Window

        Window.unbind(on_key_down=self._on_key_down, on_textinput=self._on_textinput,
                      on_resize=self._on_resize, on_flip=self._first_frame_drawn)
        Window.unbind(on_key_down=self._note_input, on_touch_down=self._note_input)
        if self.resume_gc:
            self.resume_gc = False
            gc.enable()
        if self._poll_event is not None:
            self._poll_event.cancel()
        if self._warm_event is not None:
            self._warm_event.cancel()
            self._warm_event = None
        self._store_window_size()
        if self.root is not None and self.root.has_screen("study"):
            self.root.get_screen("study").sound.stop()

    def on_pause(self):
        # Every answer is already committed; keep the app alive in the background (Android).
        return True

    def on_resume(self):
        self.current_screen().enter()

    # ------------------------------------------------------------------ navigation

    def current_screen(self):
        return self.root.current_screen

    def show(self, name: str, **kwargs) -> None:
        """Go to a screen (pushed on the history); ``kwargs`` go to its ``enter``."""
        if self.busy:
            return
        screen = self.screen(name)
        leaving = self.current_screen()
        if leaving is not screen:
            self._unfocus_all()  # a field left focused on a hidden screen would swallow shortcuts
            leaving.leave()
            if self.history and self.history[-1] == name:
                pass
            else:
                self.history.append(name)
        self.root.current = name
        screen.enter(**kwargs)

    def go_back(self) -> bool:
        """Back one screen (Escape, the back key, the arrow button). Never quits the app."""
        if self.busy:
            return True
        if len(self.history) <= 1:
            return True
        self._unfocus_all()
        self.current_screen().leave()
        self.history.pop()
        name = self.history[-1]
        self.root.current = name
        self.root.get_screen(name).enter(back=True)
        return True

    def _poll(self, _dt):
        # Another process (the CLI) or a worker thread committed: show fresh numbers.
        if self.busy:
            return
        try:
            changed = self.col.changed_externally()
        except Exception:  # noqa: BLE001 - a locked/busy database: try again at the next poll
            return
        if changed:
            self.current_screen().external_change()

    # ------------------------------------------------------------------ keyboard

    @staticmethod
    def text_field_focused() -> bool:
        from kivy.uix.behaviors.focus import FocusBehavior

        return any(w is not None and getattr(w, "focus", False) for w in FocusBehavior._keyboards.values())

    def _on_key_down(self, window, key, scancode, codepoint, modifiers):
        from flashcards.ui.widgets import open_modal

        mods = set(modifiers or ())
        if key == 113 and "ctrl" in mods:  # Ctrl+Q
            self.stop()
            return True
        if key == 27:  # Escape / Android back: close a dialog, else back one screen; never quit
            modal = open_modal()
            if modal is not None:
                modal.dismiss()
            elif self.text_field_focused() and not self.current_screen().escape_leaves_field:
                self._unfocus_all()
            else:
                self.go_back()
            return True
        if self.text_field_focused() or open_modal() is not None or self.busy:
            return False
        return bool(self.current_screen().on_key(key, codepoint, mods))

    def _on_textinput(self, window, text):
        from flashcards.ui.widgets import open_modal

        if self.text_field_focused() or open_modal() is not None or self.busy:
            return False
        return bool(self.current_screen().on_text(text))

    @staticmethod
    def _unfocus_all():
        from kivy.uix.behaviors.focus import FocusBehavior

        for w in list(FocusBehavior._keyboards.values()):
            if w is not None:
                w.focus = False

    # ------------------------------------------------------------------ window size

    def _on_resize(self, window, width, height):
        self._save_size()

    def _store_window_size(self, *_):
        if platform in ("android", "ios"):
            return
        from kivy.core.window import Window

        try:
            size = [int(Window.system_size[0]), int(Window.system_size[1])]
            if self.col.get_setting("window_size") != size:
                self.col.set_setting("window_size", size)
        except Exception:  # noqa: BLE001 - closing: the database may be gone already
            pass


class DeckTreePrefetch:
    """Computes the deck list on a worker thread (its own database connection) while Kivy opens
    its window, so the first screen does not wait for both one after the other."""

    def __init__(self, col: Collection):
        import threading

        self._rows = None
        self._thread = threading.Thread(target=self._run, args=(col,), name="deck-tree", daemon=True)
        self._thread.start()

    def _run(self, col: Collection) -> None:
        try:
            self._rows = col.deck_tree(utc_now())
        except Exception:  # noqa: BLE001 - the screen computes it again and shows any error itself
            self._rows = None
        finally:
            col.db.close()  # this thread's connection only

    def take(self):
        """The rows (waiting for the thread if needed), once; None when it failed."""
        self._thread.join()
        rows, self._rows = self._rows, None
        return rows


def main(data_dir: Path, app_class: type[FlashcardsApp] | None = None, col: Collection | None = None) -> int:
    """Open the collection in ``data_dir`` (or take ``col``, open on it) and run the app until the
    window closes; the collection is closed then."""
    col = col if col is not None else Collection.open(data_dir)
    # The cyclic GC, before the first frame, walked the same long-lived objects (Python's and
    # Kivy's modules, then the window's and the first screen's) and freed nothing: 35-70 ms.
    # gc.freeze() leaves what exists now out of every later pass, including the full collection
    # Kivy forces while it creates the window (29-67 ms -> 1-6 ms); automatic collections are
    # off until the first frame is drawn (FlashcardsApp._first_frame_drawn turns them back on).
    pause_gc = gc.isenabled()
    gc.disable()
    gc.freeze()
    try:
        size = col.get_setting("window_size")
        col.rollover_hour  # noqa: B018 - load the settings once, before two threads want them
        configure_kivy(tuple(size) if size else None)
        prefetch = DeckTreePrefetch(col)
        app = (app_class or FlashcardsApp)(col, prefetch=prefetch)
        app.resume_gc = pause_gc
        app.run()
    finally:
        if pause_gc:
            gc.enable()  # (again) in case the app stopped before its first frame
        col.close()
    return 0
