"""Peer benchmark: ``../shared/bench/PROTOCOL.md`` steps 1-4 against Anki's Rust core (PyPI ``anki``), here.

Usage: ``python benchmarks/bench_core_peer.py N [--seed S] [--keep DIR]`` (N = 1000, 10000, 100000).
Prints exactly one JSON line on stdout (progress on stderr) with the keys of ``bench_core.py`` plus
``engine``, so the two lines of one machine compare key by key; ``raw_sqlite_commits_per_s`` is measured
in the same run (``bench_core.raw_commit_rate``), so drift between runs can be divided out. The TSV text,
the seeded ratings, the day length and the 3000 ms per answer are ``bench_core.py``'s own (imported).

The calls are the desktop app's: ``get_csv_metadata`` + ``import_csv`` (its CSV import dialog);
``decks.set_current`` (clicking the deck), then per card ``sched.get_queued_cards()`` + ``Card`` (the
reviewer's next card) and ``sched.build_answer(states=<the queued card's states>)`` +
``sched.answer_card`` (the reviewer's answer: one committed transaction per answer); close and
``Collection(path)`` to reopen. Options are saved as the deck options screen saves them
(``update_deck_configs``): FSRS on, retention 0.9, steps [1, 10] / [10] min, new/day ceil(N/10) and
reviews/day 1,000,000 as the deck's own limits (a preset caps both at 9999), learn-ahead
``collapseTime`` = 1200 s (Anki's default, checked), rollover 4 h; everything else as a new collection
ships it (FSRS default parameters, load balancer on, fuzz, leech = tag only, no sibling burying).
``final_queue_build_ms_p50``: the backend keeps a day's queues; switching the current deck away and back
drops them, then ``get_queued_cards()`` is timed (it builds the queues and also loads the first card and
its states: Anki has no count-only call).

Simulated days (PROTOCOL step 2). Anki has no clock parameter: rslib's ``TimestampSecs::now()`` reads
``SystemTime::now()`` (only ``#[cfg(test)]`` builds shift it) and the Python side stamps answers with
``time.time()``. Shifting ``col.crt`` back a day per day would not do: learning-step due times, revlog
ids and the card's ``last_review_time_secs`` (what FSRS's elapsed time is taken from) are wall-clock
timestamps, so every review would look same-day to FSRS. So the script re-executes
itself under libfaketime (``LD_PRELOAD``, apt package ``libfaketime``) with a *frozen* absolute time in
``FAKETIME`` and ``FAKETIME_NO_CACHE=1``: libfaketime then re-reads the ``FAKETIME`` environment
variable (an in-memory ``getenv``, no file read) on every wall-clock call, so assigning
``os.environ["FAKETIME"]`` moves the clock of both Python and the Rust core exactly where
``bench_core.py`` puts its ``now``: day d at rollover + 5 h, +200 ms per answer. The clock is only set
between timed calls. ``FAKETIME_DONT_FAKE_MONOTONIC=1`` leaves ``CLOCK_MONOTONIC`` real, so
``time.perf_counter()`` (and Rust's ``Instant``) measure real time; the script checks both. What the
faking costs: a faked wall-clock read takes ~0.36 us instead of ~0.18 us here, and one next card +
answer reads the wall clock ~20 times (counted with a call-counting preload), so ~3 us per answer
against the 300+ us an answer takes; monotonic reads are not slowed measurably (+0.01 us).
``TZ=UTC`` fixes the day boundaries. Without libfaketime the script says so on stderr and exits 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_core import final_day_keys, log, rating_for, raw_commit_rate, rss_mb, write_tsv  # noqa: E402

LIBFAKETIME_PATHS = (
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
    "/usr/local/lib/faketime/libfaketime.so.1",
)
CHILD_MARK = "FC_BENCH_PEER_UNDER_FAKETIME"
ANKI_ROLLOVER_HOUR = 4  # a new collection's default; checked after opening
DAY0 = datetime(2026, 1, 5, tzinfo=UTC)  # bench_core.py's first simulated day
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


def day_now_ms(day: int) -> int:
    """bench_core.py's start of simulated day ``day``: rollover + 5 h, UTC, as epoch ms."""
    return int(DAY0.timestamp() * 1000) + day * DAY_MS + (ANKI_ROLLOVER_HOUR + 5) * HOUR_MS


