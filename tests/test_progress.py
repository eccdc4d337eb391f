"""The terminal progress bar: silent unless stderr is a terminal and the job is big."""

from __future__ import annotations

import io

from flashcards.progress import TerminalProgress


class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_silent_when_not_a_terminal():
    out = io.StringIO()
    bar = TerminalProgress("Importing", stream=out, min_total=10)
    for i in range(101):
        bar(i, 100)
    bar.close()
    assert out.getvalue() == ""


def test_silent_for_small_jobs_even_on_a_terminal():
    out = Tty()
    bar = TerminalProgress("Importing", stream=out, min_total=1000)
    bar(0, 999)
    bar(999, 999)
    assert out.getvalue() == ""


def test_draws_throttled_and_finishes_the_line():
    out, clock = Tty(), FakeClock()
    bar = TerminalProgress("Importing", stream=out, min_total=10, width=10, interval=0.5, clock=clock)
    bar(0, 100)
    clock.t += 0.1
    bar(10, 100)  # too soon: not drawn
    clock.t += 0.5
    bar(50, 100)
    clock.t += 0.4
    bar(100, 100)  # the final state is always drawn, then the line ends
    assert out.getvalue() == (
        "\rImporting [..........]   0%  0/100"
        "\rImporting [#####.....]  50%  50/100  83/s"
        "\rImporting [##########] 100%  100/100  100/s"
        "\n"
    )


def test_shorter_text_overwrites_longer():
    out, clock = Tty(), FakeClock()
    bar = TerminalProgress("", stream=out, min_total=1, width=4, interval=0, clock=clock)
    bar.render = lambda done, total, elapsed: "x" * (5 - done)  # type: ignore[method-assign]
    bar(0, 3)
    bar(2, 3)
    assert out.getvalue() == "\rxxxxx\rxxx  "
    with bar:
        pass
    assert out.getvalue().endswith("\n")


def test_forced_drawing_on_any_stream():
    out = io.StringIO()
    with TerminalProgress("Export", stream=out, min_total=1, force=True) as bar:
        bar(1, 1)
    assert out.getvalue().startswith("\rExport [")
    assert out.getvalue().count("\n") == 1
