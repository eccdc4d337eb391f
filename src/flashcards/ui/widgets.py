"""Widgets every screen uses: buttons, top bar, card view, dialogs, formatting helpers."""

from __future__ import annotations

import bisect
import math
import time
import types
from datetime import datetime
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.core.audio import SoundLoader
from kivy.logger import Logger
from kivy.metrics import dp
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.dropdown import DropDown
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.recycleboxlayout import RecycleBoxLayout
from kivy.uix.recycleview.views import RecycleDataAdapter
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

from flashcards.ui.html_markup import escape, plain_markup, to_blocks

# ---------------------------------------------------------------------------------------- helpers

UI_DIR = Path(__file__).resolve().parent


def load_kv_once(name: str) -> None:
    """Load one of our .kv files (rules apply to widgets created afterwards)."""
    from kivy.lang import Builder

    path = str(UI_DIR / name)
    if path not in Builder.files:
        Builder.load_file(path)



def use_fresh_label_textures() -> None:
    """Make every label that is rendered again draw into a new texture, not into its old one.

    Kivy refills a label's texture in place when the new text has the same pixel size (a counter
    going from 12 to 13, a card's first line, a list row). Under Mesa's software renderer (llvmpipe:
    desktops without a GPU driver, and these machines) writing into a texture the last frame drew
    waits for the renderer: 100-1,750 ms per refill were measured while studying 100,000 cards
    (``benchmarks/bench_frames.py``), where a new texture took about 0.1 ms. A GPU driver makes
    no difference either way; the old texture is freed with the label's reference to it.
    """
    from kivy.core.text import LabelBase

    if getattr(LabelBase.refresh, "fresh_texture", False):
        return
    refill = LabelBase.refresh

    def refresh(self):
        self.texture = None
        refill(self)

    refresh.fresh_texture = True
    LabelBase.refresh = refresh
    finish_every_frame()


_finishing = False
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast")


def finish_every_frame() -> None:
    """Under Mesa's software renderer, have each frame drawn before the window flips (``glFinish``).

    Swapping the buffers of an offscreen window (SDL's offscreen driver: an EGL pbuffer, as on these
    machines and headless runs) does nothing, so llvmpipe never started rasterizing a frame: it kept
    binning frame after frame into its scene and drew the pile only when the scene was full. While
    scrolling 100,000 cards in Browse, ~930 frames (~70 CPU-seconds of filling) piled up and one
    frame took 8-46 s with both renderer threads busy; refilling a texture that such a pile used
    waited for all of it too (100-1,750 ms, see :func:`use_fresh_label_textures`). Each frame now
    pays for its own pixels (``benchmarks/bench_frames.py``: scroll max 33 s -> under 70 ms). A
    ``glFlush`` was not enough: the renderer still queued ~1 s of frames at times. GPU drivers
    are left alone (the swap paces them).
    """
    global _finishing
    if _finishing:
        return
    _finishing = True
    from kivy.core.window import Window
    from kivy.graphics.opengl import glFinish

    if software_renderer():
        Window.bind(on_flip=lambda *_: glFinish())
        Window.clear = types.MethodType(_clear_colour_only, Window)


_software: bool | None = None


def software_renderer() -> bool:
    """Whether the window is drawn by Mesa's software renderer (llvmpipe, softpipe, swrast)."""
    global _software
    if _software is None:
        from kivy.graphics.opengl import GL_RENDERER, glGetString

        renderer = glGetString(GL_RENDERER)
        renderer = renderer.decode("latin-1", "replace") if isinstance(renderer, bytes) else str(renderer or "")
        _software = any(name in renderer.lower() for name in SOFTWARE_RENDERERS)
    return _software


def _clear_colour_only(window) -> None:
    """Kivy's ``Window.clear`` without the depth and stencil buffers: nothing here tests depth
    (2D only), and Kivy's first ``StencilPush`` of a frame clears the stencil buffer itself. Under
    llvmpipe clearing those two was half of the clear, about 3.5 ms of every 1280x800 frame."""
    from kivy.graphics.opengl import GL_COLOR_BUFFER_BIT, glClear, glClearColor

    glClearColor(*window.clearcolor)
    glClear(GL_COLOR_BUFFER_BIT)


