"""Widgets of the deck settings' personal scheduling section: a busy indicator, the old/new
parameter table and the desired-retention curve (drawn with Kivy graphics, like the stats charts)."""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.graphics import Color, Line, Rectangle
from kivy.metrics import dp, sp
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from flashcards.cli_optimize import PARAMETER_NAMES
from flashcards.ui.widgets import FCLabel


def _text(canvas_label: str, x: float, y: float, color, anchor: str = "center", size: float = 11):
    """Draw ``canvas_label`` at (x, y) (y is the bottom) in the current canvas; returns its size."""
    from kivy.core.text import Label as CoreLabel

    lbl = CoreLabel(text=canvas_label, font_size=sp(size), font_name="FCSans")
    lbl.refresh()
    tex = lbl.texture
    if anchor == "center":
        x -= tex.width / 2
    elif anchor == "right":
        x -= tex.width
    Color(*color)
    Rectangle(texture=tex, pos=(x, y), size=tex.size)
    return tex.size


class BusyIndicator(Widget):
    """A turning arc while ``active`` (the work runs on another thread, so frames keep coming)."""

    active = BooleanProperty(False)
    angle = NumericProperty(0)

    def __init__(self, **kw):
        super().__init__(**kw)
        self._event = None
        self.bind(active=self._toggle, angle=self._redraw, pos=self._redraw, size=self._redraw)

    def _toggle(self, *_):
        if self.active and self._event is None:
            self._event = Clock.schedule_interval(self._tick, 1 / 30)
        elif not self.active and self._event is not None:
            self._event.cancel()
            self._event = None
        self._redraw()

    def _tick(self, dt):
        self.angle = (self.angle + 360 * dt) % 360

    def _redraw(self, *_):
        self.canvas.clear()
        if not self.active:
            return
        app = App.get_running_app()
        r = min(self.width, self.height) / 2 - dp(3)
        with self.canvas:
            Color(*app.c_border)
            Line(circle=(self.center_x, self.center_y, r), width=dp(2))
            Color(*app.c_accent)
            Line(circle=(self.center_x, self.center_y, r, self.angle, self.angle + 100), width=dp(3))


def parameter_table(previous, fitted) -> GridLayout:
    """A four-column grid: parameter number, what it shapes, current value, fitted value (changed
    values in the accent colour)."""
    app = App.get_running_app()
    grid = GridLayout(cols=4, size_hint_y=None, row_default_height=dp(22), row_force_default=True,
                      spacing=(dp(8), 0))
    grid.bind(minimum_height=grid.setter("height"))

    def cell(text, width=None, bold=False, color=None, halign="left"):
        lbl = FCLabel(font_size="13sp", halign=halign, valign="middle", bold=bold,
                      color=color or app.c_text, shorten=True, shorten_from="right")
        lbl.plain = text
        if width is not None:
            lbl.size_hint_x = None
            lbl.width = width
        lbl.bind(size=lambda w, s: setattr(w, "text_size", s))
        grid.add_widget(lbl)

    cell("", dp(34), True)
    cell("parameter", None, True, app.c_muted)
    cell("current", dp(72), True, app.c_muted, "right")
    cell("fitted", dp(72), True, app.c_muted, "right")
    for i, (name, old, new) in enumerate(zip(PARAMETER_NAMES, previous, fitted, strict=True)):
        changed = abs(old - new) >= 5e-5
        cell(f"w{i}", dp(34), color=app.c_muted)
        cell(name)
        cell(f"{old:.4f}", dp(72), halign="right")
        cell(f"{new:.4f}", dp(72), bold=changed, color=app.c_accent if changed else app.c_text, halign="right")
    return grid


