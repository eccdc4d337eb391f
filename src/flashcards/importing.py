"""The import pipeline every format plugs into: ``parse(path) -> Draft``, ``plan``, ``apply``.

* :func:`parse` picks the importer by suffix (importers are pure: they read the file, write nothing).
* :func:`plan` compares the draft with the collection — new / updated / unchanged / skipped, with
  reasons — without writing (the GUI shows it as a preview).
* :func:`apply` writes the plan in one transaction: media files first (removed again if anything
  fails), then decks, note types, notes, cards with the scheduling the file brings, review rows.
  A failed file leaves the collection unchanged.

Re-imports match notes by ``guid``: changed content updates the note and keeps its cards' progress;
identical content changes nothing. Review rows are keyed by their (deterministic) ids, so importing
the same history twice adds nothing. A card's local answers newer than the file's are never
overwritten: the file's state only becomes the card's baseline when the file is at least as recent.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flashcards import render
from flashcards.collection import Collection, _tags_to_db, normalize_deck_name, sort_text
from flashcards.drafts import (
    CardState,
    Draft,
    DraftCard,
    DraftNote,
    DraftNotetype,
    IfMatches,
    ReviewKind,
    content_guid,
)
from flashcards.errors import FlashcardsError, ImportFailed
from flashcards.gcpause import paused as gc_paused
from flashcards.options import DeckOptions
from flashcards.render import field_is_empty
from flashcards.scheduling import SchedState, replay
from flashcards.timeutil import to_ms, utc_now

# suffix -> importer module (each has ``parse(path) -> Draft``)
IMPORTERS = {
    ".csv": "flashcards.importers.csv",
    ".tsv": "flashcards.importers.csv",
    ".txt": "flashcards.importers.csv",
    ".md": "flashcards.importers.markdown",
    ".markdown": "flashcards.importers.markdown",
    ".apkg": "flashcards.importers.apkg",
    ".colpkg": "flashcards.importers.apkg",
}
MAX_FIELD_BYTES = 1_000_000

Progress = Callable[[int, int], None]


def parse(path: str | os.PathLike) -> Draft:
    """Read a file into a Draft with the importer its suffix names. Raises ImportFailed."""
    p = Path(path)
    if not p.exists():
        raise ImportFailed(p, "no such file")
    if p.is_dir():
        raise ImportFailed(p, "is a folder, not a file")
    module = IMPORTERS.get(p.suffix.lower())
    if module is None:
        raise ImportFailed(p, f"unsupported file type {p.suffix or '(none)'!r}: use one of "
                              f"{', '.join(sorted(IMPORTERS))}")
    try:
        draft = importlib.import_module(module).parse(p)
    except (FlashcardsError, MemoryError):
        raise
    except OSError as e:
        raise ImportFailed(p, f"cannot read file: {e.strerror or e}") from None
    except UnicodeError as e:
        raise ImportFailed(p, f"cannot decode text: {e}") from None
    return draft


@dataclass
class NotePlan:
    """What the import will do with one note."""

    action: str  # "new" | "update" | "unchanged" | "skip"
    note: DraftNote
    note_id: int | None = None
    reason: str = ""
    ords: list[int] = field(default_factory=list)


@dataclass
class ImportPlan:
    """A preview of an import: counts, per-note actions, decks that will receive notes."""

    draft: Draft
    items: list[NotePlan]
    deck_override: str | None = None
    skipped: list[tuple[object, str]] = field(default_factory=list)

    def _count(self, action: str) -> int:
        return sum(1 for i in self.items if i.action == action)

    @property
    def new(self) -> int:
        return self._count("new")

    @property
    def updated(self) -> int:
        return self._count("update")

    @property
    def unchanged(self) -> int:
        return self._count("unchanged")

    @property
    def deck_names(self) -> list[str]:
        names = []
        for i in self.items:
            if i.action != "skip":
                for d in [i.note.deck] + [c.deck for c in (i.note.cards or []) if c.deck]:
                    if d not in names:
                        names.append(d)
        return names

    def summary(self) -> str:
        """One line: new / updated / unchanged / skipped."""
        return (f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
                f"{len(self.skipped)} skipped")


@dataclass
class ImportResult:
    """What an import did."""

    path: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[tuple[object, str]] = field(default_factory=list)
    reviews_added: int = 0
    media_added: int = 0
    decks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Human summary, several lines when there are skips or warnings."""
        lines = [f"{self.path}: {self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
                 f"{len(self.skipped)} skipped"
                 + (f", {self.reviews_added} reviews" if self.reviews_added else "")
                 + (f", {self.media_added} media files" if self.media_added else "")]
        for where, why in self.skipped[:20]:
            lines.append(f"  skipped{f' (line {where})' if where is not None else ''}: {why}")
        if len(self.skipped) > 20:
            lines.append(f"  ... and {len(self.skipped) - 20} more skipped")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _fields_for(nt: DraftNotetype, fields: list[str]) -> list[str] | None:
    n = len(nt.fields)
    if len(fields) > n and any(f.strip() for f in fields[n:]):
        return None
    return (list(fields) + [""] * n)[:n]