def fmt_interval(seconds: float) -> str:
    """Anki-style short interval (``<1m``, ``10m``, ``3h``, ``4d``, ``1.5mo``, ``2.1y``): the core's."""
    from flashcards.scheduling import format_interval  # lazily: fsrs is not needed for the first screen

    return format_interval(seconds)


def fmt_when(dt: datetime | None, now: datetime) -> str:
    """'in 3h (14:05)' style description of a future instant, local time."""
    if dt is None:
        return "nothing scheduled"
    delta = (dt - now).total_seconds()
    local = dt.astimezone()
    clock = local.strftime("%H:%M") if delta < 86400 else local.strftime("%d %b %Y")
    return f"in {fmt_interval(delta)} ({clock})"


def input_font(text: str) -> str:
    """The font a text field should use for ``text`` (a TextInput has one font for everything)."""
    from flashcards.ui import fonts

    fams = {f for f, _ in fonts.runs(text)}
    # Nanum Square has Latin, Hangul, common Han characters and kana: the widest single font here.
    if fams & {"FCCJK", "FCHangul"}:
        return "FCHangul"
    return fonts.DEFAULT


# ---------------------------------------------------------------------------------------- basics


class FCLabel(Label):
    """A label whose text is plain (escaped and given per-run fonts) unless ``markup_text`` is set."""

    plain = StringProperty("")

    def on_plain(self, _inst, value):
        from flashcards.ui import fonts

        # Text the default font draws alone needs no markup: a plain label lays out and renders
        # faster (the first screen is mostly such labels), and shows "[b]" literally by itself.
        runs = fonts.runs(value)
        if all(fam == fonts.DEFAULT for fam, _ in runs):
            self.markup = False
            self.text = value
        else:
            self.markup = True
            self.text = plain_markup(value)


class FCButton(ButtonBehavior, Label):
    """A flat, rounded button at least 48 dp tall (touch target)."""

    bg = ColorProperty([0.2, 0.4, 0.9, 1])
    fg = ColorProperty([1, 1, 1, 1])
    radius = NumericProperty(dp(8))
    #: Ignore presses until this Clock time (the answer guard sets it).
    guard_until = NumericProperty(0)

    def on_guard_until(self, _inst, value):
        # The same deadline in wall-clock time, to compare with when a touch began: a frame that
        # is slow to draw must not let through a touch the finger made before the deadline.
        self._guard_wall = value + (time.time() - Clock.time())

    def on_touch_down(self, touch):
        if self.collide_point(*touch.pos) and (
                Clock.get_time() < self.guard_until
                or getattr(touch, "time_start", 0) < getattr(self, "_guard_wall", 0)):
            return True  # swallowed: too soon after the screen changed under the finger
        return super().on_touch_down(touch)

    def guard_over(self) -> bool:
        """True once a touch made now would get through the guard (tests wait on this)."""
        return Clock.get_time() >= self.guard_until and time.time() >= getattr(self, "_guard_wall", 0)


def guard_until_drawn(buttons, seconds: float) -> None:
    """Make ``buttons`` ignore taps until ``seconds`` after the next frame is on the screen.

    The guard must count from when the finger can see the buttons, not from the call that shows
    them: on a slow phone drawing that frame can take longer than the guard itself, and a tap
    in the first frame after the buttons appear would then get through. So the buttons refuse
    every tap until the frame has been flipped to the screen, and the clock starts there.
    """
    from kivy.core.window import Window

    buttons = list(buttons)
    for b in buttons:
        b.guard_until = math.inf

    def flipped(*_):
        Window.unbind(on_flip=flipped)
        until = Clock.time() + seconds
        for b in buttons:
            if b.guard_until == math.inf:  # not re-armed since (a later call has its own deadline)
                b.guard_until = until

    Window.bind(on_flip=flipped)
    Window.canvas.ask_update()  # a frame is drawn even if nothing else asked for one


