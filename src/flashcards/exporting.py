"""Exports: the collection (or one deck) as a Draft, written by the exporter its suffix names."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from flashcards.errors import ExportFailed

# suffix -> exporter module (each has ``write(draft, path, progress=None)``)
EXPORTERS = {
    ".csv": "flashcards.exporters.csv",
    ".tsv": "flashcards.exporters.csv",
    ".txt": "flashcards.exporters.csv",
    ".md": "flashcards.exporters.markdown",
    ".apkg": "flashcards.exporters.apkg",
}


def export(col, path: str | os.PathLike, deck: str | None = None, scheduling: bool = True,
           progress=None) -> int:
    """Write the collection (or ``deck`` and its subdecks) to ``path``; returns the notes written.

    The format comes from the suffix. Exporters write a temporary file and rename it, so a failed
    export leaves no partial file.
    """
    p = Path(path)
    module = EXPORTERS.get(p.suffix.lower())
    if module is None:
        raise ExportFailed(f"{p}: unsupported export format {p.suffix or '(none)'!r}: use one of "
                           f"{', '.join(sorted(EXPORTERS))}")
    if p.parent and not p.parent.exists():
        raise ExportFailed(f"{p}: folder {p.parent} does not exist")
    draft = col.to_draft(deck=deck, scheduling=scheduling)
    try:
        importlib.import_module(module).write(draft, p, progress=progress)
    except OSError as e:
        raise ExportFailed(f"{p}: cannot write: {e.strerror or e}") from None
    return len(draft.notes)