def plan(col: Collection, draft: Draft, deck: str | None = None) -> ImportPlan:
    """Compare a draft with the collection; nothing is written. ``deck`` puts every note there."""
    with gc_paused():
        return _plan(col, draft, deck)


def _plan(col: Collection, draft: Draft, deck: str | None = None) -> ImportPlan:
    if deck is not None:
        deck = normalize_deck_name(deck)
    items: list[NotePlan] = []
    skipped: list[tuple[object, str]] = list(draft.skipped)
    guids = [n.guid for n in draft.notes]
    existing: dict[str, tuple] = {}
    if guids:
        existing = _existing_notes(col, guids, with_deck=draft.match_scope_deck)
    seen: set[str] = set()
    nt_cache: dict[str, DraftNotetype] = {}
    ord_memo: dict = {}
    deck_ok: set[str] = set()
    tags_db: dict[tuple, str] = {}  # tags repeat across notes: their stored text is made once per set
    for note in draft.notes:
        where = note.line
        nt = nt_cache.get(note.notetype)
        if nt is None:
            try:
                nt = draft.notetype(note.notetype)
            except KeyError:
                # Formats that cannot carry note types (CSV) may name one the collection has.
                try:
                    nt = col._notetype_by_name(note.notetype)
                except FlashcardsError:
                    raise ImportFailed(draft.path, f"note uses unknown note type {note.notetype!r}",
                                       where) from None
                draft.notetypes.append(nt)
            nt_cache[note.notetype] = nt
        if deck is not None:
            note.deck = deck
            for c in note.cards or []:
                c.deck = None
        fields = note.fields
        # A character is at most 4 bytes in UTF-8: only long fields need encoding to be measured
        # (and none is long when all of them together are short).
        if sum(map(len, fields)) * 4 > MAX_FIELD_BYTES:
            for f in fields:
                if len(f) * 4 > MAX_FIELD_BYTES and len(f.encode("utf-8")) > MAX_FIELD_BYTES:
                    raise ImportFailed(draft.path, f"note {note.guid} has a field over 1 MB; the file was refused",
                                       where)
        if len(fields) != len(nt.fields):
            fields = _fields_for(nt, fields)
            if fields is None:
                skipped.append((where, f"{len(note.fields)} fields, but note type {nt.name!r} has {len(nt.fields)}"))
                items.append(NotePlan("skip", note, reason="too many fields"))
                continue
            note.fields = fields
        if note.guid in seen:
            skipped.append((where, f"duplicate of an earlier note in the file (id {note.guid})"))
            items.append(NotePlan("skip", note, reason="duplicate in file"))
            continue
        seen.add(note.guid)
        # Which fields are empty, each tested once (most start with a letter or digit: no regex).
        empty = tuple([not f[:1].isalnum() and field_is_empty(f) for f in fields])
        if empty[0]:
            skipped.append((where, f"empty first field ({nt.fields[0]})"))
            items.append(NotePlan("skip", note, reason="empty first field"))
            continue
        if nt.is_cloze:
            ords = render.card_ordinals(nt, fields)
        else:
            # A standard note type's cards depend only on which fields are empty: render each
            # emptiness pattern's templates once per import.
            key = (id(nt), empty)
            ords = ord_memo.get(key)
            if ords is None:
                ords = ord_memo[key] = render.card_ordinals(
                    nt, ["" if e else f for e, f in zip(empty, fields, strict=True)])
        if not ords:
            reason = "no cloze deletion such as {{c1::...}}" if nt.is_cloze else "every card front is empty"
            skipped.append((where, reason))
            items.append(NotePlan("skip", note, reason=reason))
            continue
        if note.deck not in deck_ok:
            try:
                normalize_deck_name(note.deck)
            except FlashcardsError as e:
                raise ImportFailed(draft.path, str(e), where) from None
            deck_ok.add(note.deck)
        ex = existing.get(note.guid) if existing else None
        if ex is not None and draft.match_scope_deck and ex[5] and ex[5] != note.deck:
            ex = None
            note.guid = content_guid(note.guid, note.deck)
        if ex is None:
            items.append(NotePlan("new", note, None, "", ords))
            continue
        note_id, ntname, ex_fields, ex_tags, ex_source, _ex_deck = ex
        if draft.if_matches == IfMatches.KEEP:
            skipped.append((where, "already in the collection (keep current)"))
            items.append(NotePlan("skip", note, note_id, reason="exists"))
            continue
        if draft.if_matches == IfMatches.DUPLICATE:
            note.guid = content_guid(note.guid, "copy", str(len(items)))
            items.append(NotePlan("new", note, ords=ords))
            continue
        if ntname != nt.name and not ntname.startswith(nt.name + " ("):
            skipped.append((where, f"exists with another note type ({ntname})"))
            items.append(NotePlan("skip", note, note_id, reason="note type differs"))
            continue
        tags = tuple(note.tags)
        tags_text = tags_db.get(tags)
        if tags_text is None:
            tags_text = tags_db[tags] = _tags_to_db(tags)
        # Equal text is equal content (imports store fields as _dump_fields writes them); other
        # spellings of the same JSON are compared parsed.
        same = ((ex_fields == _dump_fields(fields) or json.loads(ex_fields) == fields) and ex_tags == tags_text
                and ex_source == (note.source or ""))
        items.append(NotePlan("unchanged" if same else "update", note, note_id, ords=ords))
    return ImportPlan(draft=draft, items=items, deck_override=deck, skipped=skipped)


