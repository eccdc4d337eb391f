"""The first-start loader: the shipped decks (``decks/*.md``) come with the app.

On the GUI's first start with a new data dir every shipped deck is imported. Each one's version
(``Draft.version``) is remembered in ``shipped_deck``; when a newer app ships a newer version it is
re-imported as updates (notes matched by their stable ids, progress kept), unless the user deleted
that deck — then it stays deleted.
"""

from __future__ import annotations

from pathlib import Path

from flashcards import importing
from flashcards.collection import normalize_deck_name
from flashcards.importers.markdown import peek_version
from flashcards.resources import decks_dir


def shipped_deck_files(folder: Path | None = None) -> list[Path]:
    """The shipped deck files (every ``.md`` in ``decks/`` except its README)."""
    folder = folder or decks_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == ".md" and p.name.lower() != "readme.md")


def load_shipped_decks(col, folder: Path | None = None) -> list[str]:
    """Import shipped decks that are new or newer than the loaded version. Returns messages."""
    messages = []
    for path in shipped_deck_files(folder):
        key = path.stem
        row = col._sql("SELECT version, deleted, deck_name FROM shipped_deck WHERE key = ?", (key,)).fetchone()
        if row is not None and row[1]:
            continue
        # At every start of the app: the version is read from the file's header, and the whole
        # deck is parsed only when it is new or newer than the one loaded.
        version = int(peek_version(path) or 1)
        if row is not None and row[0] >= version:
            continue
        draft = importing.parse(path)
        # The deck the notes go to, which a ``deck:`` header may name differently from the title:
        # delete_deck marks this name deleted. If the user renamed the deck, updates go there.
        deck_name = normalize_deck_name(draft.notes[0].deck) if draft.notes else (draft.title or key)
        renamed = row[2] if row is not None and row[2] != deck_name else None
        plan = importing.plan(col, draft, renamed)
        result = importing.apply(col, plan)
        deck_name = renamed or deck_name
        with col.db.atomic():
            col._sql("INSERT OR REPLACE INTO shipped_deck (key, version, deck_name, deleted) VALUES (?, ?, ?, 0)",
                     (key, version, deck_name))
        messages.append(f"{'updated' if row else 'loaded'} shipped deck {deck_name!r} (version {version}): "
                        f"{result.new} new, {result.updated} updated")
    return messages
