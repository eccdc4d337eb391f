"""A terminal progress bar usable as the pipelines' ``progress(done, total)`` callback.

It draws on stderr, and only when stderr is a terminal and the job is big enough to be worth
watching: piped output, logs and tests stay clean. Redraws are throttled, so calling it for every
note costs next to nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


class TerminalProgress:
    """``progress(done, total)`` callback drawing ``label [#####.....]  45%  45,000/100,000  12,300/s``.

    ``min_total``: jobs smaller than this draw nothing. ``interval``: seconds between redraws (the
    final state is always drawn). ``stream`` defaults to ``sys.stderr``; ``force`` draws even when
    it is not a terminal (for tests). Use as a context manager, or call :meth:`close` at the end, to
    finish the line.
    """

    def __init__(
        self,
        label: str = "",
        *,
        stream: TextIO | None = None,
        min_total: int = 2000,
        interval: float = 0.1,
        width: int = 30,
        force: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.min_total = min_total
        self.interval = interval
        self.width = width
        self.clock = clock
        self._enabled = force or _isatty(self.stream)
        self._started: float | None = None
        self._last_draw = float("-inf")
        self._drawn = False
        self._last_len = 0

    def __call__(self, done: int, total: int) -> None:
        """Report that ``done`` of ``total`` items are finished."""
        if not self._enabled or total < self.min_total:
            return
        now = self.clock()
        if self._started is None:
            self._started = now
        finished = done >= total
        if not finished and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        self._draw(self.render(done, total, now - self._started))
        if finished:
            self.close()

    def render(self, done: int, total: int, elapsed: float) -> str:
        """The bar's text for ``done`` of ``total`` after ``elapsed`` seconds."""
        done = max(0, min(done, total))
        frac = done / total if total else 1.0
        filled = int(frac * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        text = f"{self.label} [{bar}] {frac * 100:3.0f}%  {done:,}/{total:,}"
        if elapsed > 0 and done:
            text += f"  {done / elapsed:,.0f}/s"
        return text.lstrip()

    def _draw(self, text: str) -> None:
        # "\r" back to the line start; pad with spaces over a longer previous text.
        pad = " " * max(0, self._last_len - len(text))
        self.stream.write("\r" + text + pad)
        self.stream.flush()
        self._last_len = len(text)
        self._drawn = True

    def close(self) -> None:
        """End the bar's line (if anything was drawn), so later output starts on a fresh line."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
            self._last_len = 0

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a real file
        return False