def _existing_notes(col: Collection, guids: list[str], with_deck: bool) -> dict[str, tuple]:
    """``{guid: (id, note type name, fields, tags, source, deck of its first card or None)}`` for the
    guids the collection has. The deck is looked up only ``with_deck`` (match scope: note type + deck)."""
    size = col._sql("SELECT MAX(id) FROM note").fetchone()[0]
    if size is None:
        return {}
    if len(guids) * 4 >= size:
        # Much of the table: one pass over the guid index (in guid order, no table reads) beats a
        # random lookup per guid.
        wanted = set(guids)
        ids = [i for g, i in col._sql("SELECT guid, id FROM note") if g in wanted]
    else:
        ids = [r[0] for r in col._sql("SELECT id FROM note WHERE guid IN (SELECT value FROM json_each(?))",
                                      (json.dumps(guids),))]
    if not ids:
        return {}
    ids.sort()  # then the table is read in its own order
    deck = ("(SELECT d.name FROM card c JOIN deck d ON d.id = c.deck_id WHERE c.note_id = n.id LIMIT 1)"
            if with_deck else "NULL")
    return {row[0]: row[1:] for row in col._sql(
        f"SELECT n.guid, n.id, t.name, n.fields, n.tags, n.source, {deck} "
        "FROM note n JOIN notetype t ON t.id = n.notetype_id WHERE n.id IN (SELECT value FROM json_each(?))",
        (json.dumps(ids),))}


