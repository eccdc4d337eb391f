"""The collection: one facade over the store that the GUI, the CLI and the importers call.

All SQL of the app lives here (and in :mod:`flashcards.stats`, read-only). Every write is one
``BEGIN IMMEDIATE`` transaction; every answer is committed (``synchronous=FULL``) before
:meth:`StudySession.answer` returns.

The review log is append-only. A card's scheduling columns are a cache: they always equal
:func:`flashcards.scheduling.replay` of the card's answers since its *baseline* (a new card, or the
state an import brought) under its deck's current options; :meth:`Collection.recompute_cards`
rebuilds them and ``flashcards check`` verifies it.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flashcards import render
from flashcards.db import db, open_db
from flashcards.drafts import (
    BUILTIN_NOTETYPES,
    CardState,
    DraftCard,
    DraftDeck,
    DraftMedia,
    DraftNote,
    DraftNotetype,
    DraftReview,
    DraftTemplate,
    ReviewKind,
    content_guid,
)
from flashcards.errors import FlashcardsError, UnknownDeck
from flashcards.options import DeckOptions
from flashcards.paths import BACKUP_DIR, DB_NAME, MEDIA_DIR, resolve_data_dir
from flashcards.scheduling import SchedState, replay
from flashcards.timeutil import from_ms, local_tz, require_utc, study_day, to_ms, utc_now

ANSWER_KINDS = (ReviewKind.LEARN, ReviewKind.REVIEW, ReviewKind.RELEARN, ReviewKind.FILTERED)
_ANSWER_KINDS_SQL = "(0, 1, 2, 3)"
SEP = "::"

# Settings with their defaults (global, not per deck).
DEFAULT_SETTINGS = {
    "rollover_hour": 4,
    "theme": "light",
    "font_size": 18,
    "window_size": None,
}


@dataclass
class DeckRow:
    """One line of the deck tree: counts due now (limits applied) and sizes."""

    id: int
    name: str
    short_name: str
    depth: int
    new: int = 0
    learning: int = 0
    review: int = 0
    notes: int = 0
    cards: int = 0


@dataclass
class NoteView:
    """A note as the editor sees it."""

    id: int
    guid: str
    notetype: str
    field_names: list[str]
    fields: list[str]
    tags: list[str]
    deck: str
    source: str


@dataclass
class CardRow:
    """One row of the browser."""

    card_id: int
    note_id: int
    question: str
    deck: str
    state: int
    due_ms: int | None
    suspended: bool
    flag: int
    tags: str
    ord: int


@dataclass
class CardInfo:
    """What the card-info dialog shows."""

    card_id: int
    note_id: int
    deck: str
    state: int
    due_ms: int | None
    stability: float | None
    difficulty: float | None
    retrievability: float | None
    reps: int
    lapses: int
    suspended: bool
    buried: bool
    flag: int
    reviews: list[dict] = field(default_factory=list)


# A quoted src may contain spaces (Anki media names often do); an unquoted one ends at a space.
_MEDIA_RE = re.compile(r"""<img[^>]*?\ssrc\s*=\s*(?:"([^"]+)"|'([^']+)'|([^"'>\s]+))|\[sound:([^\]]+)\]""",
                       re.IGNORECASE)


def media_references(field_html: str) -> set[str]:
    """File names a field refers to (``<img src>`` and ``[sound:...]``)."""
    return {next(g for g in m.groups() if g) for m in _MEDIA_RE.finditer(field_html)}


_TAG_RE = re.compile(r"<[^>]*>")
_CLOZE_RE = re.compile(r"\{\{c\d+(?:,\d+)*::(.*?)(?:::[^{}]*)?\}\}", re.DOTALL)


def sort_text(field_html: str) -> str:
    """The plain text a note is listed and searched by: its first field without tags, clozes shown as
    their answers (``{{c1::Paris::city}}`` -> ``Paris``)."""
    if "{{c" in field_html:
        field_html = _CLOZE_RE.sub(r"\1", field_html)
    if "<" not in field_html and "&" not in field_html:
        return field_html.strip()[:500]
    return html.unescape(_TAG_RE.sub(" ", field_html)).strip()[:500]


_SPACE_BY_TAG_RE = re.compile(r"\s*(<[^>]*>)\s*")


def _same_look(templates_json_a: str, templates_json_b: str) -> bool:
    """Whether two stored template lists look alike: equal up to whitespace next to tags and runs of
    whitespace (Anki's stock Basic has ``\n\n`` around its ``<hr id=answer>``, ours has none)."""
    def norm(js: str) -> list:
        return [[" ".join(_SPACE_BY_TAG_RE.sub(r"\1", part).split()) for part in t] for t in json.loads(js)]
    return templates_json_a == templates_json_b or norm(templates_json_a) == norm(templates_json_b)


def deck_parent(name: str) -> str | None:
    """``A::B::C`` -> ``A::B``; a top-level deck has no parent."""
    return name.rsplit(SEP, 1)[0] if SEP in name else None


def normalize_deck_name(name: str) -> str:
    """Trim each level of a deck name; refuse empty levels."""
    parts = [p.strip() for p in str(name).split(SEP)]
    if not parts or any(not p for p in parts):
        raise FlashcardsError(f"invalid deck name {name!r}: empty level")
    return SEP.join(parts)