def after_drawn(callback) -> None:
    """Call ``callback()`` in the frame after the next one is drawn.

    Work that the frame being prepared does not need (rendering what comes next) goes there, not
    into the frame that shows the result of a key press or tap: a trigger scheduled from an input
    handler runs in the very frame that draws its result.
    """
    from kivy.core.window import Window

    def flipped(*_):
        Window.unbind(on_flip=flipped)
        Clock.schedule_once(lambda dt: callback(), 0)

    Window.bind(on_flip=flipped)
    Window.canvas.ask_update()


class IconButton(FCButton):
    pass


class Rule(Widget):
    pass


class FCInput(TextInput):
    """A text field that switches font when its text needs another script."""

    def on_text(self, _inst, value):
        fam = input_font(value[:2000])
        if self.font_name != fam:
            self.font_name = fam


class TopBar(BoxLayout):
    """Back button, title, and action buttons (collapsed into a menu when the window is narrow)."""

    title = StringProperty("")
    show_back = BooleanProperty(True)
    actions = ListProperty([])  # [(label, callback), ...]
    narrow = BooleanProperty(False)
    back_enabled = BooleanProperty(True)

    def __init__(self, **kw):
        super().__init__(**kw)
        self._trigger = Clock.create_trigger(self._layout_actions, 0)
        self.bind(actions=self._trigger, width=self._trigger)
        app = App.get_running_app()
        if app is not None:
            app.bind(theme_name=self._trigger)  # the buttons take the bar's colours when made
        Clock.schedule_once(lambda dt: self._trigger(), 0)

    def _layout_actions(self, *_):
        box = self.ids.get("action_box")
        if box is None:
            return
        box.clear_widgets()
        # Each action needs about 110 dp; keep room for the back button and the title.
        narrow = self.width < dp(200) + dp(110) * len(self.actions) or self.width < dp(600)
        self.narrow = narrow and bool(self.actions)
        app = App.get_running_app()
        if self.narrow:
            # Noto Sans has no U+22EE (it drew a box on phones): Symbola has it and the Latin letters.
            btn = FCButton(text="\u22ee  Menu" if self.width > dp(420) else "\u22ee", size_hint_x=None,
                           width=dp(96) if self.width > dp(420) else dp(52), bg=app.c_bar, fg=app.c_on_bar,
                           font_size="22sp", font_name="FCSymbols")
            btn.bind(on_release=self.open_menu)
            box.add_widget(btn)
            box.width = btn.width
        else:
            total = 0
            for label, cb in self.actions:
                b = FCButton(text=label, size_hint_x=None, bg=app.c_bar, fg=app.c_on_bar)
                b.width = max(dp(96), dp(14) + len(label) * dp(9.5))
                b.bind(on_release=lambda _b, cb=cb: cb())
                box.add_widget(b)
                total += b.width + box.spacing
            box.width = total

    def open_menu(self, anchor):
        menu = Menu(items=self.actions)
        menu.open(anchor)


class Menu(DropDown):
    """A drop-down list of (label, callback) entries, 48 dp each."""

    def __init__(self, items, **kw):
        super().__init__(**kw)
        app = App.get_running_app()
        self.auto_width = False
        self.width = dp(240)
        for label, cb in items:
            b = FCButton(text=label, size_hint_y=None, height=dp(48), bg=app.c_surface2, fg=app.c_text,
                         radius=0, halign="left", padding=(dp(16), 0))
            b.bind(size=lambda w, s: setattr(w, "text_size", s))
            b.bind(on_release=lambda _b, cb=cb: (self.dismiss(), cb()))
            self.add_widget(b)