def _baseline(card: DraftCard, opts: DeckOptions, card_key: int, day_of=None) -> tuple[SchedState, int] | None:
    """The baseline a file's card brings (None: a plain new card) and the time it holds for."""
    answers = sorted((r.time_ms, r.rating) for r in card.reviews
                     if r.kind in (ReviewKind.LEARN, ReviewKind.REVIEW, ReviewKind.RELEARN, ReviewKind.FILTERED)
                     and 1 <= r.rating <= 4)
    if card.state == CardState.NEW and not card.reviews:
        return None
    t = max([card.last_review_ms or 0] + [r.time_ms for r in card.reviews])
    lapses = 0
    if card.state == CardState.NEW:
        return SchedState(reps=len(answers)), t
    s = SchedState(int(card.state), card.step, card.stability, card.difficulty, card.due_ms, card.last_review_ms,
                   len(answers), 0)
    if card.stability is None or card.difficulty is None:
        # No memory state in the file: replay its history with fsrs (no fuzz: the file's due date wins).
        if answers:
            r = replay(SchedState(), answers, opts, card_key, fuzz=False, day_of=day_of)
            s.stability, s.difficulty = r.stability, r.difficulty
            lapses = r.lapses
            if s.last_review_ms is None:
                s.last_review_ms = r.last_review_ms
        else:
            s.stability, s.difficulty = None, None
    if s.state != CardState.NEW and (s.stability is None or s.difficulty is None):
        # A reviewed card without any usable history: treat as new rather than invent a memory state.
        return SchedState(reps=len(answers)), t
    if s.due_ms is None:
        s.due_ms = t
    if s.state in (CardState.LEARNING, CardState.RELEARNING) and s.step is None:
        s.step = 0
    if s.state == CardState.REVIEW:
        s.step = None
    s.lapses = lapses or sum(1 for r in card.reviews if r.kind == ReviewKind.REVIEW and r.rating == 1)
    return s, t


def _write_media(col: Collection, draft: Draft, items: list[NotePlan]) -> tuple[list[Path], int]:
    """Copy media into media/ before the database commit. Returns files written (for rollback)."""
    written: list[Path] = []
    renames: dict[str, str] = {}
    try:
        for m in draft.media:
            if not render.is_safe_media_name(m.name):
                draft.warnings.append(f"media file {m.name!r} has an unsafe name and was skipped")
                continue
            data = m.read()
            target = col.media_dir / m.name
            name = m.name
            if target.exists():
                if target.read_bytes() == data:
                    continue
                stem, dot, ext = m.name.rpartition(".")
                if not dot:
                    stem, ext = m.name, ""
                name = f"{stem}-{hashlib.sha1(data).hexdigest()[:8]}{dot}{ext}"
                target = col.media_dir / name
                renames[m.name] = name
                if target.exists():
                    continue
            tmp = target.with_name(target.name + ".part")
            tmp.write_bytes(data)
            os.replace(tmp, target)
            written.append(target)
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise
    if renames:
        for it in items:
            it.note.fields = [_rename_refs(f, renames) for f in it.note.fields]
    return written, len(written)


def _rename_refs(html: str, renames: dict[str, str]) -> str:
    for old, new in renames.items():
        if old in html:
            html = html.replace(f'src="{old}"', f'src="{new}"').replace(f"src='{old}'", f"src='{new}'") \
                .replace(f"src={old}", f"src={new}").replace(f"[sound:{old}]", f"[sound:{new}]")
    return html


def apply(col: Collection, plan_: ImportPlan, progress: Progress | None = None) -> ImportResult:
    """Write a plan in one transaction (media first). Returns what was done."""
    with gc_paused():
        return _apply(col, plan_, progress)


