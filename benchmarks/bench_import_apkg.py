"""Anki package import speed: an N-note ``.apkg`` written by Anki itself, imported as ``flashcards import``.

Usage: ``python benchmarks/bench_import_apkg.py [N] [--layout anki21b|anki21|anki2] [--history F] [--keep DIR]
[--package FILE] [--peer]``
(default N = 100000, newest layout). Prints exactly one JSON line on stdout (progress on stderr).

The package is built with the ``anki`` package (the dev extra; nothing is downloaded): N Basic notes
with text like the core benchmark's (Cyrillic, ``<b>``, an emoji, two tags), in a deck tree. With
``--history F`` a fraction F of the cards are review cards with an FSRS memory state and 3 review-log
rows each (half of them without a memory state, so the pipeline replays them with fsrs).

Timed: ``importing.parse`` (unzip, zstd, SQLite -> draft) and ``plan`` + ``apply`` into a fresh data
dir on disk (WAL + synchronous=FULL, as shipped; one transaction), backup included as the CLI does.
The peer figure is Anki's own CSV import on this machine kind (``../shared/bench/PROTOCOL.md``):
about 32,000 notes/s at N = 100,000; with ``--peer`` it is measured in the same run, after ours.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

PEER_CSV_NOTES_PER_S = 32_000
WORDS = ["память", "слово", "книга", "вода", "город", "друг", "время", "рука", "дело", "жизнь"]
CRT = 1767240000  # 2026-01-01 04:00 UTC


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_package(tmp: Path, n: int, layout: str, history: float, rng: random.Random) -> tuple[Path, int]:
    """Write an N-note package with Anki; returns its path and the number of review-log rows."""
    from anki.collection import AddNoteRequest, Collection, ExportAnkiPackageOptions

    col_path = tmp / "anki" / "collection.anki2"
    col_path.parent.mkdir(parents=True)
    col = Collection(str(col_path))
    try:
        basic = col.models.by_name("Basic")
        decks = [col.decks.id(f"Bench::Level {i}") for i in range(7)]
        requests = []
        for i in range(n):
            w = rng.choice(WORDS)
            note = col.new_note(basic)
            note["Front"] = f"<b>{w}</b> {i} — что это? 🙂"
            note["Back"] = f"ответ {i}: {w[::-1]}"
            note.tags = [f"tag{i % 50}", f"bench::level{i % 7}"]
            requests.append(AddNoteRequest(note=note, deck_id=decks[i % 7]))
        col.add_notes(requests)
        log(f"anki: {n} notes added")
        reviews = 0
        if history > 0:
            cids = col.db.list("select id from cards order by id")
            chosen = cids[: int(len(cids) * history)]
            rows = []
            updates = []
            for k, cid in enumerate(chosen):
                data = json.dumps({"s": 10.0 + k % 50, "d": 5.0, "lrt": CRT + 80 * 86400}) if k % 2 else "{}"
                updates.append((90 + k % 30, data, cid))
                base = (CRT + 60 * 86400) * 1000 + k
                rows += [
                    (base, cid, 3, -600, 0, 0, 5000, 0),
                    (base + 600_000, cid, 3, 1, -600, 2500, 4000, 0),
                    (base + 20 * 86400_000, cid, 3, 10, 1, 2500, 3000, 1),
                ]
            col.db.executemany(
                "update cards set type=2, queue=2, due=?, ivl=10, reps=3, data=? where id=?", updates
            )
            col.db.executemany(
                "insert into revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) values (?,?,-1,?,?,?,?,?,?)",
                rows,
            )
            reviews = len(rows)
            col.db.execute("update col set crt = ?", CRT)
            log(f"anki: {len(chosen)} cards given history ({reviews} review rows)")
        out = tmp / f"bench-{layout}.apkg"
        opts = ExportAnkiPackageOptions(
            with_scheduling=history > 0, with_deck_configs=True, with_media=True, legacy=layout != "anki21b"
        )
        col.export_anki_package(out_path=str(out), options=opts, limit=None)
    finally:
        col.close()
    if layout == "anki2":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from apkg_factory import repack_oldest

        repack_oldest(out)
    return out, reviews


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, nargs="?", default=100_000)
    ap.add_argument("--layout", choices=("anki21b", "anki21", "anki2"), default="anki21b")
    ap.add_argument("--history", type=float, default=0.0, help="fraction of cards with review history")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--keep", help="work in this directory and keep it")
    ap.add_argument(
        "--package", help="import this already built package (from --keep) instead of building one"
    )
    ap.add_argument(
        "--peer",
        action="store_true",
        help="also time Anki's own CSV import of the protocol's N-row file in this run (as "
        "bench_import_csv.py --peer), so the ratio compares like with like on a busy machine",
    )
    args = ap.parse_args()

    from flashcards import importing
    from flashcards.collection import Collection

    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="fc-bench-apkg-"))
    if args.keep and tmp.exists() and not args.package:
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        if args.package:
            pkg, reviews = Path(args.package), None
        else:
            t = time.perf_counter()
            pkg, reviews = build_package(tmp, args.n, args.layout, args.history, random.Random(args.seed))
            log(f"package built in {time.perf_counter() - t:.1f}s: {pkg.stat().st_size:,} bytes")

        shutil.rmtree(tmp / "data", ignore_errors=True)
        # Start the timed import from a clean heap, as `flashcards import` in a fresh process does:
        # building the package with Anki leaves the collector's counters and generations such that a
        # pass over every draft object could land inside the timed phases or not, run by run.
        gc.collect()
        col = Collection.open(tmp / "data")
        try:
            c0 = time.process_time()
            t0 = time.perf_counter()
            draft = importing.parse(pkg)
            t1 = time.perf_counter()
            c1 = time.process_time()
            log(f"parse: {t1 - t0:.2f}s")
            try:
                plan = importing.plan(col, draft)
                t2 = time.perf_counter()
                col.backup()
                tb = time.perf_counter()
                result = importing.apply(col, plan)
                t3 = time.perf_counter()
                c3 = time.process_time()
            finally:
                if callable(draft.cleanup):
                    draft.cleanup()
            log(f"plan: {t2 - t1:.2f}s, backup + apply: {t3 - t2:.2f}s")
            assert result.new == args.n, result.summary()
            assert reviews is None or result.reviews_added == reviews, result.summary()
            journal = col._sql("PRAGMA journal_mode").fetchone()[0]
            sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[
                col._sql("PRAGMA synchronous").fetchone()[0]
            ]
        finally:
            col.close()
        total = t3 - t0
        peer, peer_measured = PEER_CSV_NOTES_PER_S, False
        if args.peer:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from bench_import_csv import anki_import_rate, write_tsv

            peer_dir = tmp / "peer"
            shutil.rmtree(peer_dir, ignore_errors=True)
            peer_dir.mkdir()
            write_tsv(peer_dir / "bench.tsv", args.n, random.Random(args.seed))
            peer, peer_measured = anki_import_rate(peer_dir / "bench.tsv", peer_dir), True
            log(f"anki csv import: {peer:,.0f} notes/s")
        out = {
            "n_notes": args.n,
            "layout": args.layout,
            "review_rows": result.reviews_added,
            "apkg_bytes": pkg.stat().st_size,
            "parse_s": round(t1 - t0, 3),
            "parse_notes_per_s": round(args.n / (t1 - t0)),
            "parse_cpu_s": round(c1 - c0, 3),
            "plan_s": round(t2 - t1, 3),
            "backup_s": round(tb - t2, 3),
            "apply_s": round(t3 - t2, 3),  # backup included (as the CLI does it)
            "import_apkg_s": round(total, 3),
            "import_apkg_notes_per_s": round(args.n / total),
            # CPU seconds of this process: steadier than wall time on a shared 2-core machine.
            "import_apkg_cpu_s": round(c3 - c0, 3),
            "import_apkg_notes_per_cpu_s": round(args.n / (c3 - c0)),
            "peer_import_csv_notes_per_s": round(peer),
            "peer_measured": peer_measured,
            "ratio_to_peer": round(args.n / total / peer, 2),
            "peak_rss_mb": round(rss_mb(), 1),
            "db_file_bytes": (tmp / "data" / "collection.db").stat().st_size,
            "durability": f"{journal}+synchronous={sync}",
        }
        print(json.dumps(out))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