class FastRecycleBoxLayout(RecycleBoxLayout):
    """RecycleBoxLayout whose row lookup is a binary search: Kivy's scans every row, which costs
    tens of milliseconds per frame with 100,000 cards in the browser."""

    def get_view_index_at(self, pos):
        calc_pos = self._rv_positions
        if not calc_pos:
            return 0
        n = len(calc_pos)
        if self.orientation == "horizontal":
            x = pos[0]
            if x >= calc_pos[-1] or n == 1:
                return n - 1
            return max(bisect.bisect_right(calc_pos, x), 1) - 1
        y = pos[1]
        if y >= calc_pos[-1] or n == 1:
            return 0
        return n - max(bisect.bisect_right(calc_pos, y), 1)


class _RowOpts:
    """``view_opts`` of a list whose rows share one size: an entry is made when it is asked for
    (the visible rows only), where Kivy's layouts keep a dict per row and rebuild them all."""

    __slots__ = ("layout", "n")

    def __init__(self, layout: UniformRecycleBoxLayout, n: int):
        self.layout, self.n = layout, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> dict:
        if index < 0:
            index += self.n
        if not 0 <= index < self.n:
            raise IndexError(index)
        lay = self.layout
        left, _top, right, _bottom = lay.padding
        return {"size": [max(0, lay.width - left - right), lay.row_height], "size_hint": [1, None],
                "size_hint_min": [None, None], "size_hint_max": [None, None], "pos_hint": {},
                "pos": (lay.x + left, lay.row_y(index)), "viewclass": lay.viewclass,
                "width_none": True, "height_none": False}