class RetentionChart(Widget):
    """Desired retention (x) against study minutes per day (left axis, accent line) and cards
    memorised at the end of the simulation (right axis, green line); the recommended retention is a
    vertical marker, the deck's current one a dashed marker."""

    advice = ObjectProperty(None, allownone=True)
    current = NumericProperty(0)
    colors = ListProperty([])  # redraw on a theme change

    def __init__(self, **kw):
        super().__init__(**kw)
        self.bind(advice=self._redraw, current=self._redraw, size=self._redraw, pos=self._redraw,
                  colors=self._redraw)

    def _redraw(self, *_):
        self.canvas.clear()
        adv = self.advice
        if adv is None or not adv.points or self.width <= dp(100):
            return
        app = App.get_running_app()
        pts = adv.points
        xs = [p.desired_retention for p in pts]
        mins = [p.minutes_per_day for p in pts]
        mem = [p.memorized for p in pts]
        left, right, bottom, top = dp(52), dp(60), dp(34), dp(22)
        x0, y0 = self.x + left, self.y + bottom
        w, h = self.width - left - right, self.height - bottom - top
        x_lo, x_hi = min(xs), max(xs)
        m_hi = max(mins) * 1.05 or 1.0
        k_lo, k_hi = min(mem) * 0.95, max(mem) * 1.02 or 1.0
        k_span = (k_hi - k_lo) or 1.0

        def px(r):
            return x0 + w * (r - x_lo) / ((x_hi - x_lo) or 1.0)

        def py_min(v):
            return y0 + h * v / m_hi

        def py_mem(v):
            return y0 + h * (v - k_lo) / k_span

        with self.canvas:
            # frame and grid
            Color(*app.c_border)
            Line(rectangle=(x0, y0, w, h), width=1)
            for i in range(1, 4):
                y = y0 + h * i / 4
                Line(points=[x0, y, x0 + w, y], width=1, dash_length=dp(3), dash_offset=dp(3))
            # x ticks every 0.05
            r = round(x_lo, 2)
            while r <= x_hi + 1e-9:
                if round(r * 100) % 5 == 0:
                    Color(*app.c_border)
                    Line(points=[px(r), y0, px(r), y0 - dp(4)], width=1)
                    _text(f"{r:.2f}", px(r), y0 - dp(20), app.c_muted)
                r = round(r + 0.01, 2)
            # left axis: minutes per day
            for i in range(0, 5):
                v = m_hi * i / 4
                _text(f"{v:.0f}" if m_hi >= 8 else f"{v:.1f}" if m_hi >= 2 else f"{v:.2f}", x0 - dp(6), y0 + h * i / 4 - dp(7), app.c_accent,
                      anchor="right")
            _text("min/day", x0, y0 + h + dp(4), app.c_accent, anchor="right")
            # right axis: memorised
            for i in range(0, 5):
                v = k_lo + k_span * i / 4
                _text(f"{v:,.0f}", x0 + w + dp(6), y0 + h * i / 4 - dp(7), app.c_review, anchor="left")
            _text("memorized", x0 + w, y0 + h + dp(4), app.c_review, anchor="left")
            # the curves
            Color(*app.c_accent)
            Line(points=[c for p, m in zip(xs, mins, strict=True) for c in (px(p), py_min(m))], width=dp(1.6))
            Color(*app.c_review)
            Line(points=[c for p, m in zip(xs, mem, strict=True) for c in (px(p), py_mem(m))], width=dp(1.6))
            # the deck's current desired retention
            if x_lo <= self.current <= x_hi:
                Color(*app.c_muted)
                Line(points=[px(self.current), y0, px(self.current), y0 + h], width=1,
                     dash_length=dp(4), dash_offset=dp(4))
                # on the side away from the recommended marker, so the two labels never overlap
                away = "left" if self.current >= adv.recommended else "right"
                _text(f"current {self.current:.2f}", px(self.current) + (dp(4) if away == "left" else -dp(4)),
                      y0 + dp(4), app.c_muted, anchor=away)
            # the recommended one
            rec = adv.recommended
            Color(*app.c_hard)
            Line(points=[px(rec), y0, px(rec), y0 + h], width=dp(1.5))
            best = min(pts, key=lambda p: abs(p.desired_retention - rec))
            for y in (py_min(best.minutes_per_day), py_mem(best.memorized)):
                Line(circle=(px(rec), y, dp(4)), width=dp(1.5))
            label = f"recommended {rec:.2f}"
            anchor = "left" if px(rec) < x0 + w * 0.6 else "right"
            _text(label, px(rec) + (dp(6) if anchor == "left" else -dp(6)), y0 + h - dp(18), app.c_hard,
                  anchor=anchor, size=12)
