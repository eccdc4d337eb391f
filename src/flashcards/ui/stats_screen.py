"""Stats: today's reviews and time, 30-day forecast, a year heatmap, true retention, card counts.

All figures come from :mod:`flashcards.stats`; the charts are drawn with Kivy graphics.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from kivy.app import App
from kivy.clock import Clock
from kivy.graphics import Color, Rectangle
from kivy.metrics import dp, sp
from kivy.properties import BooleanProperty, DictProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.widget import Widget

from flashcards import stats
from flashcards.timeutil import local_tz, study_day
from flashcards.ui.widgets import FCScreen


class BarChart(Widget):
    """Vertical bars with a value above each non-zero bar and day labels below every 5th."""

    values = ListProperty([])
    color = ListProperty([0.2, 0.5, 0.9, 1])

    def __init__(self, **kw):
        super().__init__(**kw)
        # Once per frame, before its drawing: new figures, a new size and a new place came in the
        # same frame and each redrew the whole chart.
        self._redraw_soon = Clock.create_trigger(self._redraw, -1)
        self.bind(values=self._redraw_soon, size=self._redraw_soon, pos=self._redraw_soon,
                  color=self._redraw_soon)

    def _redraw(self, *_):
        from kivy.core.text import Label as CoreLabel

        app = App.get_running_app()
        self.canvas.clear()
        n = len(self.values)
        if not n or self.width <= 0:
            return
        top = max(self.values) or 1
        label_h = dp(18)
        chart_h = self.height - 2 * label_h
        slot = self.width / n
        bar_w = max(1.0, slot * 0.7)

        def text(t, x, y, color):
            lbl = CoreLabel(text=t, font_size=sp(11), font_name="FCSans")
            lbl.refresh()
            tex = lbl.texture
            Color(*color)
            Rectangle(texture=tex, pos=(x - tex.width / 2, y), size=tex.size)

        with self.canvas:
            Color(*app.c_border)
            Rectangle(pos=(self.x, self.y + label_h), size=(self.width, dp(1)))
            for i, v in enumerate(self.values):
                h = chart_h * v / top
                x = self.x + i * slot + (slot - bar_w) / 2
                Color(*self.color)
                Rectangle(pos=(x, self.y + label_h), size=(bar_w, h))
                if v and slot > dp(14):
                    text(str(v), x + bar_w / 2, self.y + label_h + h + dp(2), app.c_muted)
                if i % 5 == 0:
                    text("today" if i == 0 else f"+{i}d", x + bar_w / 2, self.y, app.c_muted)


class Heatmap(Widget):
    """A year of reviews per day: weeks as columns, weekdays as rows, darker = more."""

    counts = DictProperty({})
    end = ListProperty([])  # [year, month, day] of the last day shown

    def __init__(self, **kw):
        super().__init__(**kw)
        self._redraw_soon = Clock.create_trigger(self._redraw, -1)  # once per frame (see BarChart)
        self.bind(counts=self._redraw_soon, end=self._redraw_soon, size=self._redraw_soon, pos=self._redraw_soon)

    def _redraw(self, *_):
        from datetime import date

        app = App.get_running_app()
        self.canvas.clear()
        if not self.end or self.width <= 0:
            return
        last = date(*self.end)
        weeks = 53
        cell = min(self.width / weeks, self.height / 7)
        gap = max(1.0, cell * 0.15)
        first = last - timedelta(days=last.weekday() + 7 * (weeks - 1))
        top = max(self.counts.values()) if self.counts else 1
        base = app.c_review
        empty = app.c_surface2
        x0 = self.x + (self.width - weeks * cell) / 2
        with self.canvas:
            d = first
            while d <= last:
                col = (d - first).days // 7
                row = d.weekday()
                n = self.counts.get(d, 0)
                if n:
                    a = 0.25 + 0.75 * (n / top)
                    Color(base[0], base[1], base[2], a)
                else:
                    Color(*empty)
                Rectangle(pos=(x0 + col * cell, self.top - (row + 1) * cell), size=(cell - gap, cell - gap))
                d += timedelta(days=1)


def compute_figures(col, now) -> dict:
    """Every figure the screen shows, from the core (runs on a worker thread: SQL only)."""
    return {"today": stats.today_reviews(col, now), "forecast": stats.forecast(col, now, days=30),
            "heat": stats.heatmap(col, now, days=365), "day": study_day(now, col.rollover_hour, local_tz()),
            "retention": stats.retention(col, now), "counts": stats.card_counts(col)}


class StatsScreen(FCScreen):
    today_text = StringProperty("")
    retention_text = StringProperty("")
    counts_text = StringProperty("")
    forecast = ListProperty([])
    heat = DictProperty({})
    heat_end = ListProperty([])
    heat_text = StringProperty("")
    #: How many times figures were shown (tests wait for it); ``loading`` while a count runs.
    shown = NumericProperty(0)
    loading = BooleanProperty(False)

    def __init__(self, **kw):
        super().__init__(**kw)
        self._asked = 0  # the newest request; older answers are dropped

    def refresh(self) -> None:
        """Count on a worker thread with its own connection: a year of reviews takes 0.1-2 s with a
        big collection, and the window keeps drawing meanwhile (the figures shown stay until then)."""
        self._asked += 1
        asked, col, now = self._asked, self.col, self.app.now()
        self.loading = True
        if not self.shown:
            self.today_text = self.retention_text = self.counts_text = "Counting…"
            self.heat_text = ""

        def work():
            try:
                figures = compute_figures(col, now)
            except Exception as e:  # noqa: BLE001 - shown in words, on the main thread
                figures = e
            finally:
                col.db.close()  # this thread's connection only
            Clock.schedule_once(lambda dt: self._show(asked, figures))

        threading.Thread(target=work, name="stats", daemon=True).start()

    def _show(self, asked: int, figures) -> None:
        if asked != self._asked:
            return  # a newer count is on its way
        self.loading = False
        if isinstance(figures, Exception):
            self.error(figures, "The statistics could not be counted")
            return
        n, secs = figures["today"]
        per = f", {secs / n:.1f}s per card" if n else ""
        self.today_text = (f"Studied {n} card{'s' if n != 1 else ''} in {secs // 60} min {secs % 60} s today{per}."
                           if n else "No cards studied today yet.")
        self.forecast = figures["forecast"]
        heat = figures["heat"]
        self.heat = heat
        d = figures["day"]
        self.heat_end = [d.year, d.month, d.day]
        total = sum(heat.values())
        active = len(heat)
        self.heat_text = f"{total:,} reviews on {active} day{'s' if active != 1 else ''} in the last year"
        r = figures["retention"]

        def pct(v, k):
            return f"{v * 100:.1f}% of {r[k]:,}" if v is not None else "no reviews yet"

        self.retention_text = (f"Young cards (interval < 21 days): {pct(r['young'], 'young_count')}\n"
                               f"Mature cards: {pct(r['mature'], 'mature_count')}")
        c = figures["counts"]
        self.counts_text = (f"New {c['new']:,}   ·   Learning {c['learning']:,}   ·   Review {c['review']:,}   ·   "
                            f"Relearning {c['relearning']:,}   ·   Suspended {c['suspended']:,}   ·   "
                            f"Total {c['total']:,}")
        self.shown += 1
