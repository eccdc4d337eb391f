"""The stats screen counts on a worker thread: the window draws meanwhile, the newest count wins,
and a failure is said in words."""

from __future__ import annotations

import threading

from conftest import pump, screenshot, wait_until
from seed import spanish

from flashcards.ui import stats_screen as stats_module
from flashcards.ui.widgets import open_modal


def test_figures_come_from_a_worker_and_the_window_draws_meanwhile(make_app, monkeypatch):
    app = make_app(spanish)
    release = threading.Event()
    threads = []
    real = stats_module.compute_figures

    def slow(col, now):
        threads.append(threading.current_thread().name)
        release.wait(10)
        return real(col, now)

    monkeypatch.setattr(stats_module, "compute_figures", slow)
    app.show("stats")
    screen = app.root.get_screen("stats")
    pump(5)  # frames go on while the count waits
    assert screen.loading and screen.shown == 0
    assert screen.today_text == screen.counts_text == "Counting…"
    screenshot("09b-stats-counting")
    release.set()
    wait_until(lambda: screen.shown == 1 and not screen.loading)
    assert threads == ["stats"]
    assert screen.today_text == "No cards studied today yet."
    assert screen.counts_text.startswith("New ") and len(screen.forecast) == 30


def test_an_older_count_that_ends_last_is_dropped(make_app, monkeypatch):
    app = make_app(spanish)
    gates = [threading.Event(), threading.Event()]
    calls = []
    real = stats_module.compute_figures

    def gated(col, now):
        i = len(calls)
        calls.append(i)
        gates[i].wait(10)
        figures = real(col, now)
        figures["counts"] = dict(figures["counts"], total=1000 + i)  # which count this was
        return figures

    monkeypatch.setattr(stats_module, "compute_figures", gated)
    app.show("stats")
    screen = app.root.get_screen("stats")
    wait_until(lambda: len(calls) == 1)
    screen.refresh()  # e.g. the CLI changed the collection meanwhile
    wait_until(lambda: len(calls) == 2)
    gates[1].set()
    wait_until(lambda: screen.shown == 1)
    assert screen.counts_text.endswith("Total 1,001")
    gates[0].set()  # the first count ends after the second: its figures are not shown
    pump(10)
    assert screen.shown == 1 and screen.counts_text.endswith("Total 1,001") and not screen.loading


def test_a_failed_count_is_said_in_words(make_app, monkeypatch):
    app = make_app(spanish)

    def broken(col, now):
        raise OSError("disk I/O error")

    monkeypatch.setattr(stats_module, "compute_figures", broken)
    app.show("stats")
    screen = app.root.get_screen("stats")
    wait_until(lambda: open_modal() is not None)
    assert not screen.loading and screen.shown == 0
    texts = [getattr(w, "text", "") for w in open_modal().walk()]
    assert any("disk I/O error" in t for t in texts), texts
