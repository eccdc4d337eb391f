"""Write a :class:`~flashcards.drafts.Draft` as CSV/TSV with Anki's header lines.

The file reads back as updates both in Anki (File > Import) and in ``flashcards import``::

    #separator:tab
    #html:true
    #guid column:1
    #notetype column:2
    #deck column:3
    #tags column:7
    #columns:guid	notetype	deck	Front	Back	Source	tags

Every field of each note is written (as the HTML it is stored as), padded to the note type with the
most fields. The note's source text follows the fields in a column named ``Source``: Anki reads it
as one field more than the note type has and ignores it; our importer reads it back as the source.
Field columns are named after the fields when all notes share one note type, else ``Field 1``,
``Field 2``... (names that match no field, so both importers map the columns by position). Rows are
grouped by deck, parents first. ``.tsv``/``.txt`` files are tab-separated, ``.csv`` comma-separated.
Scheduling is not part of the format. The file is written to a temporary file beside the target and
renamed into place.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flashcards.drafts import Draft
from flashcards.errors import ExportFailed

Progress = Callable[[int, int], None]
_PROGRESS_EVERY = 1000


@contextmanager
def atomic_output(path: str | os.PathLike, mode: str = "w", **open_kwargs) -> Iterator:
    """Open a temporary file beside ``path``; on success rename it over ``path``, on any error remove
    it, so the target is either the complete new file or untouched."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes 0600 files; an export is an ordinary document: honour the umask.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def separator_for(path: str | os.PathLike) -> str:
    """The separator the file name asks for: comma for ``.csv``, tab otherwise."""
    return "," if Path(path).suffix.lower() == ".csv" else "\t"


def _quoter(sep: str) -> Callable[[str], str]:
    specials = (sep, '"', "\n", "\r")

    def quote(value: str) -> str:
        # Quote only when needed (as Anki does), so a plain TSV stays readable.
        for ch in specials:
            if ch in value:
                return '"' + value.replace('"', '""') + '"'
        return value

    return quote


def write(draft: Draft, path: str | os.PathLike, progress: Progress | None = None) -> int:
    """Write ``draft``'s notes to ``path``; returns the number of notes written."""
    sep = separator_for(path)
    sep_name = "comma" if sep == "," else "tab"
    # Parents before children (order within a deck kept): Anki's CSV import duplicates a deck
    # ("Lang+") that an earlier row created implicitly as the parent of "Lang::French".
    notes = sorted(draft.notes, key=lambda n: n.deck.split("::"))
    total = len(notes)
    n_fields = 1
    nt_names: set[str] = set()
    for note in notes:
        nt_names.add(note.notetype)
        n_fields = max(n_fields, len(note.fields))
    if len(nt_names) == 1:
        try:
            field_names = list(draft.notetype(next(iter(nt_names))).fields)
        except KeyError:
            field_names = []
    else:
        field_names = []
    if len(field_names) < n_fields:
        field_names = [f"Field {i + 1}" for i in range(n_fields)]
    n_fields = len(field_names)
    if "Source" in field_names:
        raise ExportFailed(f"{path}: a note type has a field named 'Source', which this format uses for the "
                           "note's source; export as .apkg or .md instead")
    tags_col = 3 + n_fields + 2  # guid, notetype, deck, fields..., Source, tags (1-based)
    quote = _quoter(sep)
    labels = ["guid", "notetype", "deck", *field_names, "Source", "tags"]
    head = [
        f"#separator:{sep_name}",
        "#html:true",
        "#guid column:1",
        "#notetype column:2",
        "#deck column:3",
        f"#tags column:{tags_col}",
        "#columns:" + sep.join(quote(x) for x in labels),
    ]
    pad = [""] * n_fields
    with atomic_output(path, "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(head) + "\n")
        out: list[str] = []
        for i, note in enumerate(notes, 1):
            guid = quote(note.guid)
            if guid.startswith("#"):
                guid = '"' + guid + '"'  # a row starting with "#" would read as a comment
            cols = [guid, quote(note.notetype), quote(note.deck)]
            cols.extend(quote(v) for v in (note.fields + pad)[:n_fields])
            cols.append(quote(note.source or ""))
            cols.append(quote(" ".join(note.tags)))
            out.append(sep.join(cols))
            if i % _PROGRESS_EVERY == 0:
                f.write("\n".join(out) + "\n")
                out.clear()
                if progress is not None:
                    progress(i, total)
        if out:
            f.write("\n".join(out) + "\n")
    if progress is not None:
        progress(total, total)
    return total