def _apply(col: Collection, plan_: ImportPlan, progress: Progress | None = None) -> ImportResult:
    draft = plan_.draft
    result = ImportResult(path=draft.path, skipped=list(plan_.skipped), warnings=list(draft.warnings))
    items = [i for i in plan_.items if i.action != "skip"]
    total = len(items)
    now_ms = to_ms(utc_now())
    written, result.media_added = _write_media(col, draft, items)
    result.warnings = list(draft.warnings)  # _write_media adds its own (unsafe media names)
    conn = col.db.connection()
    # SQLite checks each inserted row's foreign keys (notetype, deck, note) with a lookup apiece;
    # _check_references checks the few distinct ones this import uses instead. The pragma cannot
    # change inside a transaction, so under a caller's open transaction the row checks stay on.
    fk_paused = not conn.in_transaction and conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    try:
        if fk_paused:
            conn.execute("PRAGMA foreign_keys = OFF")
        with col.db.atomic():
            col.data_version_changed()  # drop caches another process made stale (deck names, options)
            _check_plan_still_holds(conn, draft.path, items)
            # Decks: create the ones notes need; bring options only into decks this import creates.
            existing_decks = set(col.deck_names().values())
            draft_opts = {normalize_deck_name(d.name): d for d in draft.decks}
            deck_ids: dict[str, int] = {}

            def deck_id(raw: str) -> int:
                if raw in deck_ids:
                    return deck_ids[raw]
                name = normalize_deck_name(raw)
                if name not in deck_ids:
                    created = name not in existing_decks
                    did = col.deck_id(name, create=True, now_ms=now_ms)
                    dd = draft_opts.get(name)
                    if created and dd is not None and (dd.options or dd.description):
                        opts = DeckOptions.from_dict({**DeckOptions().to_dict(), **(dd.options or {})})
                        try:
                            opts.validated()
                        except FlashcardsError as e:
                            result.warnings.append(f"deck {name!r}: options not imported ({e})")
                            opts = DeckOptions()
                        conn.execute("UPDATE deck SET options = ?, description = ? WHERE id = ?",
                                     (json.dumps(opts.to_dict()), dd.description, did))
                        col._opts_cache.pop(did, None)
                    deck_ids[name] = did
                deck_ids[raw] = deck_ids[name]
                return deck_ids[name]

            nt_ids: dict[str, int] = {}

            def notetype_id(name: str) -> int:
                if name not in nt_ids:
                    nt_ids[name] = col.notetype_id(draft.notetype(name))
                return nt_ids[name]

            next_note = (conn.execute("SELECT MAX(id) FROM note").fetchone()[0] or 0) + 1
            next_card = col.next_card_id()  # never a deleted card's id: its reviews keep that id
            existing_cards = next_card - 1  # an upper bound on the cards already there
            position = (conn.execute("SELECT MAX(position) FROM card").fetchone()[0] or 0) + 1
            # A file's own new-card order (e.g. Anki's positions) comes after the cards already here.
            base = position
            file_positions = [c.position for it in items for c in (it.note.cards or []) if c.position is not None]
            if file_positions:
                position = base + max(file_positions) + 1
            note_rows, card_rows, review_rows = [], [], []
            sched_cards: list[tuple[int, DraftCard, int]] = []  # (card id, draft card, deck id)
            tags_db: dict[tuple, str] = {}  # tags repeat across notes: store each set's text once
            # The cards of the notes already here, read at once (this loop only adds cards after it).
            old_cards: dict[int, dict[int, tuple[int, int]]] = {}  # note id -> {ord: (card id, deck id)}
            no_cards: dict[int, tuple[int, int]] = {}
            old_ids = [it.note_id for it in items if it.action != "new"]
            if old_ids:
                for note_id, card_id, o, card_deck in conn.execute(
                        "SELECT note_id, id, ord, deck_id FROM card WHERE note_id IN (SELECT value FROM json_each(?))",
                        (json.dumps(old_ids),)):
                    old_cards.setdefault(note_id, {})[o] = (card_id, card_deck)
            note_updates: list[tuple] = []
            card_new = CardState.NEW
            for done, it in enumerate(items):
                if progress and done % 2000 == 0:
                    progress(done, total)
                note = it.note
                ntid = nt_ids.get(note.notetype) or notetype_id(note.notetype)
                if it.action == "new":
                    nid = next_note
                    next_note += 1
                    fields = note.fields
                    tags = tuple(note.tags)
                    tags_text = tags_db.get(tags)
                    if tags_text is None:
                        tags_text = tags_db[tags] = _tags_to_db(tags)
                    note_rows.append((nid, note.guid, ntid, _dump_fields(fields), tags_text, note.source or "",
                                      sort_text(fields[0]), now_ms, now_ms))
                    cards = note.cards
                    if not cards:  # content only (CSV, Markdown): every card new, in import order
                        did = deck_ids.get(note.deck) or deck_id(note.deck)
                        for o in it.ords:
                            card_rows.append((next_card, nid, o, did, position, 0, 0))
                            next_card += 1
                            position += 1
                        continue
                    if len(cards) == 1 and len(it.ords) == 1:
                        dc = cards[0]
                        if (dc.ord == it.ords[0] and not dc.reviews and dc.state == card_new
                                and not dc.buried):
                            # A package's plain new card (shared decks: nearly all of them).
                            raw = dc.deck or note.deck
                            did = deck_ids.get(raw) or deck_id(raw)
                            card_rows.append((next_card, nid, dc.ord, did,
                                              position if dc.position is None else base + dc.position,
                                              1 if dc.suspended else 0, int(dc.flag)))
                            next_card += 1
                            position += 1
                            continue
                    by_ord = {c.ord: c for c in cards}
                    for o in sorted(set(it.ords) | set(by_ord)):
                        dc = by_ord.get(o)
                        did = deck_id(dc.deck if dc is not None and dc.deck else note.deck)
                        cid = next_card
                        next_card += 1
                        pos = position
                        position += 1
                        if dc is not None and dc.position is not None:
                            pos = base + dc.position
                        card_rows.append((cid, nid, o, did, pos, int(bool(dc and dc.suspended)),
                                          int(dc.flag) if dc else 0))
                        if dc is not None and (dc.reviews or dc.state != CardState.NEW or dc.buried):
                            sched_cards.append((cid, dc, did))
                else:
                    nid = it.note_id
                    if it.action == "update":
                        note_updates.append((_dump_fields(note.fields), _tags_to_db(note.tags), note.source or "",
                                             sort_text(note.fields[0]), now_ms, nid))
                        result.updated += 1
                    else:
                        result.unchanged += 1
                    have = old_cards.get(nid, no_cards)
                    by_ord = {c.ord: c for c in (note.cards or [])}
                    for o in sorted(set(it.ords) | set(by_ord)):
                        dc = by_ord.get(o)
                        if o in have:
                            if dc is not None and (dc.reviews or dc.state != CardState.NEW):
                                sched_cards.append((have[o][0], dc, have[o][1]))
                            continue
                        did = deck_id(dc.deck if dc is not None and dc.deck else note.deck)
                        cid = next_card
                        next_card += 1
                        card_rows.append((cid, nid, o, did, position, int(bool(dc and dc.suspended)),
                                          int(dc.flag) if dc else 0))
                        position += 1
                        if dc is not None and (dc.reviews or dc.state != CardState.NEW or dc.buried):
                            sched_cards.append((cid, dc, did))
            if progress:
                progress(total, total)
            result.new = len(note_rows)  # one row per new note
            conn.executemany("UPDATE note SET fields = ?, tags = ?, source = ?, sort_field = ?, modified_ms = ? "
                             "WHERE id = ?", note_updates)
            conn.executemany(
                "INSERT INTO note (id, guid, notetype_id, fields, tags, source, sort_field, created_ms, modified_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", note_rows)
            _check_references(conn, note_rows, card_rows, old_ids)
            _insert_cards(conn, card_rows, existing_cards)
            result.reviews_added = _apply_scheduling(col, conn, sched_cards, review_rows, now_ms)
            result.decks = list(dict.fromkeys(it.note.deck for it in items))
        col._touch()
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise
    finally:
        if fk_paused:
            conn.execute("PRAGMA foreign_keys = ON")
        if callable(draft.cleanup):
            draft.cleanup()
    return result


