"""CSV import benchmark: an N-row TSV (step 1 of ``../shared/bench/PROTOCOL.md``) through ``flashcards import``.

Usage: ``python benchmarks/bench_import_csv.py [N] [--seed S] [--exports] [--peer]`` (N defaults to 100000).
Prints exactly one JSON line on stdout (progress on stderr). The import runs the calls the CLI's
``import`` makes, in its order: ``importing.parse`` -> ``importing.plan`` -> ``col.backup()`` ->
``importing.apply`` into a fresh data dir on disk (WAL + synchronous=FULL), timed end to end and per
phase. Then the same file is imported again (every note unchanged: the re-import path). With
``--exports`` the collection is also exported to .tsv and .apkg (``exporting.export``), timed.
The peer (Anki 26.09's Rust importer, same file, same machine kind) does about 32,000 notes/s; with
``--peer`` (needs the ``anki`` test dependency) the same file is also imported by Anki here, in the same
run, so the ratio ``vs_peer`` compares like with like on a busy machine.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from flashcards import exporting, importing
from flashcards.collection import Collection

PEER_NOTES_PER_S = 32_000
WORDS = ["память", "слово", "книга", "вода", "город", "друг", "время", "рука", "дело", "жизнь"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def write_tsv(path: Path, n: int, rng: random.Random) -> None:
    """The protocol's file: Front<TAB>Back<TAB>tags with Anki header lines; Cyrillic, <b>, an emoji, two tags."""
    with path.open("w", encoding="utf-8") as f:
        f.write("#separator:tab\n#html:true\n#deck:Bench\n#tags column:3\n")
        for i in range(n):
            w = rng.choice(WORDS)
            f.write(f"<b>{w}</b> {i} — что это? 🙂\tответ {i}: {w[::-1]}\ttag{i % 50} bench::level{i % 7}\n")


def import_like_cli(col: Collection, path: Path) -> tuple[dict, object]:
    """parse -> plan -> backup -> apply, as ``flashcards import`` does; seconds per phase."""
    times = {}
    t = time.perf_counter()
    draft = importing.parse(path)
    times["parse"] = time.perf_counter() - t
    t = time.perf_counter()
    plan = importing.plan(col, draft, None)
    times["plan"] = time.perf_counter() - t
    t = time.perf_counter()
    col.backup()
    times["backup"] = time.perf_counter() - t
    t = time.perf_counter()
    result = importing.apply(col, plan)
    times["apply"] = time.perf_counter() - t
    times["total"] = sum(times.values())
    return times, result


def anki_import_rate(path: Path, tmp: Path) -> float:
    """Notes/s of Anki's own CSV importer on the same file (metadata + import, as its import dialog)."""
    from anki.collection import Collection as AnkiCollection
    from anki.collection import ImportCsvRequest

    (tmp / "anki").mkdir()
    col = AnkiCollection(str(tmp / "anki" / "collection.anki2"))
    try:
        t = time.perf_counter()
        metadata = col.get_csv_metadata(path=str(path), delimiter=None)
        log_ = col.import_csv(ImportCsvRequest(path=str(path), metadata=metadata)).log
        dt = time.perf_counter() - t
        return len(log_.new) / dt
    finally:
        col.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, nargs="?", default=100_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--exports", action="store_true", help="also time .tsv and .apkg exports")
    ap.add_argument("--peer", action="store_true", help="also time Anki's importer on the same file")
    args = ap.parse_args()
    n = args.n
    tmp = Path(tempfile.mkdtemp(prefix="fc-bench-csv-"))
    out: dict = {"n_notes": n}
    try:
        tsv = tmp / "bench.tsv"
        write_tsv(tsv, n, random.Random(args.seed))
        col = Collection.open(tmp / "data")
        try:
            times, result = import_like_cli(col, tsv)
            assert result.new == n, result.summary()
            log(f"import: {n} notes in {times['total']:.2f}s "
                + " ".join(f"{k}={v:.2f}s" for k, v in times.items() if k != "total"))
            out["import_csv_s"] = round(times["total"], 3)
            out["import_csv_notes_per_s"] = round(n / times["total"])
            peer = PEER_NOTES_PER_S
            if args.peer:
                peer = anki_import_rate(tsv, tmp)
                log(f"anki: {peer:,.0f} notes/s")
            out["peer_import_csv_notes_per_s"] = round(peer)
            out["peer_measured"] = bool(args.peer)
            out["vs_peer"] = round(n / times["total"] / peer, 2)
            for k in ("parse", "plan", "backup", "apply"):
                out[f"{k}_s"] = round(times[k], 3)

            times2, result2 = import_like_cli(col, tsv)
            assert result2.unchanged == n, result2.summary()
            log(f"re-import (all unchanged): {times2['total']:.2f}s")
            out["reimport_unchanged_s"] = round(times2["total"], 3)
            out["reimport_notes_per_s"] = round(n / times2["total"])

            if args.exports:
                for suffix in (".tsv", ".apkg"):
                    t = time.perf_counter()
                    exporting.export(col, tmp / f"export{suffix}")
                    dt = time.perf_counter() - t
                    log(f"export {suffix}: {dt:.2f}s")
                    out[f"export_{suffix[1:]}_s"] = round(dt, 3)
                    out[f"export_{suffix[1:]}_notes_per_s"] = round(n / dt)
        finally:
            col.close()
        out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        out["durability"] = "wal+synchronous=FULL"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
