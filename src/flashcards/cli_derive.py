"""``flashcards derive ARTICLE [-o FILE] [--deck NAME]``: a deck from an article's text.

Without ``-o`` the derived deck is imported into the collection through the import pipeline (a
re-derived, corrected article updates the notes it already made and keeps their progress). With
``-o`` it is written to a deck file instead, in any format ``flashcards import`` reads back.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from flashcards.errors import ExportFailed


def register(subparsers, parent) -> None:
    """Add the ``derive`` subcommand (CLI extension hook, see :data:`flashcards.cli.EXTENSIONS`)."""
    p = subparsers.add_parser(
        "derive",
        parents=[parent],
        help="make a deck from an article's text (import it, or write it with -o)",
        description="Derive flashcards from an article (plain or scraped text). Without -o the deck is "
        "imported into the collection; with -o it is written to FILE (.md, or another format "
        "`flashcards import` reads).",
    )
    p.add_argument("article", metavar="ARTICLE", help="the article's text file")
    p.add_argument("-o", "--output", metavar="FILE", help="write the deck to FILE instead of importing it")
    p.add_argument("--deck", metavar="NAME", help="deck name (default: the article's title)")
    p.set_defaults(func=cmd_derive)


def write_draft(draft, output: str | Path) -> None:
    """Write a derived Draft to ``output`` with the exporter its suffix names.

    Only formats the importer reads back are accepted, so the file can be imported later.
    """
    from flashcards.exporting import EXPORTERS
    from flashcards.importing import IMPORTERS

    out = Path(output)
    suffix = out.suffix.lower()
    formats = sorted(set(EXPORTERS) & set(IMPORTERS))
    if suffix not in formats:
        raise ExportFailed(f"{out}: cannot write {suffix or 'files without a suffix'!r}: use one of {', '.join(formats)}")
    if not out.parent.is_dir():
        raise ExportFailed(f"{out}: folder {out.parent} does not exist")
    try:
        module = importlib.import_module(EXPORTERS[suffix])
    except ModuleNotFoundError as exc:
        if exc.name != EXPORTERS[suffix]:
            raise
        raise ExportFailed(f"{out}: writing {suffix} files is not available in this version") from None
    module.write(draft, out)


def cmd_derive(args) -> int:
    """Handler of ``flashcards derive``: derive, then import or write. Returns the exit status."""
    from flashcards import derive, importing
    from flashcards.cli import _progress_for, open_collection

    draft = derive.derive_file(args.article, deck=args.deck)
    cards = sum(2 if n.notetype == "Basic (and reversed card)" else 1 for n in draft.notes)
    if args.output:
        write_draft(draft, args.output)
        for warning in draft.warnings:
            print(f"flashcards: warning: {warning}", file=sys.stderr)
        print(f"wrote {len(draft.notes)} notes ({cards} cards) from {args.article} to {args.output}")
        return 0
    col = open_collection(args)
    try:
        plan = importing.plan(col, draft)
        col.backup()
        result = importing.apply(col, plan, progress=_progress_for(f"importing {Path(args.article).name}"))
    finally:
        col.close()
    deck = draft.notes[0].deck
    print(result.summary())
    print(f"deck {deck!r}: {len(draft.notes)} notes derived from {args.article}")
    return 0