def _tags_to_db(tags: Iterable[str]) -> str:
    """Tags as stored: ``" a b "`` (space-separated, padded for LIKE '% tag %'), de-duplicated."""
    cleaned = dict.fromkeys(str(t).strip().replace(" ", "_") for t in tags)
    cleaned.pop("", None)
    return " " + " ".join(cleaned) + " " if cleaned else " "


def _tags_from_db(s: str) -> list[str]:
    return s.split()


class Collection:
    """A user's collection in one data dir: ``collection.db``, ``media/`` and ``backups/``."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.media_dir = data_dir / MEDIA_DIR
        self.backup_dir = data_dir / BACKUP_DIR
        self.db_path = data_dir / DB_NAME
        self.db = db
        self._opts_cache: dict[int, DeckOptions] = {}
        self._deck_names: dict[int, str] | None = None
        self._notetypes: dict[int, DraftNotetype] = {}
        self._data_version: int | None = None
        self._settings: dict | None = None
        self.mutations = 0  # bumped by every write through this object (sessions watch it)

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, data_dir: str | Path | None = None) -> Collection:
        """Open (creating if needed) the collection in ``data_dir`` (see :mod:`flashcards.paths`)."""
        path = resolve_data_dir(data_dir)
        try:
            path.mkdir(parents=True, exist_ok=True)
            (path / MEDIA_DIR).mkdir(exist_ok=True)
        except OSError as e:
            raise FlashcardsError(f"cannot use data dir {path}: {e.strerror or e}") from None
        col = cls(path)
        open_db(col.db_path)
        col.data_version_changed()
        return col

    def close(self) -> None:
        """Close the database (all writes are already committed)."""
        if not self.db.is_closed():
            self.db.close()

    def checkpoint(self) -> tuple[int, int, int]:
        """Copy committed pages from the write-ahead log into the database file, on this thread's
        connection; PASSIVE: it waits for no reader and blocks no writer. SQLite does this itself
        inside the commit that takes the log past 1,000 pages; a worker calling this now and then
        keeps that copy out of the commits. It changes no data (other connections see no change).
        Returns SQLite's (busy, pages in the log, pages copied)."""
        return tuple(self.db.connection().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())

    def __enter__(self) -> Collection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _sql(self, sql: str, params: Sequence = ()):
        return self.db.execute_sql(sql, params)

    def _touch(self) -> None:
        self.mutations += 1
        self._deck_names = None

    def data_version_changed(self) -> bool:
        """True when another connection (another process, a worker thread) committed since last asked."""
        v = self.db.connection().execute("PRAGMA data_version").fetchone()[0]  # polled per card: no peewee layer
        changed = self._data_version is not None and v != self._data_version
        self._data_version = v
        if changed:
            self._opts_cache.clear()
            self._deck_names = None
            self._notetypes.clear()
            self._settings = None
            self.mutations += 1  # so every session/screen watching ``mutations`` refreshes too
        return changed

    def changed_externally(self) -> bool:
        """Poll (e.g. every few seconds from the GUI): did another process or thread commit changes?"""
        return self.data_version_changed()

    # ------------------------------------------------------------------ settings

    def get_setting(self, key: str, default=None):
        """A global setting (JSON value); ``default`` or the built-in default when unset."""
        if self._settings is None:
            self._settings = {k: json.loads(v) for k, v in self._sql("SELECT key, value FROM setting")}
        if key not in self._settings:
            return DEFAULT_SETTINGS.get(key, default) if default is None else default
        return self._settings[key]

    def set_setting(self, key: str, value) -> None:
        """Store a global setting."""
        if key == "rollover_hour" and (not isinstance(value, int) or not 0 <= value <= 23):
            raise FlashcardsError("the day rollover hour must be a whole hour from 0 to 23")
        with self.db.atomic():
            self._sql("INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)", (key, json.dumps(value)))
        self._settings = None
        self._touch()

    @property
    def rollover_hour(self) -> int:
        return int(self.get_setting("rollover_hour"))

    def today(self, now: datetime, tz=None) -> int:
        """Ordinal of the study day containing ``now`` (rollover hour applied, local time)."""
        return study_day(now, self.rollover_hour, tz or local_tz()).toordinal()

    def day_of(self):
        """A function: epoch ms -> study-day ordinal, with this collection's rollover hour in local
        time — what FSRS's elapsed days are counted in (see :func:`scheduling.elapsed_study_days`)."""
        rollover, tz = self.rollover_hour, local_tz()
        return lambda ms: study_day(from_ms(ms), rollover, tz).toordinal()

    # ------------------------------------------------------------------ decks

    def deck_names(self) -> dict[int, str]:
        """``{deck id: name}`` for every deck."""
        if self._deck_names is None:
            self._deck_names = dict(self._sql("SELECT id, name FROM deck ORDER BY name").fetchall())
        return self._deck_names

    def deck_id(self, name: str, create: bool = False, now_ms: int | None = None) -> int:
        """The id of the deck ``name``; with ``create``, make it (and its parents) if missing."""
        name = normalize_deck_name(name)
        for did, n in self.deck_names().items():
            if n == name:
                return did
        if self.data_version_changed():  # another process may have made it since the names were cached
            return self.deck_id(name, create, now_ms)
        if not create:
            raise UnknownDeck(name)
        now_ms = now_ms if now_ms is not None else to_ms(utc_now())
        parent = deck_parent(name)
        if parent:
            self.deck_id(parent, create=True, now_ms=now_ms)
        with self.db.atomic():
            cur = self._sql("INSERT INTO deck (name, options, created_ms) VALUES (?, '{}', ?)", (name, now_ms))
        self._touch()
        return cur.lastrowid

    def add_deck(self, name: str) -> int:
        """Create a deck (and missing parents); refuses a name that exists."""
        name = normalize_deck_name(name)
        if name in self.deck_names().values():
            raise FlashcardsError(f"a deck named {name!r} already exists")
        return self.deck_id(name, create=True)

    def subtree_ids(self, deck_id: int) -> list[int]:
        """The deck and all its subdecks, in tree (name) order."""
        names = self.deck_names()
        if deck_id not in names:
            raise UnknownDeck(str(deck_id))
        root = names[deck_id]
        return [d for d, n in names.items() if n == root or n.startswith(root + SEP)]

    def has_multi_card_notes(self, deck_ids: list[int]) -> bool:
        """Whether some note has two or more cards in these decks (so sibling burying can apply).

        A note with two cards has one with ordinal > 0: the partial index ``card_sibling`` lists only
        those, so a collection of one-card notes answers without reading any card.
        """
        marks = ",".join("?" * len(deck_ids))
        row = self._sql(f"SELECT 1 FROM card c WHERE c.deck_id IN ({marks}) AND c.ord > 0 AND EXISTS ("
                        f"SELECT 1 FROM card s WHERE s.note_id = c.note_id AND s.id != c.id "
                        f"AND s.deck_id IN ({marks})) LIMIT 1", [*deck_ids, *deck_ids]).fetchone()
        return row is not None

    def rename_deck(self, deck_id: int, new_name: str) -> None:
        """Rename a deck; its subdecks move with it. Missing new parents are created."""
        new_name = normalize_deck_name(new_name)
        names = self.deck_names()
        old = names.get(deck_id)
        if old is None:
            raise UnknownDeck(str(deck_id))
        if new_name == old:
            return
        if new_name.startswith(old + SEP):
            raise FlashcardsError("a deck cannot be moved inside itself")
        if new_name in names.values():
            raise FlashcardsError(f"a deck named {new_name!r} already exists")
        parent = deck_parent(new_name)
        if parent:
            self.deck_id(parent, create=True)
        with self.db.atomic():
            for did, n in list(self.deck_names().items()):
                if n == old or n.startswith(old + SEP):
                    self._sql("UPDATE deck SET name = ? WHERE id = ?", (new_name + n[len(old):], did))
                    # A shipped deck may be a subdeck of the one renamed.
                    self._sql("UPDATE shipped_deck SET deck_name = ? WHERE deck_name = ?", (new_name + n[len(old):], n))
        self._touch()

    def delete_deck(self, deck_id: int) -> int:
        """Delete a deck, its subdecks and their cards (notes left without cards go too).

        The review history stays (it is never deleted). Returns the number of cards deleted. A shipped
        deck deleted by the user is not loaded again by the first-start loader.
        """
        ids = self.subtree_ids(deck_id)
        names = self.deck_names()
        marks = ",".join("?" * len(ids))
        with self.db.atomic():
            n = self._sql(f"SELECT COUNT(*) FROM card WHERE deck_id IN ({marks})", ids).fetchone()[0]
            note_ids = [r[0] for r in self._sql(
                f"SELECT DISTINCT note_id FROM card WHERE deck_id IN ({marks})", ids)]
            self._sql(f"DELETE FROM card WHERE deck_id IN ({marks})", ids)
            self._delete_orphan_notes(note_ids)
            self._sql(f"DELETE FROM deck WHERE id IN ({marks})", ids)
            for did in ids:
                self._sql("UPDATE shipped_deck SET deleted = 1 WHERE deck_name = ?", (names[did],))
        self._opts_cache.clear()
        self._touch()
        return n

    def _delete_orphan_notes(self, note_ids: list[int]) -> None:
        for i in range(0, len(note_ids), 500):
            chunk = note_ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            self._sql(f"DELETE FROM note WHERE id IN ({marks}) AND NOT EXISTS "
                      f"(SELECT 1 FROM card WHERE card.note_id = note.id)", chunk)

    def deck_options(self, deck_id: int) -> DeckOptions:
        """The options of a deck (defaults for keys it does not set)."""
        opts = self._opts_cache.get(deck_id)
        if opts is None:
            row = self._sql("SELECT options FROM deck WHERE id = ?", (deck_id,)).fetchone()
            if row is None:
                raise UnknownDeck(str(deck_id))
            opts = DeckOptions.from_dict(json.loads(row[0]))
            self._opts_cache[deck_id] = opts
        return opts

    def set_deck_options(self, deck_id: int, options: DeckOptions, now: datetime | None = None) -> int:
        """Store a deck's options. When a scheduling option changed (parameters, retention, steps,
        maximum interval) every card of the deck is rescheduled by replaying its history under the new
        options, in the same transaction; the review log is untouched. Returns cards rescheduled."""
        options = DeckOptions.from_dict(options.to_dict()).validated()
        old = self.deck_options(deck_id)
        sched_keys = ("fsrs_parameters", "desired_retention", "learning_steps", "relearning_steps",
                      "maximum_interval")
        resched = any(getattr(old, k) != getattr(options, k) for k in sched_keys)
        with self.db.atomic():
            self._sql("UPDATE deck SET options = ? WHERE id = ?", (json.dumps(options.to_dict()), deck_id))
            self._opts_cache[deck_id] = options
            n = 0
            if resched:
                ids = [r[0] for r in self._sql("SELECT id FROM card WHERE deck_id = ?", (deck_id,))]
                n = self._recompute(ids)
        self._touch()
        return n

    def deck_tree(self, now: datetime | None = None) -> list[DeckRow]:
        """Every deck in tree order with its due counts now (each deck's limits applied)."""
        from flashcards.study import due_counts

        now = require_utc(now or utc_now())
        names = self.deck_names()
        sizes = {d: (0, 0) for d in names}
        for did, notes, cards in self._sql(
                "SELECT deck_id, COUNT(DISTINCT note_id), COUNT(*) FROM card GROUP BY deck_id"):
            sizes[did] = (notes, cards)
        rows = []
        for did, name in sorted(names.items(), key=lambda kv: kv[1].split(SEP)):
            sub = [d for d, n in names.items() if n == name or n.startswith(name + SEP)]
            new, lrn, rev = due_counts(self, did, now)
            rows.append(DeckRow(
                id=did, name=name, short_name=name.rsplit(SEP, 1)[-1], depth=name.count(SEP),
                new=new, learning=lrn, review=rev,
                notes=sum(sizes[d][0] for d in sub), cards=sum(sizes[d][1] for d in sub)))
        return rows

    def study(self, deck_id: int):
        """A :class:`flashcards.study.StudySession` for a deck and its subdecks."""
        from flashcards.study import StudySession

        return StudySession(self, deck_id)

    # ------------------------------------------------------------------ note types

    def notetype(self, notetype_id: int) -> DraftNotetype:
        """A stored note type as a DraftNotetype."""
        nt = self._notetypes.get(notetype_id)
        if nt is None:
            row = self._sql("SELECT name, fields, templates, is_cloze, css FROM notetype WHERE id = ?",
                            (notetype_id,)).fetchone()
            if row is None:
                raise FlashcardsError(f"unknown note type id {notetype_id}")
            nt = DraftNotetype(
                name=row[0], fields=tuple(json.loads(row[1])),
                templates=tuple(DraftTemplate(*t) for t in json.loads(row[2])),
                is_cloze=bool(row[3]), css=row[4])
            self._notetypes[notetype_id] = nt
        return nt

    def notetype_id(self, nt: DraftNotetype, create: bool = True) -> int:
        """The id of a stored note type with this name and fields; created if missing.

        A stored type of the same name but different fields is left alone and the incoming one is
        stored under a numbered name ("Name (2)"). Templates and CSS of a same-name, same-fields type
        are updated to the incoming ones — except under a built-in's name (Basic, Cloze, ...): notes
        added with the built-in and notes imported with a look-alike keep their own templates, so
        the look-alike is stored as "Basic (2)".
        """
        base, n = nt.name, 1
        templates = json.dumps([[t.name, t.front, t.back] for t in nt.templates])
        while True:
            name = base if n == 1 else f"{base} ({n})"
            row = self._sql("SELECT id, fields, templates, is_cloze, css FROM notetype WHERE name = ?",
                            (name,)).fetchone()
            if row is None:
                break
            if tuple(json.loads(row[1])) == tuple(nt.fields) and bool(row[3]) == nt.is_cloze:
                if name in BUILTIN_NOTETYPES:
                    if _same_look(row[2], templates):
                        return row[0]  # (CSS is kept as stored: cards are drawn without it)
                    n += 1
                    continue
                if row[2] != templates or row[4] != nt.css:
                    self._sql("UPDATE notetype SET templates = ?, css = ? WHERE id = ?",
                              (templates, nt.css, row[0]))
                    self._notetypes.pop(row[0], None)
                return row[0]
            n += 1
        if not create:
            raise FlashcardsError(f"unknown note type {nt.name!r}")
        cur = self._sql(
            "INSERT INTO notetype (name, fields, templates, is_cloze, css) VALUES (?, ?, ?, ?, ?)",
            (name, json.dumps(list(nt.fields)), json.dumps([[t.name, t.front, t.back] for t in nt.templates]),
             int(nt.is_cloze), nt.css))
        return cur.lastrowid

    def notetype_names(self) -> list[str]:
        """Names of the note types one can add notes with (built-ins first)."""
        stored = [r[0] for r in self._sql("SELECT name FROM notetype ORDER BY id")]
        return list(BUILTIN_NOTETYPES) + [n for n in stored if n not in BUILTIN_NOTETYPES]

    def _notetype_by_name(self, name: str) -> DraftNotetype:
        if name in BUILTIN_NOTETYPES:
            return BUILTIN_NOTETYPES[name]
        row = self._sql("SELECT id FROM notetype WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise FlashcardsError(f"unknown note type {name!r}")
        return self.notetype(row[0])

    def notetype_fields(self, name: str) -> list[str]:
        """Field names of a note type."""
        return list(self._notetype_by_name(name).fields)

    # ------------------------------------------------------------------ notes

    def _validate_fields(self, nt: DraftNotetype, fields: list[str]) -> list[int]:
        if len(fields) != len(nt.fields):
            raise FlashcardsError(f"{nt.name} notes have {len(nt.fields)} fields, got {len(fields)}")
        for f in fields:
            if len(f.encode("utf-8")) > 1_000_000:
                raise FlashcardsError("a field is larger than 1 MB")
        if not render.plain_text(fields[0]).strip() and "<img" not in fields[0]:
            raise FlashcardsError(f"the first field ({nt.fields[0]}) is empty")
        ords = render.card_ordinals(nt, fields)
        if nt.is_cloze and not ords:
            raise FlashcardsError("a Cloze note needs at least one cloze such as {{c1::answer}}")
        if not ords:
            raise FlashcardsError("this note would have no cards: its card fronts are empty")
        return ords

    def add_note(self, notetype: str, fields: list[str], tags: Iterable[str] = (), deck_id: int | None = None,
                 now: datetime | None = None, source: str = "") -> int:
        """Add a note (and its cards, new) to a deck. Raises FlashcardsError for invalid fields."""
        now_ms = to_ms(require_utc(now or utc_now()))
        nt = self._notetype_by_name(notetype)
        fields = [str(f) for f in fields]
        ords = self._validate_fields(nt, fields)
        if deck_id is None:
            deck_id = self.deck_id("Default", create=True)
        elif deck_id not in self.deck_names():
            raise UnknownDeck(str(deck_id))
        with self.db.atomic():
            ntid = self.notetype_id(nt)
            guid = content_guid(nt.name, *fields, str(now_ms))
            cur = self._sql(
                "INSERT INTO note (guid, notetype_id, fields, tags, source, sort_field, created_ms, modified_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (guid, ntid, json.dumps(fields, ensure_ascii=False), _tags_to_db(tags), source,
                 sort_text(fields[0]), now_ms, now_ms))
            note_id = cur.lastrowid
            pos, cid = self._next_position(), self.next_card_id()
            self.db.connection().executemany(
                "INSERT INTO card (id, note_id, ord, deck_id, position) VALUES (?, ?, ?, ?, ?)",
                [(cid + i, note_id, o, deck_id, pos + i) for i, o in enumerate(ords)])
        self._touch()
        return note_id

    def _next_position(self) -> int:
        return (self._sql("SELECT MAX(position) FROM card").fetchone()[0] or 0) + 1

    def next_card_id(self) -> int:
        """The id for a new card: above every card id in use and every id the review log names.

        SQLite would give a new row the largest id + 1, i.e. the id of a card just deleted; that
        card's reviews stay in the log under its id and must never become another card's history.
        """
        row = self._sql("SELECT MAX(m) FROM (SELECT MAX(id) AS m FROM card "
                        "UNION ALL SELECT MAX(card_id) FROM review)").fetchone()
        return (row[0] or 0) + 1

    def note(self, note_id: int) -> NoteView:
        """A note with its fields, tags, deck (of its first card) and source."""
        row = self._sql(
            "SELECT n.guid, n.notetype_id, n.fields, n.tags, n.source, "
            "(SELECT d.name FROM card c JOIN deck d ON d.id = c.deck_id WHERE c.note_id = n.id ORDER BY c.ord LIMIT 1)"
            " FROM note n WHERE n.id = ?", (note_id,)).fetchone()
        if row is None:
            raise FlashcardsError(f"no note with id {note_id}")
        nt = self.notetype(row[1])
        return NoteView(note_id, row[0], nt.name, list(nt.fields), json.loads(row[2]), _tags_from_db(row[3]),
                        row[5] or "", row[4])

    def update_note(self, note_id: int, fields: list[str], tags: Iterable[str] | None = None,
                    now: datetime | None = None, source: str | None = None) -> None:
        """Change a note's fields/tags; cards for new cloze numbers/templates are added (new)."""
        now_ms = to_ms(require_utc(now or utc_now()))
        view = self.note(note_id)
        ntid = self._sql("SELECT notetype_id FROM note WHERE id = ?", (note_id,)).fetchone()[0]
        nt = self.notetype(ntid)
        fields = [str(f) for f in fields]
        ords = self._validate_fields(nt, fields)
        with self.db.atomic():
            self._sql("UPDATE note SET fields = ?, tags = ?, sort_field = ?, modified_ms = ?, source = ? "
                      "WHERE id = ?",
                      (json.dumps(fields, ensure_ascii=False), _tags_to_db(view.tags if tags is None else tags),
                       sort_text(fields[0]), now_ms,
                       view.source if source is None else source, note_id))
            self._add_missing_cards(note_id, ords)
        self._touch()

    def _add_missing_cards(self, note_id: int, ords: list[int], deck_id: int | None = None) -> int:
        have = {r[0]: r[1] for r in self._sql("SELECT ord, deck_id FROM card WHERE note_id = ?", (note_id,))}
        missing = [o for o in ords if o not in have]
        if not missing:
            return 0
        if deck_id is None:
            deck_id = next(iter(have.values())) if have else self.deck_id("Default", create=True)
        pos, cid = self._next_position(), self.next_card_id()
        self.db.connection().executemany(
            "INSERT INTO card (id, note_id, ord, deck_id, position) VALUES (?, ?, ?, ?, ?)",
            [(cid + i, note_id, o, deck_id, pos + i) for i, o in enumerate(missing)])
        return len(missing)

    def delete_notes(self, note_ids: Iterable[int]) -> int:
        """Delete notes and their cards. Their review history stays in the log."""
        ids = list(note_ids)
        n = 0
        with self.db.atomic():
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                marks = ",".join("?" * len(chunk))
                n += self._sql(f"DELETE FROM note WHERE id IN ({marks})", chunk).rowcount
        self._touch()
        return n

    def set_suspended(self, card_ids: Iterable[int], suspended: bool) -> None:
        """Suspend or unsuspend cards."""
        ids = list(card_ids)
        with self.db.atomic():
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                self._sql(f"UPDATE card SET suspended = ? WHERE id IN ({','.join('?' * len(chunk))})",
                          [int(suspended), *chunk])
        self._touch()

    def set_card_columns(self, card_id: int, **cols) -> None:
        """Write plain card columns (``suspended``, ``buried_until``, ``flag``, ``deck_id``)."""
        allowed = {"suspended", "buried_until", "flag", "deck_id"}
        if not cols or set(cols) - allowed:
            raise ValueError(f"only {sorted(allowed)} may be set directly")
        sets = ", ".join(f"{k} = ?" for k in cols)
        with self.db.atomic():
            self._sql(f"UPDATE card SET {sets} WHERE id = ?", [*cols.values(), card_id])
            if "deck_id" in cols:
                self._recompute([card_id])
        self._touch()

    def card_columns(self, card_id: int) -> dict:
        """Plain columns of a card (state, due, suspended, buried_until, flag, deck, note, ...)."""
        cur = self._sql("SELECT * FROM card WHERE id = ?", (card_id,))
        row = cur.fetchone()
        if row is None:
            raise FlashcardsError(f"no card with id {card_id}")
        return dict(zip([d[0] for d in cur.description], row, strict=True))

    def add_tag(self, note_id: int, tag: str) -> None:
        """Add one tag to a note (inside the caller's transaction, if any)."""
        row = self._sql("SELECT tags FROM note WHERE id = ?", (note_id,)).fetchone()
        if row and f" {tag} " not in row[0]:
            self._sql("UPDATE note SET tags = ? WHERE id = ?", (_tags_to_db([*row[0].split(), tag]), note_id))

    def remove_tag(self, note_id: int, tag: str) -> None:
        """Remove one tag from a note."""
        row = self._sql("SELECT tags FROM note WHERE id = ?", (note_id,)).fetchone()
        if row and f" {tag} " in row[0]:
            self._sql("UPDATE note SET tags = ? WHERE id = ?",
                      (_tags_to_db([t for t in row[0].split() if t != tag]), note_id))

    # ------------------------------------------------------------------ rendering

    def render(self, card_id: int):
        """The card rendered: ``render.RenderedCard`` with sanitised ``front``/``back`` HTML."""
        row = self._sql("SELECT n.notetype_id, n.fields, c.ord, n.tags, c.deck_id FROM card c "
                        "JOIN note n ON n.id = c.note_id WHERE c.id = ?", (card_id,)).fetchone()
        if row is None:
            raise FlashcardsError(f"no card with id {card_id}")
        return render.render_card(self.notetype(row[0]), json.loads(row[1]), row[2],
                                  tags=_tags_from_db(row[3]), deck=self.deck_names().get(row[4], ""))

    # ------------------------------------------------------------------ browse

    def search(self, text: str = "", deck: int | str | None = None, tag: str | None = None,
               state: str | None = None, now: datetime | None = None, limit: int | None = None) -> list[CardRow]:
        """Cards matching all given filters, in note order.

        ``text`` matches any field (case-insensitive substring); ``deck`` includes subdecks; ``state``
        is one of new, learning, review, due, suspended, buried, leech, flagged.
        """
        now = require_utc(now or utc_now())
        where, params = ["1"], []
        if text:
            if text.isascii():
                # SQLite's LIKE: fast, case-insensitive for ASCII; % and _ typed by the user are
                # literal characters, not wildcards.
                where.append("(n.fields LIKE ? ESCAPE '\\' OR n.sort_field LIKE ? ESCAPE '\\' "
                             "OR n.tags LIKE ? ESCAPE '\\')")
                escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                like = f"%{escaped}%"
                params += [like, like, like]
            else:
                # Any other script (Cyrillic, Greek, accented Latin): Unicode case folding.
                where.append("(fc_contains(n.fields, ?) OR fc_contains(n.sort_field, ?) OR fc_contains(n.tags, ?))")
                folded = text.casefold()
                params += [folded, folded, folded]
        if deck is not None:
            did = deck if isinstance(deck, int) else self.deck_id(deck)
            ids = self.subtree_ids(did)
            where.append(f"c.deck_id IN ({','.join('?' * len(ids))})")
            params += ids
        if tag:
            where.append("n.tags LIKE ?")
            params.append(f"% {tag.strip()} %")
        if state:
            today = self.today(now)
            from flashcards.timeutil import day_bounds
            _, day_end = day_bounds(now, self.rollover_hour)
            conds = {
                "new": ("c.state = 0", []),
                "learning": ("c.state IN (1, 3)", []),
                "review": ("c.state = 2", []),
                "due": ("c.state != 0 AND c.suspended = 0 AND c.buried_until <= ? AND c.due_ms < ?",
                        [today, to_ms(day_end)]),
                "suspended": ("c.suspended = 1", []),
                "buried": ("c.buried_until > ?", [today]),
                "leech": ("n.tags LIKE '% leech %'", []),
                "flagged": ("c.flag > 0", []),
            }
            if state not in conds:
                raise FlashcardsError(f"unknown state {state!r}: use one of {', '.join(conds)}")
            cond, p = conds[state]
            where.append(cond)
            params += p
        sql = ("SELECT c.id, c.note_id, n.sort_field, c.deck_id, c.state, c.due_ms, c.suspended, c.flag, n.tags, c.ord"
               " FROM card c JOIN note n ON n.id = c.note_id WHERE " + " AND ".join(where) +
               " ORDER BY c.note_id, c.ord")
        if limit:
            sql += f" LIMIT {int(limit)}"
        names = self.deck_names()
        return [CardRow(r[0], r[1], r[2], names.get(r[3], ""), r[4], r[5], bool(r[6]), r[7], r[8].strip(), r[9])
                for r in self._sql(sql, params)]

    def card_info(self, card_id: int, now: datetime | None = None) -> CardInfo:
        """Everything about one card: memory state, retrievability now, due, its review history."""
        from flashcards.scheduling import retrievability

        now = require_utc(now or utc_now())
        c = self.card_columns(card_id)
        s = SchedState(c["state"], c["step"], c["stability"], c["difficulty"], c["due_ms"], c["last_review_ms"],
                       c["reps"], c["lapses"])
        reviews = [dict(id=r[0], time_ms=r[1], rating=r[2], kind=r[3], duration_ms=r[4], interval_s=r[5])
                   for r in self._sql("SELECT id, time_ms, rating, kind, duration_ms, interval_s FROM review "
                                      "WHERE card_id = ? ORDER BY id", (card_id,))]
        return CardInfo(card_id, c["note_id"], self.deck_names().get(c["deck_id"], ""), c["state"], c["due_ms"],
                        c["stability"], c["difficulty"],
                        retrievability(s, to_ms(now), self.deck_options(c["deck_id"]), self.day_of()),
                        c["reps"], c["lapses"], bool(c["suspended"]), c["buried_until"] > self.today(now),
                        c["flag"], reviews)

    # ------------------------------------------------------------------ scheduling cache

    def card_answers(self, card_id: int, after_ms: int | None = None) -> list[tuple[int, int]]:
        """``(time_ms, rating)`` of a card's answers (in time order), optionally only after a time."""
        return self._sql(
            f"SELECT time_ms, rating FROM review WHERE card_id = ? AND kind IN {_ANSWER_KINDS_SQL} "
            "AND rating BETWEEN 1 AND 4 AND time_ms > ? ORDER BY id",
            (card_id, after_ms if after_ms is not None else -1)).fetchall()

    @staticmethod
    def baseline_of(baseline_json: str | None) -> tuple[SchedState, int | None]:
        """A card's baseline state and the time (ms) it holds for (None for a new card)."""
        if not baseline_json:
            return SchedState(), None
        d = json.loads(baseline_json)
        return SchedState.from_dict(d), d.get("t")

    def replayed_state(self, card_id: int, opts: DeckOptions | None = None) -> SchedState:
        """What replaying the card's answers from its baseline gives (the truth the cache must equal)."""
        row = self._sql("SELECT baseline, deck_id FROM card WHERE id = ?", (card_id,)).fetchone()
        if row is None:
            raise FlashcardsError(f"no card with id {card_id}")
        base, t = self.baseline_of(row[0])
        return replay(base, self.card_answers(card_id, t), opts or self.deck_options(row[1]), card_id,
                      day_of=self.day_of())

    def _recompute(self, card_ids: Iterable[int]) -> int:
        n = 0
        for cid in card_ids:
            s = self.replayed_state(cid)
            self._write_state(cid, s)
            n += 1
        return n

    def _write_state(self, card_id: int, s: SchedState) -> None:
        self._sql("UPDATE card SET state = ?, step = ?, stability = ?, difficulty = ?, due_ms = ?, "
                  "last_review_ms = ?, reps = ?, lapses = ? WHERE id = ?",
                  (int(s.state), s.step, s.stability, s.difficulty, s.due_ms, s.last_review_ms, s.reps, s.lapses,
                   card_id))

    def recompute_cards(self, card_ids: Iterable[int] | None = None) -> int:
        """Rebuild the scheduling cache of cards (all when None) from baseline + review log."""
        with self.db.atomic():
            if card_ids is None:
                card_ids = [r[0] for r in self._sql("SELECT id FROM card")]
            n = self._recompute(card_ids)
        self._touch()
        return n

    def check(self) -> dict:
        """Integrity check plus cache repair: returns what was found and fixed."""
        problems = [r[0] for r in self._sql("PRAGMA integrity_check") if r[0] != "ok"]
        fk = self._sql("PRAGMA foreign_key_check").fetchall()
        fixed = 0
        with self.db.atomic():
            for (cid,) in self._sql("SELECT id FROM card").fetchall():
                want = self.replayed_state(cid)
                c = self.card_columns(cid)
                have = SchedState(c["state"], c["step"], c["stability"], c["difficulty"], c["due_ms"],
                                  c["last_review_ms"], c["reps"], c["lapses"])
                if have != want:
                    self._write_state(cid, want)
                    fixed += 1
        if fixed:
            self._touch()
        return {"integrity": problems or ["ok"], "foreign_key_problems": len(fk), "cards_repaired": fixed}

    # ------------------------------------------------------------------ export support

    def to_draft(self, deck: str | None = None, scheduling: bool = True):
        """The collection (or one deck and its subdecks) as a Draft, for exporters.

        Notes carry guid, note type, fields, tags, deck (of their first card) and source; with
        ``scheduling`` the cards carry their state and review rows; media lists the files the notes
        reference that exist in ``media/``.
        """
        from flashcards.drafts import Draft

        names = self.deck_names()
        if deck is not None:
            did = self.deck_id(deck)
            deck_ids = self.subtree_ids(did)
        else:
            deck_ids = list(names)
        draft = Draft(path=str(self.data_dir), title=deck)
        descriptions = dict(self._sql("SELECT id, description FROM deck"))
        draft.decks = [DraftDeck(names[d], self.deck_options(d).to_dict(), descriptions.get(d, ""))
                       for d in sorted(deck_ids, key=names.get)]
        if not deck_ids:
            return draft
        marks = ",".join("?" * len(deck_ids))
        cards_by_note: dict[int, list] = {}
        for r in self._sql(f"SELECT id, note_id, ord, deck_id, state, step, stability, difficulty, due_ms, "
                           f"last_review_ms, suspended, buried_until, flag, position FROM card "
                           f"WHERE deck_id IN ({marks}) ORDER BY note_id, ord", deck_ids):
            cards_by_note.setdefault(r[1], []).append(r)
        reviews: dict[int, list[DraftReview]] = {}
        if scheduling:
            for r in self._sql(f"SELECT r.card_id, r.id, r.time_ms, r.rating, r.kind, r.duration_ms, r.interval_s "
                               f"FROM review r JOIN card c ON c.id = r.card_id WHERE c.deck_id IN ({marks}) "
                               f"ORDER BY r.id", deck_ids):
                reviews.setdefault(r[0], []).append(
                    DraftReview(r[1], r[2], r[3], ReviewKind(r[4]), r[5], r[6]))
        used_nt: set[int] = set()
        today = self.today(utc_now())
        media_refs: set[str] = set()
        note_ids = list(cards_by_note)
        for i in range(0, len(note_ids), 500):
            chunk = note_ids[i:i + 500]
            for nid, guid, ntid, fields, tags, source, modified in self._sql(
                    f"SELECT id, guid, notetype_id, fields, tags, source, modified_ms FROM note WHERE id IN "
                    f"({','.join('?' * len(chunk))}) ORDER BY id", chunk):
                nt = self.notetype(ntid)
                used_nt.add(ntid)
                fl = json.loads(fields)
                for f in fl:
                    media_refs.update(media_references(f))
                crows = cards_by_note[nid]
                cards = None
                if scheduling:
                    cards = [DraftCard(
                        ord=r[2], deck=names[r[3]], state=CardState(r[4]), due_ms=r[8], step=r[5],
                        stability=r[6], difficulty=r[7], last_review_ms=r[9], suspended=bool(r[10]),
                        buried=r[11] > today, flag=r[12], position=r[13], reviews=reviews.get(r[0], []))
                        for r in crows]
                draft.notes.append(DraftNote(guid=guid, notetype=nt.name, fields=fl, tags=_tags_from_db(tags),
                                             deck=names[crows[0][3]], source=source, cards=cards,
                                             modified_ms=modified))
        draft.notetypes = [self.notetype(n) for n in sorted(used_nt)
                           if self.notetype(n).name not in BUILTIN_NOTETYPES
                           or self.notetype(n) != BUILTIN_NOTETYPES[self.notetype(n).name]]
        for name in sorted(media_refs):
            p = self.media_dir / name
            if p.is_file():
                draft.media.append(DraftMedia(name=name, path=p))
        return draft

    def media_count(self) -> int:
        """Number of files in ``media/``."""
        return sum(1 for p in self.media_dir.iterdir() if p.is_file()) if self.media_dir.is_dir() else 0

    def backup(self, now: datetime | None = None, keep: int = 10) -> Path:
        """Copy the database with SQLite's backup API to ``backups/`` (keeping the newest ``keep``)."""
        from flashcards.backup import make_backup

        return make_backup(self, now or utc_now(), keep)

    def copy_media_file(self, src: Path, name: str) -> None:
        """Copy a file into media/ under ``name`` (a safe plain file name)."""
        if "/" in name or "\\" in name or name in ("", ".", "..") or name.startswith("."):
            raise FlashcardsError(f"unsafe media file name {name!r}")
        shutil.copyfile(src, self.media_dir / name)