def faketime_string(ms: int) -> str:
    """libfaketime's frozen absolute format (local time; the child runs with TZ=UTC)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class FakeClock:
    """The wall clock libfaketime shows this process (Python and Rust alike): frozen at ``ms``."""

    def __init__(self) -> None:
        self.ms = 0

    def set(self, ms: int) -> None:
        self.ms = ms
        # FAKETIME_NO_CACHE=1: libfaketime getenv()s FAKETIME on every clock read.
        os.environ["FAKETIME"] = faketime_string(ms)

    def advance(self, ms: int) -> None:
        self.set(self.ms + ms)


def find_libfaketime() -> str | None:
    env = os.environ.get("LIBFAKETIME")
    for p in ((env,) if env else ()) + LIBFAKETIME_PATHS:
        if Path(p).is_file():
            return p
    return None


def reexec_under_faketime() -> None:
    """Replace this process by itself with libfaketime preloaded and the clock frozen at day 0."""
    lib = find_libfaketime()
    if lib is None:
        print("bench_core_peer: libfaketime not found (needed to move Anki's clock a simulated day at a time);"
              " install it with `apt-get install libfaketime` or point LIBFAKETIME at libfaketime.so.1",
              file=sys.stderr)
        sys.exit(2)
    env = dict(os.environ)
    env["LD_PRELOAD"] = lib + (":" + env["LD_PRELOAD"] if env.get("LD_PRELOAD") else "")
    env["FAKETIME"] = faketime_string(day_now_ms(0))
    env["FAKETIME_NO_CACHE"] = "1"
    env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
    env["NO_FAKE_STAT"] = "1"  # file times stay real (SQLite and .pyc checks see the real disk)
    env["TZ"] = "UTC"
    env[CHILD_MARK] = "1"
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]], env)


def check_clocks(clock: FakeClock) -> None:
    """The wall clock must be the faked one, and perf_counter must still run in real time."""
    clock.set(day_now_ms(0))
    wall = time.time()
    a = time.perf_counter()
    x = 0
    for i in range(200_000):
        x += i
    b = time.perf_counter()
    if abs(wall * 1000 - clock.ms) > 1 or time.time() != wall or not b > a:
        print(f"bench_core_peer: libfaketime did not take effect (time.time()={wall}, expected"
              f" {clock.ms / 1000}; perf_counter {a} -> {b})", file=sys.stderr)
        sys.exit(2)


def configure(col, deck_id: int, n: int) -> None:
    """The protocol's deck options, saved the way Anki's deck options screen saves them (FSRS on)."""
    from anki.decks import UpdateDeckConfigs

    current = col.decks.get_deck_configs_for_update(deck_id)
    conf = next(c.config for c in current.all_config if c.config.id == current.current_deck.config_id)
    conf.config.desired_retention = 0.9
    conf.config.learn_steps[:] = [1.0, 10.0]
    conf.config.relearn_steps[:] = [10.0]
    # Per-day limits: a preset keeps at most 9999 (above that Anki silently restores its defaults, 20 and
    # 200), so the protocol's limits go in the deck's own limits ("This deck" in the options screen),
    # which take precedence over the preset's and have no such ceiling.
    conf.config.new_per_day = min(math.ceil(n / 10), 9999)
    conf.config.reviews_per_day = 9999
    limits = current.current_deck.limits
    limits.new = math.ceil(n / 10)
    limits.review = 1_000_000
    col.decks.update_deck_configs(UpdateDeckConfigs(
        target_deck_id=deck_id, configs=[conf], mode=0, card_state_customizer=current.card_state_customizer,
        limits=limits, new_cards_ignore_review_limit=current.new_cards_ignore_review_limit,
        fsrs=True, apply_all_parent_limits=current.apply_all_parent_limits, fsrs_reschedule=False,
        fsrs_health_check=False))
    after = col.decks.get_deck_configs_for_update(deck_id)
    saved = next(c.config.config for c in after.all_config if c.config.id == conf.id)
    assert (after.current_deck.limits.new, after.current_deck.limits.review) == (math.ceil(n / 10), 1_000_000)
    assert (list(saved.learn_steps), list(saved.relearn_steps)) == ([1.0, 10.0], [10.0]), saved
    assert abs(saved.desired_retention - 0.9) < 1e-6, saved
    assert col.get_config("fsrs") is True
    prefs = col.get_preferences().scheduling
    assert prefs.rollover == ANKI_ROLLOVER_HOUR and prefs.learn_ahead_secs == 1200, prefs
    assert col.get_config("collapseTime") == 1200


def run(args: argparse.Namespace) -> dict:
    # anki.collection first: importing anki.cards on its own hits a circular import in the package.
    from anki.collection import Card, ImportCsvRequest
    from anki.collection import Collection as AnkiCollection
    from anki.scheduler.v3 import CardAnswer

    ratings = (CardAnswer.AGAIN, CardAnswer.HARD, CardAnswer.GOOD, CardAnswer.EASY)
    clock = FakeClock()
    check_clocks(clock)
    n = args.n
    rng = random.Random(args.seed)
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="fc-bench-peer-"))
    if tmp.exists() and args.keep:
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "anki").mkdir()
    col_path = str(tmp / "anki" / "collection.anki2")
    tsv = tmp / "bench.tsv"
    write_tsv(tsv, n, rng)
    out: dict = {"n_notes": n, "engine": f"anki {metadata.version('anki')}"}
    try:
        # 1. CSV import, as Anki's import dialog: read the file's metadata (header lines), then import.
        clock.set(day_now_ms(0))
        col = AnkiCollection(col_path)
        t0 = time.perf_counter()
        meta = col.get_csv_metadata(path=str(tsv), delimiter=None)
        result = col.import_csv(ImportCsvRequest(path=str(tsv), metadata=meta)).log
        dt = time.perf_counter() - t0
        assert len(result.new) == n, (len(result.new), len(result.duplicate), len(result.conflicting))
        out["import_csv_s"] = round(dt, 3)
        out["import_csv_notes_per_s"] = round(n / dt)
        log(f"import: {n} notes in {dt:.2f}s")

        # 2. Simulated history. Studying a deck starts with clicking it: it becomes the current deck.
        deck_id = col.decks.id_for_name("Bench")
        assert deck_id, "the #deck:Bench header did not create the deck"
        configure(col, deck_id, n)
        col.decks.set_current(deck_id)
        jm = col.db.scalar("pragma journal_mode")
        sync = col.db.scalar("pragma synchronous")
        durability = f"{jm}+synchronous={SYNCHRONOUS.get(sync, sync)}"
        log(f"durability: {durability}; load balancer: "
            f"{col.get_preferences().reviewing.load_balancer_enabled}")
        sched = col.sched
        answers = 0
        t_next = t_answer = 0.0
        day = 0
        target = 5 * n
        while answers < target:
            clock.set(day_now_ms(day))
            day_counts = None
            start_answers = answers
            while answers < target:
                a = time.perf_counter()
                queued = sched.get_queued_cards()
                if not queued.cards:
                    t_next += time.perf_counter() - a
                    break
                top = queued.cards[0]
                card = Card(col, backend_card=top.card)
                card.start_timer()
                b = time.perf_counter()
                if day_counts is None:
                    day_counts = (queued.new_count, queued.learning_count, queued.review_count)
                card.timer_started -= 3.0  # 3000 ms on the card, as bench_core.py passes
                rating = ratings[rating_for(card.type, rng) - 1]
                sched.answer_card(sched.build_answer(card=card, states=top.states, rating=rating))
                c = time.perf_counter()
                t_next += b - a
                t_answer += c - b
                answers += 1
                clock.advance(200)
            day += 1
            log(f"day {day}: {answers} answers ({answers - start_answers} today; due at start new/learn/review"
                f" {day_counts})")
        out["sim_days"] = day
        out["sim_answers"] = answers
        out["answer_card_per_s"] = round(answers / t_answer)
        out["review_loop_per_s"] = round(answers / (t_answer + t_next))
        out["sim_peak_rss_mb"] = round(rss_mb(), 1)
        revlog = col.db.scalar("select count() from revlog")
        fsrs_cards = col.db.scalar("select count() from cards where type = 2 and data like '%\"s\":%'")
        assert revlog == answers, (revlog, answers)
        assert fsrs_cards > 0, "no review card carries an FSRS memory state: FSRS is not in use"
        log(f"revlog rows {revlog}; review cards with an FSRS memory state: {fsrs_cards}")

        # 3. Final day: cold queue build, then up to 2000 cards timed call by call. The backend keeps the
        # day's queues between calls; changing the current deck (what clicking a deck in the deck list
        # does) drops them, so each timed call below builds them from the database.
        clock.set(day_now_ms(day))
        builds = []
        default_deck = col.decks.id_for_name("Default")
        for _ in range(5):
            col.decks.set_current(default_deck)
            col.decks.set_current(deck_id)
            a = time.perf_counter()
            sched.get_queued_cards()
            builds.append((time.perf_counter() - a) * 1000)
        a = time.perf_counter()
        sched.get_queued_cards()
        log(f"queue build ms {[round(x, 2) for x in builds]}; cached call {(time.perf_counter() - a) * 1000:.3f} ms")
        nexts, ans = [], []
        for _ in range(2000):
            a = time.perf_counter()
            queued = sched.get_queued_cards()
            if not queued.cards:
                break
            top = queued.cards[0]
            card = Card(col, backend_card=top.card)
            card.start_timer()
            b = time.perf_counter()
            card.timer_started -= 3.0
            rating = ratings[rating_for(card.type, rng) - 1]
            sched.answer_card(sched.build_answer(card=card, states=top.states, rating=rating))
            c = time.perf_counter()
            nexts.append((b - a) * 1000)
            ans.append((c - b) * 1000)
            clock.advance(200)
        out.update(final_day_keys(nexts, ans, builds))
        col.close()

        # 4. Close and reopen 3 times: open as the app does (the current deck is remembered), first card.
        reopen, first = [], []
        for _ in range(3):
            a = time.perf_counter()
            col = AnkiCollection(col_path)
            b = time.perf_counter()
            queued = col.sched.get_queued_cards()
            if queued.cards:
                Card(col, backend_card=queued.cards[0].card).start_timer()
            c = time.perf_counter()
            reopen.append(c - a)
            first.append((c - b) * 1000)
            col.close()
        out["reopen_s_median"] = round(statistics.median(reopen), 4)
        out["first_card_after_open_ms_median"] = round(statistics.median(first), 3)
        out["peak_rss_mb"] = round(rss_mb(), 1)
        out["db_file_bytes"] = sum(p.stat().st_size for p in (tmp / "anki").glob("collection.anki2*"))
        out["durability"] = durability
        # Reference for this run: absolute times drift with the machine's load; compare ratios.
        out["raw_sqlite_commits_per_s"] = round(raw_commit_rate(tmp))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--keep", help="use this data dir and keep it")
    args = ap.parse_args()
    try:
        metadata.version("anki")
    except metadata.PackageNotFoundError:
        print("bench_core_peer: the `anki` package is not installed (a dev dependency)", file=sys.stderr)
        sys.exit(2)
    if os.environ.get(CHILD_MARK) != "1":
        reexec_under_faketime()
    print(json.dumps(run(args)))


if __name__ == "__main__":
    main()
