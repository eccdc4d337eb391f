"""An import as a job for another process: ``python -m flashcards.import_job DATA_DIR PATH``.

The desktop app runs its imports this way, so that parsing and writing a big file never holds the
window's Python lock (a worker thread held it about half the time: frames of 60-110 ms while
importing 20,000 notes). The job uses the same pipeline as ``flashcards import``
(:func:`flashcards.importing.parse` / ``plan`` / ``apply``, a backup first) on its own connection.

Protocol: JSON lines on stdout.

- ``{"planned": summary}`` (see :func:`plan_summary`), then the job reads one line from stdin:
  ``apply`` imports; anything else, or the end of input, cancels with nothing written;
- ``{"progress": [done, total]}`` while writing;
- ``{"done": summary_text, "path": file}`` at the end, once the collection is closed (its log
  checkpointed), or ``{"error": message}`` (nothing changed).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import IO


def plan_summary(draft, plan) -> dict:
    """What a preview shows of a plan, as plain data: decks, counts, the first skipped rows and
    warnings. (Counting walks every note: 60 ms for 20,000, in the job rather than in a frame.)"""
    return {"decks": plan.deck_names, "new": plan.new, "updated": plan.updated, "unchanged": plan.unchanged,
            "to_write": sum(1 for i in plan.items if i.action != "skip"),
            "skipped": [list(s) for s in plan.skipped[:5]], "skipped_count": len(plan.skipped),
            "warnings": list((draft.warnings or [])[:5])}


def run(data_dir: str | Path, path: str | Path, stdin: IO[str], stdout: IO[str]) -> None:
    """Plan ``path`` against the collection in ``data_dir``, wait for "apply", import (see the module)."""
    from flashcards import importing
    from flashcards.collection import Collection
    from flashcards.errors import FlashcardsError

    def send(**msg) -> None:
        stdout.write(json.dumps(msg) + "\n")
        stdout.flush()

    col = Collection.open(data_dir)
    draft = None
    final: dict | None = None  # the last message: sent once the collection is closed
    try:
        try:
            draft = importing.parse(path)
            plan = importing.plan(col, draft)
        except FlashcardsError as e:
            final = {"error": str(e)}
            return
        except MemoryError:
            final = {"error": f"{Path(path).name}: the file is too large to import"}
            return
        send(planned=plan_summary(draft, plan))
        if stdin.readline().strip() != "apply":
            return
        try:
            col.backup()
            result = importing.apply(col, plan, progress=lambda done, total: send(progress=[done, total]))
        except FlashcardsError as e:
            final = {"error": str(e)}
            return
        except MemoryError:
            final = {"error": "not enough memory to import this file"}
            return
        final = {"done": result.summary(), "path": result.path}
    finally:
        if draft is not None and callable(draft.cleanup):
            draft.cleanup()
        # Closing checkpoints the write-ahead log into the database (seconds of disk work after a
        # big import): "done" comes after it, so the window does not redraw its result while the
        # job still competes for the processor and the disk.
        col.close()
        if final is not None:
            send(**final)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m flashcards.import_job DATA_DIR PATH``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m flashcards.import_job DATA_DIR PATH", file=sys.stderr)
        return 2
    if hasattr(os, "nice"):
        os.nice(10)  # the window first when the cores are busy (about 9 to 1 under Linux)
    run(args[0], args[1], sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