def _check_references(conn, note_rows: list[tuple], card_rows: list[tuple], updated_ids: list[int]) -> None:
    """What SQLite's foreign-key checks would refuse, checked once per distinct key: every note type
    and deck the rows name exists, and every card's note is one inserted here or one that exists."""
    for table, keys in (("notetype", {r[2] for r in note_rows}), ("deck", {r[3] for r in card_rows})):
        if keys and conn.execute(f"SELECT COUNT(*) FROM {table} WHERE id IN (SELECT value FROM json_each(?))",
                                 (json.dumps(sorted(keys)),)).fetchone()[0] != len(keys):
            raise RuntimeError(f"import: a row names a {table} that does not exist")
    new_ids = {r[0] for r in note_rows}
    old_ids = {r[1] for r in card_rows if r[1] not in new_ids}
    if old_ids - set(updated_ids) or (old_ids and conn.execute(
            "SELECT COUNT(*) FROM note WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(old_ids)),)).fetchone()[0] != len(old_ids)):
        raise RuntimeError("import: a card names a note that does not exist")


REINDEX_MIN_CARDS = 20_000


def _insert_cards(conn, rows: list[tuple], existing: int) -> None:
    """Insert card rows. A big import into a smaller table drops the card table's secondary indexes
    and builds them again afterwards, in the same transaction: SQLite builds an index from sorted
    keys faster than it inserts the same keys one by one. What is on disk at commit is the same."""
    rebuild: list[tuple[str, str]] = []
    # Not where ANALYZE has run: dropping an index drops its statistics, which rebuilding does not restore.
    if len(rows) >= REINDEX_MIN_CARDS and len(rows) > existing and not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
        rebuild = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'card' "
                               "AND sql IS NOT NULL ORDER BY name").fetchall()
        for name, _sql in rebuild:
            conn.execute('DROP INDEX "{}"'.format(name.replace('"', '""')))
    conn.executemany(
        "INSERT INTO card (id, note_id, ord, deck_id, position, suspended, flag) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    for _name, sql in rebuild:
        conn.execute(sql)


def _check_plan_still_holds(conn, path: str, items: list[NotePlan]) -> None:
    """Refuse (nothing written) a plan another window or process made stale between preview and apply:
    a note planned as new that now exists, or one planned as an update that was deleted."""
    new = [i.note.guid for i in items if i.action == "new"]
    old = [i.note_id for i in items if i.action != "new"]
    if not conn.execute("SELECT EXISTS (SELECT 1 FROM note)").fetchone()[0]:
        stale = bool(old)  # nothing is there: no new note clashes, but every planned update was deleted
    else:
        # One statement for any number of keys: the list travels as one JSON array.
        stale = (bool(new) and conn.execute("SELECT EXISTS (SELECT 1 FROM note WHERE guid IN "
                                            "(SELECT value FROM json_each(?)))", (json.dumps(new),)).fetchone()[0]
                 ) or (bool(old) and conn.execute("SELECT COUNT(*) FROM note WHERE id IN "
                                                  "(SELECT value FROM json_each(?))",
                                                  (json.dumps(old),)).fetchone()[0] < len(set(old)))
    if stale:
        raise ImportFailed(path, "the collection changed since this import was previewed (notes were "
                                 "imported or deleted meanwhile); nothing was imported: import it again")


_encode_str = json.encoder.encode_basestring  # the C encoder: what json.dumps(ensure_ascii=False) uses


def _dump_fields(fields: list[str]) -> str:
    """``json.dumps(fields, ensure_ascii=False)``, without the encoder's per-call overhead."""
    return "[" + ", ".join(map(_encode_str, fields)) + "]"


_STATE_FOR_KIND = {ReviewKind.LEARN: 1, ReviewKind.REVIEW: 2, ReviewKind.RELEARN: 3, ReviewKind.FILTERED: 2,
                   ReviewKind.MANUAL: 2, ReviewKind.RESCHEDULED: 2}


def _apply_scheduling(col: Collection, conn, sched_cards, review_rows, now_ms: int) -> int:
    """Bring review rows and baselines for cards whose file carries scheduling. Returns reviews added.

    What each card needs from the database (its note's guid, its reviews, its baseline) is read for
    all cards at once, and the review rows are inserted with one statement: per card, the outcome
    is that of reading, inserting and updating card by card (each card's rows are its own)."""
    if not sched_cards:
        return 0
    today = col.today(utc_now())
    ids = json.dumps([cid for cid, _dc, _did in sched_cards])
    key_of = {cid: (guid, o) for cid, guid, o in conn.execute(
        "SELECT c.id, n.guid, c.ord FROM card c JOIN note n ON n.id = c.note_id "
        "WHERE c.id IN (SELECT value FROM json_each(?))", (ids,))}
    logged: dict[int, list[tuple]] = {}  # card id -> its reviews (id, time_ms, kind, rating), by id
    for card_id, rid, tm, kind, rating in conn.execute(
            "SELECT card_id, id, time_ms, kind, rating FROM review WHERE card_id IN (SELECT value FROM json_each(?)) "
            "ORDER BY card_id, id", (ids,)):
        logged.setdefault(card_id, []).append((rid, tm, kind, rating))
    baselines = dict(conn.execute("SELECT id, baseline FROM card WHERE id IN (SELECT value FROM json_each(?))",
                                  (ids,)))

    # The review rows, card by card; INSERT OR IGNORE skips an id already in the log (or already
    # inserted for an earlier card): `taken` says which, so each card knows what it added.
    per_card = []
    candidates = [r.id for _cid, dc, _did in sched_cards for r in dc.reviews]
    taken = {r[0] for r in conn.execute("SELECT id FROM review WHERE id IN (SELECT value FROM json_each(?))",
                                        (json.dumps(candidates),))} if candidates else set()
    all_rows = []
    added = 0
    for cid, dc, did in sched_cards:
        guid, o = key_of[cid]
        # An answer made here comes back from our own .apkg export with the same card and time but
        # another id (its id's low bits were random): the card's (time, id) pairs tell them apart.
        have = {tm: rid for rid, tm, _kind, _rating in logged.get(cid, ())}
        rows = [(r.id, cid, guid, o, did, r.time_ms, int(r.rating), int(r.kind), _STATE_FOR_KIND[ReviewKind(r.kind)],
                 max(0, min(int(r.duration_ms or 0), 60_000)), r.interval_s) for r in dc.reviews
                if have.get(r.time_ms, r.id) == r.id]
        card_added = 0
        for row in rows:
            if row[0] not in taken:
                taken.add(row[0])
                card_added += 1
        added += card_added
        all_rows += rows
        per_card.append((cid, dc, did, bool(have), card_added))
    conn.executemany("INSERT OR IGNORE INTO review (id, card_id, note_guid, ord, deck_id, time_ms, rating, kind, "
                     "state_before, duration_ms, interval_s) VALUES (?,?,?,?,?,?,?,?,?,?,?)", all_rows)
    review_rows.extend(all_rows)

    updates, burials = [], []
    day_of = col.day_of()
    for cid, dc, did, had_reviews, card_added in per_card:
        if dc.reviews and not card_added and had_reviews:
            continue  # the log already has every answer the file brings: its state adds nothing new
        base = _baseline(dc, col.deck_options(did), cid, day_of)
        if base is None:
            if dc.buried:  # a plain new card the file has buried: no baseline, but the burial holds
                burials.append((today + 1, cid))
            continue
        s, t = base
        file_ids = {r.id for r in dc.reviews}
        # Answers made here (the log before this import, less the file's own): rated learning/review ones.
        local_times = [tm for rid, tm, kind, rating in logged.get(cid, ())
                       if kind in (0, 1, 2, 3) and rating > 0 and rid not in file_ids]
        if local_times and max(local_times) > t:
            # The learner studied this card here after the file was made: keep the local baseline, and
            # replay it with the file's answers now merged into the log (the cache equals the replay).
            col._write_state(cid, col.replayed_state(cid))
            continue
        baseline = json.dumps({**s.to_dict(), "t": t})
        if baselines.get(cid) == baseline:
            continue  # the same file again: leave the card (and the learner's flag, suspension) alone
        updates.append((baseline, int(s.state), s.step, s.stability, s.difficulty, s.due_ms, s.last_review_ms,
                        s.reps, s.lapses, int(dc.suspended), int(dc.flag), today + 1 if dc.buried else 0, cid))
    conn.executemany("UPDATE card SET buried_until = ? WHERE id = ?", burials)
    conn.executemany("UPDATE card SET baseline = ?, state = ?, step = ?, stability = ?, difficulty = ?, due_ms = ?, "
                     "last_review_ms = ?, reps = ?, lapses = ?, suspended = ?, flag = ?, buried_until = ? "
                     "WHERE id = ?", updates)
    return added


def import_file(col: Collection, path: str | os.PathLike, deck: str | None = None,
                progress: Progress | None = None, backup: bool = True) -> ImportResult:
    """parse + plan + apply, with an automatic backup first (the CLI's ``import`` and the GUI)."""
    draft = parse(path)
    try:
        p = plan(col, draft, deck)
        if backup:
            col.backup()
        return apply(col, p, progress)
    finally:
        if callable(draft.cleanup):
            draft.cleanup()