class UniformRecycleBoxLayout(RecycleBoxLayout):
    """A vertical RecycleView layout whose rows all have the height ``default_size[1]`` and the
    layout's width: every row's place is arithmetic, so giving it 100,000 rows, selecting a row or
    resizing the window costs the same as with ten. Kivy's RecycleBoxLayout builds and lays out a
    dict per row each time (seconds for 100,000 cards on the main thread, frozen window)."""

    def __init__(self, **kw):
        self._laid_out = None
        self.row_height = 0.0  # default_size[1], read once per data or layout change
        super().__init__(**kw)

    def _top(self) -> float:
        return self.y + self.height - self.padding[1]

    def row_y(self, index: int) -> float:
        """Bottom edge of row ``index``."""
        h = self.row_height
        return self._top() - h - index * (h + self.spacing)

    def compute_sizes_from_data(self, data, flags):
        self.clear_layout()  # the data changed: every visible row is bound again
        self.row_height = float(self.default_size[1])
        self.view_opts = _RowOpts(self, len(data))

    def compute_layout(self, data, flags):
        self._size_needs_update = False
        self._changed_views = None
        n = len(data)
        self.row_height = float(self.default_size[1])
        left, top, right, bottom = self.padding
        self.minimum_size = (left + right,
                             top + bottom + n * self.row_height + max(0, n - 1) * self.spacing)
        key = (n, self.x, self.y, self.width, self.height, self.row_height, self.spacing, tuple(self.padding))
        if key != self._laid_out:
            # Size or place changed: rows on screen are placed again by set_visible_views.
            self._laid_out = key
            self.clear_layout()

    def get_view_index_at(self, pos):
        n = len(self.view_opts)
        if n == 0:
            return 0
        i = int((self._top() - pos[1]) // (self.row_height + self.spacing))
        return max(0, min(n - 1, i))

    def compute_visible_views(self, data, viewport):
        if not data:
            return []
        x, y, w, h = viewport
        return list(range(self.get_view_index_at((x, y + h)), self.get_view_index_at((x, y)) + 1))


# ---------------------------------------------------------------------------------------- dialogs


class FCModal(ModalView):
    """A modal view that says when it is on its way out (the fade-out still shows it)."""

    closing = BooleanProperty(False)

    def on_pre_open(self):
        self.closing = False

    def on_pre_dismiss(self):
        self.closing = True
        # A field of the dialog keeping the focus would swallow every shortcut afterwards.
        for w in self.walk(restrict=True):
            if getattr(w, "focus", False):
                w.focus = False


class Dialog(FCModal):
    title = StringProperty("")
    message = StringProperty("")
    ok_text = StringProperty("OK")
    cancel_text = StringProperty("")
    danger = BooleanProperty(False)
    with_input = BooleanProperty(False)
    input_text = StringProperty("")
    callback = ObjectProperty(None, allownone=True)

    def __init__(self, **kw):
        load_kv_once("widgets_more.kv")  # dialogs are not needed to draw the first screen
        super().__init__(**kw)

    def ok(self):
        value = self.ids.field.text if self.with_input else None
        cb = self.callback
        self.dismiss()
        if cb is not None:
            cb(value) if self.with_input else cb()

    def on_open(self):
        if self.with_input:
            Clock.schedule_once(lambda dt: setattr(self.ids.field, "focus", True), 0)


def message(title: str, text: str) -> Dialog:
    d = Dialog(title=title, message=text)
    d.open()
    return d


def confirm(title: str, text: str, on_yes, ok_text: str = "Delete", danger: bool = True) -> Dialog:
    d = Dialog(title=title, message=text, ok_text=ok_text, cancel_text="Cancel", danger=danger, callback=on_yes)
    d.open()
    return d


def prompt(title: str, text: str, initial: str, on_ok, ok_text: str = "OK") -> Dialog:
    d = Dialog(title=title, message=text, ok_text=ok_text, cancel_text="Cancel", with_input=True,
               input_text=initial, callback=on_ok)
    d.open()
    return d


def open_modal() -> ModalView | None:
    """The topmost open ModalView (dialog, popup), if any."""
    from kivy.core.window import Window

    for w in reversed(Window.children):
        if isinstance(w, ModalView) and not getattr(w, "closing", False):
            return w
    return None


# ------------------------------------------------------------------------------------ clipping


class WindowClipBehavior:
    """Mixin for a ScrollView (or RecycleView) clipped by a scissor instead of Kivy's stencil.

    Kivy's ScrollView is a StencilView: each frame it paints its whole area twice more
    (StencilPush, StencilPop) and every pixel inside is stencil-tested; Mesa's software renderer
    (llvmpipe) does all of that on the CPU. Two views on the import screen made a redraw of it
    cost about twice as much as without them, and while an import runs a redraw comes ten times a
    second. A scissor only narrows the area drawn. Kivy's scissors nest (each is cut to the one
    around it), so views inside views clip as stencils did. Its kv rule (widgets.kv, applied to every
    class that mixes it in) drops Kivy's stencil, draws ``ScissorPush`` at ``clip_box`` and
    ``ScissorPop``, and the scroll bars in one steady colour.

    The scissor is in window pixels: ``clip_box`` follows this view's place in the window, also
    when an ancestor that places its children in its own coordinates moves or scrolls (a
    RelativeLayout: every Screen; a Scatter; a ScrollView, which moves its content by a
    translation), and when the view moves to another parent.
    """

    #: x, y, width, height of this view in window pixels (what the scissor keeps).
    clip_box = ListProperty([0, 0, 0, 0])

    def __init__(self, **kw):
        self._watched: list = []  # (ancestor, property name, bind uid)
        self._clip_trigger = Clock.create_trigger(self._update_clip, -1)  # before this frame's drawing
        super().__init__(**kw)
        self.fbind("pos", self._clip_trigger)
        self.fbind("size", self._clip_trigger)
        self.fbind("parent", self._watch_ancestors)
        self._watch_ancestors()

    def _watch_ancestors(self, *_) -> None:
        from kivy.uix.relativelayout import RelativeLayout
        from kivy.uix.scatter import Scatter

        for widget, name, uid in self._watched:
            widget.unbind_uid(name, uid)
        self._watched = []
        widget = self.parent
        while isinstance(widget, Widget):
            # A change of any ancestor's parent may change the chain: watched again from here.
            self._watched.append((widget, "parent", widget.fbind("parent", self._watch_ancestors)))
            if isinstance(widget, (RelativeLayout, Scatter)):
                self._watched.append((widget, "pos", widget.fbind("pos", self._clip_trigger)))
            elif isinstance(widget, ScrollView):
                for name in ("pos", "size", "scroll_x", "scroll_y", "viewport_size"):
                    self._watched.append((widget, name, widget.fbind(name, self._clip_trigger)))
            widget = widget.parent
        self._clip_trigger()

    def _update_clip(self, *_) -> None:
        for widget, name, _uid in self._watched:
            if name == "scroll_y" and widget._trigger_update_from_scroll.is_triggered:
                # That view moves its content later in this frame: measure after it has.
                self._clip_trigger()
                return
        x, y = self.to_window(*self.pos)
        box = [int(round(x)), int(round(y)), int(round(self.width)), int(round(self.height))]
        if box != self.clip_box:
            self.clip_box = box


class ClippedScrollView(WindowClipBehavior, ScrollView):
    """A ScrollView clipped by a scissor at its place in the window (see WindowClipBehavior)."""


class SpareRowAdapter(RecycleDataAdapter):
    """A RecycleView's adapter that first gives out row widgets made ahead of time (``spare``).

    A list's first data otherwise made a screenful of rows in the frame it arrived (kv rules,
    1-4 ms a row): the Browse list and the import screen's file list make theirs one per frame
    beforehand and put them here."""

    def __init__(self, **kwargs):
        self.spare: list = []
        super().__init__(**kwargs)

    def create_view(self, index, data_item, viewclass):
        if viewclass is not None and self.spare and isinstance(self.spare[-1], viewclass):
            view = self.spare.pop()
            self.refresh_view_attrs(index, data_item, view)
            return view
        return super().create_view(index, data_item, viewclass)

    def rows_made(self) -> int:
        """Row widgets the list has: on screen, kept for reuse, or made ahead."""
        return len(self.views) + sum(len(v) for v in self.dirty_views.values()) + len(self.spare)


# ---------------------------------------------------------------------------------------- card view


class CardLabel(Label):
    """One block of card text; a tap on a speaker ref plays that sound."""


class CardView(WindowClipBehavior, ScrollView):
    """Shows one side of a card: text blocks (several labels for long fields), images, rules.

    Text costs time to render (layout, SDL_ttf, a texture upload: 1-20 ms a label here), so the
    view keeps its labels and renders as little as it can in the frame that shows a side:

    * a block whose text is already on screen keeps its label (the front's text, on the back side);
    * :meth:`prepare` renders the blocks of the side that comes next (the back, while the front
      is read), a block per frame; :meth:`show` takes them ready-made;
    * other blocks reuse labels that leave the screen or wait as spares, never a new one if one
      is free (a new label applies its kv rules), and every label gets its width before its text,
      so it is rendered once, at the width it is shown at.

    Events: ``on_tap`` (a tap that was not a scroll and not on a speaker), ``on_sound(index)``.
    """

    __events__ = ("on_tap", "on_sound")
    font_size = NumericProperty(dp(18))
    text_color = ColorProperty([0, 0, 0, 1])
    halign = StringProperty("center")
    #: Blank labels kept for later sides (a card's side rarely has more blocks).
    SPARES = 6

    def __init__(self, **kw):
        self._spare: list[CardLabel] = []
        self._ready: dict[str, CardLabel] = {}  # markup -> a label rendered with it, off screen
        self._ready_images: dict[str, Image] = {}  # path -> an image loaded, off screen
        self._prepare_steps: list = []
        self._prepare_next = Clock.create_trigger(self._prepare_step, 0)
        super().__init__(**kw)
        self.bind(font_size=self._restyle, text_color=self._restyle, halign=self._restyle)

    def on_tap(self):
        pass

    def on_sound(self, index):
        pass

    # -- labels

    def _style(self, lbl: CardLabel) -> None:
        lbl.color = self.text_color
        lbl.font_size = self.font_size
        lbl.halign = self.halign

    def _restyle(self, *_):
        # Labels rendered ahead in the old style would be rendered again when shown: drop them.
        self._drop_ready()
        for w in self.ids.content.children if "content" in self.ids else ():
            if isinstance(w, CardLabel):
                self._style(w)

    def _text_width(self) -> float:
        box = self.ids.content
        return max(1.0, box.width - box.padding[0] - box.padding[2])

    def _new_label(self) -> CardLabel:
        if self._spare:
            lbl = self._spare.pop()
        else:
            lbl = CardLabel()
            lbl.bind(on_ref_press=self._ref)
        self._style(lbl)  # a spare may be from before a change of size or theme
        return lbl

    def _set_text(self, lbl: CardLabel, markup: str, width: float) -> None:
        lbl.width = width  # first: the text is laid out once, at the width it is shown at
        lbl.text = markup

    def _keep_spare(self, lbl: CardLabel) -> None:
        if len(self._spare) < self.SPARES:
            self._spare.append(lbl)

    def _drop_ready(self) -> None:
        self._prepare_steps = []
        self._prepare_next.cancel()
        for lbl in self._ready.values():
            self._keep_spare(lbl)
        self._ready.clear()
        self._ready_images.clear()

    # -- showing a side

    def show(self, html: str, sounds=(), media_dir: Path | None = None, cloze_color: str = "1d4ed8"):
        box = self.ids.content
        self._prepare_steps = []
        self._prepare_next.cancel()
        blocks = to_blocks(html, sounds, cloze_color=cloze_color)
        width = self._text_width()
        # Labels now on screen, by text (top first): a block showing the same text keeps its label.
        leaving = [w for w in reversed(box.children) if isinstance(w, CardLabel)]
        on_screen: dict[str, list[CardLabel]] = {}
        for w in leaving:
            on_screen.setdefault(w.text, []).append(w)
        ready, self._ready = self._ready, {}
        ready_images, self._ready_images = self._ready_images, {}
        chosen: list = []
        kept: set[int] = set()
        for block in blocks:
            lbl = None
            if block.kind == "text":
                same = on_screen.get(block.markup)
                lbl = same.pop(0) if same else ready.pop(block.markup, None)
                if lbl is not None:
                    kept.add(id(lbl))
            chosen.append((block, lbl))
        free = [w for w in leaving if id(w) not in kept]
        rules = [w for w in box.children if isinstance(w, Rule)]
        widgets = []
        for block, lbl in chosen:
            if block.kind == "text":
                if lbl is None:
                    lbl = free.pop(0) if free else self._new_label()
                    self._set_text(lbl, block.markup, width)
                widgets.append(lbl)
            elif block.kind == "image":
                widgets.append(self._image(block.src, media_dir, ready_images))
            else:
                widgets.append(rules.pop() if rules else Rule())
        for lbl in free + list(ready.values()):
            self._keep_spare(lbl)
        if list(reversed(box.children)) != widgets:
            box.clear_widgets()
            for w in widgets:
                box.add_widget(w)
        self.scroll_y = 1

    def _image(self, src: str, media_dir: Path | None, ready: dict | None = None):
        path = (media_dir / src) if media_dir else None
        if path is None or not path.is_file():
            lbl = self._new_label()
            self._set_text(lbl, f"[i]{escape('(missing image: ' + src + ')')}[/i]", self._text_width())
            return lbl
        img = (ready or {}).pop(str(path), None)
        if img is None:
            img = Image(source=str(path), size_hint_y=None, fit_mode="contain")
            img.bind(texture_size=self._size_image, width=self._size_image)
            self._size_image(img)
        return img

    def prepare(self, html: str, sounds=(), media_dir: Path | None = None, cloze_color: str = "1d4ed8"):
        """Render the side that :meth:`show` will get next, one block per frame from the next
        frame on (the back, while the front is read): showing it then renders nothing."""
        self._drop_ready()
        on_screen = {w.text for w in self.ids.content.children if isinstance(w, CardLabel)}
        steps = []
        for block in to_blocks(html, sounds, cloze_color=cloze_color):
            if block.kind == "text" and block.markup not in on_screen:
                steps.append(("text", block.markup))
            elif block.kind == "image" and media_dir is not None:
                steps.append(("image", media_dir / block.src))
        self._prepare_steps = steps
        if steps:
            # From the frame after the one that shows the current side: that one has enough to do.
            after_drawn(self._prepare_later)

    def _prepare_later(self):
        if self._prepare_steps:
            self._prepare_step()

    def _prepare_step(self, *_):
        if not self._prepare_steps:
            return
        kind, what = self._prepare_steps.pop(0)
        if kind == "text" and what not in self._ready:
            lbl = self._new_label()
            self._set_text(lbl, what, self._text_width())
            lbl.texture_update()  # now, in this frame, not in the one that shows it
            lbl._trigger_texture.cancel()
            self._ready[what] = lbl
        elif kind == "image" and str(what) not in self._ready_images and what.is_file():
            self._ready_images[str(what)] = self._image(what.name, what.parent)
        if self._prepare_steps:
            self._prepare_next()

    def prepared(self) -> bool:
        """(Tests) True when everything :meth:`prepare` was given is rendered."""
        return not self._prepare_steps

    @staticmethod
    def _size_image(img, *_):
        tw, th = img.texture_size
        if tw and th:
            w = min(img.width or tw, tw * 2)
            img.height = min(dp(420), th * (w / tw))
        else:
            img.height = dp(10)

    def _ref(self, _label, ref):
        if ref.startswith("sound:"):
            self._ref_hit = True
            self.dispatch("on_sound", int(ref.split(":", 1)[1]))

    def on_touch_down(self, touch):
        if self.collide_point(*touch.pos):
            touch.ud["fc_card_down"] = True
        self._ref_hit = False
        return super().on_touch_down(touch)

    def on_touch_up(self, touch):
        r = super().on_touch_up(touch)
        if (touch.ud.get("fc_card_down") and self.collide_point(*touch.pos)
                and not getattr(self, "_ref_hit", False)
                and abs(touch.x - touch.ox) < dp(12) and abs(touch.y - touch.oy) < dp(12)
                and not touch.is_mouse_scrolling):
            touch.ud["fc_card_down"] = False
            self.dispatch("on_tap")
            return True
        return r


class SoundPlayer:
    """Plays a card's sounds one after another; silent where there is no audio device or codec."""

    def __init__(self):
        self._queue: list[Path] = []
        self._current = None

    def play(self, paths: list[Path]) -> None:
        self.stop()
        self._queue = [p for p in paths if p.is_file()]
        self._next()

    def _next(self, *_):
        if not self._queue:
            self._current = None
            return
        path = self._queue.pop(0)
        try:
            snd = SoundLoader.load(str(path))
        except Exception as e:  # noqa: BLE001 - any audio backend failure means "no sound here"
            Logger.info(f"Flashcards: cannot play {path.name}: {e}")
            snd = None
        if snd is None:
            self._next()
            return
        self._current = snd
        snd.bind(on_stop=self._next)
        try:
            snd.play()
        except Exception as e:  # noqa: BLE001
            Logger.info(f"Flashcards: cannot play {path.name}: {e}")
            self._next()

    def stop(self) -> None:
        self._queue = []
        snd, self._current = self._current, None
        if snd is not None:
            try:
                snd.unbind(on_stop=self._next)
                snd.stop()
            except Exception:  # noqa: BLE001
                pass


# ---------------------------------------------------------------------------------------- screens


class FCScreen(Screen):
    """Base of every screen: ``enter``/``leave`` hooks, keys, and refresh on outside changes."""

    #: Escape inside a text field on this screen goes back at once (instead of leaving the field).
    escape_leaves_field = False

    @property
    def app(self):
        return App.get_running_app()

    @property
    def col(self):
        return App.get_running_app().col

    def enter(self, back: bool = False, **kwargs) -> None:
        self.refresh()

    def leave(self) -> None:
        pass

    def refresh(self) -> None:
        pass

    def external_change(self) -> None:
        self.refresh()

    def on_key(self, key: int, codepoint: str | None, modifiers: set[str]) -> bool:
        return False

    def on_text(self, text: str) -> bool:
        return False

    def error(self, e: Exception, title: str = "That did not work") -> None:
        message(title, str(e))
