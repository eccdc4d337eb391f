"""Core benchmark: ``../shared/bench/PROTOCOL.md`` against this project's own core.

Usage: ``python benchmarks/bench_core.py N [--seed S] [--keep DIR]`` (N = 1000, 10000, 100000).
Prints exactly one JSON line on stdout (progress on stderr). It runs the same calls the app makes:
``importing.parse/plan/apply`` (as ``flashcards import``), ``StudySession.next_card`` and
``StudySession.answer`` (as the study screen), with the database on disk, WAL + synchronous=FULL.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flashcards import importing
from flashcards.collection import Collection
from flashcards.drafts import CardState
from flashcards.options import DeckOptions
from flashcards.timeutil import day_start

WORDS = ["память", "слово", "книга", "вода", "город", "друг", "время", "рука", "дело", "жизнь"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))
    return s[k]


def write_tsv(path: Path, n: int, rng: random.Random) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write("#separator:tab\n#html:true\n#deck:Bench\n#tags column:3\n")
        for i in range(n):
            w = rng.choice(WORDS)
            f.write(f"<b>{w}</b> {i} — что это? 🙂\tответ {i}: {w[::-1]}\ttag{i % 50} bench::level{i % 7}\n")


def rating_for(state: int, rng: random.Random) -> int:
    x = rng.random()
    if state in (CardState.NEW, CardState.LEARNING):
        return 1 if x < 0.15 else 2 if x < 0.20 else 3 if x < 0.90 else 4
    return 1 if x < 0.10 else 2 if x < 0.15 else 3 if x < 0.90 else 4


def final_day_keys(nexts: list[float], answers: list[float], builds: list[float]) -> dict:
    """Step 3's JSON keys from the per-call times in ms (shared with bench_core_peer.py).

    ``final_card_ms_*`` (next card + answer, per card) is the like-for-like figure between the two
    engines: Anki computes a card's four next states when it fetches the card (``get_queued_cards``)
    and its answer only stores the chosen one; ours fetches the card and computes at answer time.
    """
    cards = [a + b for a, b in zip(nexts, answers, strict=False)]
    return {
        "final_cards": len(answers),
        "final_next_card_ms_p50": round(statistics.median(nexts), 4) if nexts else None,
        "final_next_card_ms_p99": round(pct(nexts, 0.99), 4) if nexts else None,
        "final_answer_ms_p50": round(statistics.median(answers), 4) if answers else None,
        "final_answer_ms_p99": round(pct(answers, 0.99), 4) if answers else None,
        "final_card_ms_p50": round(statistics.median(cards), 4) if cards else None,
        "final_card_ms_p99": round(pct(cards, 0.99), 4) if cards else None,
        "final_queue_build_ms_p50": round(statistics.median(builds), 3),
    }


def raw_commit_rate(folder: Path, n: int = 2000) -> float:
    """The physical limit now, on this disk: plain sqlite3, WAL + synchronous=FULL, one insert plus one
    update per committed transaction on a 100,000-row table (PROTOCOL.md's reference measurement)."""
    import sqlite3

    path = folder / "raw.db"
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode=wal")
    c.execute("PRAGMA synchronous=FULL")
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    c.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, v INTEGER)")
    c.execute("BEGIN")  # the fill is set-up, one transaction (in autocommit each row would be synced)
    c.executemany("INSERT INTO t VALUES (?, 0)", ((i,) for i in range(100_000)))
    c.execute("COMMIT")
    t0 = time.perf_counter()
    for i in range(n):
        c.execute("BEGIN IMMEDIATE")
        c.execute("INSERT INTO r (v) VALUES (?)", (i,))
        c.execute("UPDATE t SET v = v + 1 WHERE id = ?", (i * 37 % 100_000,))
        c.execute("COMMIT")
    rate = n / (time.perf_counter() - t0)
    c.close()
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--keep", help="use this data dir and keep it")
    args = ap.parse_args()
    n = args.n
    rng = random.Random(args.seed)
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="fc-bench-"))
    if tmp.exists() and args.keep:
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True, exist_ok=True)
    data_dir = tmp / "data"
    tsv = tmp / "bench.tsv"
    write_tsv(tsv, n, rng)
    out: dict = {"n_notes": n}
    try:
        # 1. CSV import, same path as `flashcards import` (backup included, as the CLI does).
        col = Collection.open(data_dir)
        # Load the importer module first: Python's one-time module loading is not import throughput.
        importlib.import_module(importing.IMPORTERS[".tsv"])
        t0 = time.perf_counter()
        result = importing.import_file(col, tsv)
        dt = time.perf_counter() - t0
        assert result.new == n, result.summary()
        out["import_csv_s"] = round(dt, 3)
        out["import_csv_notes_per_s"] = round(n / dt)
        log(f"import: {n} notes in {dt:.2f}s")

        # 2. Simulated history.
        deck_id = col.deck_id("Bench")
        col.set_deck_options(deck_id, DeckOptions(desired_retention=0.9, learning_steps=[1.0, 10.0],
                                                  relearning_steps=[10.0], new_per_day=math.ceil(n / 10),
                                                  reviews_per_day=1_000_000))
        day0 = datetime(2026, 1, 5, tzinfo=UTC).date()
        rollover = col.rollover_hour
        answers = 0
        t_next = t_answer = 0.0
        day = 0
        target = 5 * n
        while answers < target:
            start = day_start(day0 + timedelta(days=day), rollover)
            now = start + timedelta(hours=5)
            session = col.study(deck_id)
            while answers < target:
                a = time.perf_counter()
                card = session.next_card(now)
                b = time.perf_counter()
                if card is None:
                    t_next += b - a
                    break
                r = rating_for(card.state, rng)
                session.answer(card.card_id, r, now, 3000)
                c = time.perf_counter()
                t_next += b - a
                t_answer += c - b
                answers += 1
                now += timedelta(milliseconds=200)
            day += 1
            log(f"day {day}: {answers} answers")
        out["sim_days"] = day
        out["sim_answers"] = answers
        out["answer_card_per_s"] = round(answers / t_answer)
        out["review_loop_per_s"] = round(answers / (t_answer + t_next))
        out["sim_peak_rss_mb"] = round(rss_mb(), 1)

        # 3. Final day: cold queue build, then up to 2000 cards timed call by call.
        start = day_start(day0 + timedelta(days=day), rollover)
        now = start + timedelta(hours=5)
        builds = []
        for _ in range(5):
            col._opts_cache.clear()
            s = col.study(deck_id)
            a = time.perf_counter()
            s.counts(now)  # builds the queue
            builds.append((time.perf_counter() - a) * 1000)
        session = col.study(deck_id)
        session.counts(now)
        nexts, ans = [], []
        for _ in range(2000):
            a = time.perf_counter()
            card = session.next_card(now)
            b = time.perf_counter()
            if card is None:
                break
            session.answer(card.card_id, rating_for(card.state, rng), now, 3000)
            c = time.perf_counter()
            nexts.append((b - a) * 1000)
            ans.append((c - b) * 1000)
            now += timedelta(milliseconds=200)
        out.update(final_day_keys(nexts, ans, builds))
        col.close()

        # 4. Close and reopen 3 times: open as the app does, fetch the first due card.
        reopen, first = [], []
        for _ in range(3):
            a = time.perf_counter()
            col = Collection.open(data_dir)
            did = col.deck_id("Bench")
            b = time.perf_counter()
            card = col.study(did).next_card(now)
            c = time.perf_counter()
            assert card is not None or True
            reopen.append(c - a)
            first.append((c - b) * 1000)
            col.close()
        out["reopen_s_median"] = round(statistics.median(reopen), 4)
        out["first_card_after_open_ms_median"] = round(statistics.median(first), 3)
        out["peak_rss_mb"] = round(rss_mb(), 1)
        out["db_file_bytes"] = sum(p.stat().st_size for p in data_dir.glob("collection.db*"))
        out["durability"] = "wal+synchronous=FULL"
        # Reference for this run: absolute times drift with the machine's load; compare ratios.
        out["raw_sqlite_commits_per_s"] = round(raw_commit_rate(tmp))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
