"""The one intermediate form every importer returns (``parse(path) -> Draft``).

An importer reads a file and returns a :class:`Draft`; it never touches the database. The import
pipeline (``flashcards.importing``) then computes a plan (new / updated / unchanged / skipped) and
applies it in one transaction. Exporters read the store and may build a Draft too.

Conventions
-----------
* Fields are HTML, as Anki stores them. Importers of plain text escape ``<``, ``>``, ``&`` and turn
  newlines into ``<br>``.
* A note is identified by its ``guid`` (stable across devices and re-imports); a card by
  ``(note guid, template ordinal)``.
* Times are integer epoch milliseconds, UTC.
* Note types are referred to by name. The three built-ins (:data:`BASIC`, :data:`REVERSED`,
  :data:`CLOZE`) always exist; any other note type a note uses must be in ``Draft.notetypes``.
* Review ids are globally unique, time-ordered 63-bit integers (:func:`review_id`), so review logs
  from several devices or repeated imports merge by id without clashes or duplicates.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

# --------------------------------------------------------------------------- note types


@dataclass(frozen=True)
class DraftTemplate:
    """One card template: Anki template syntax (``{{Field}}``, ``{{FrontSide}}``, ``{{cloze:Text}}``...)."""

    name: str
    front: str
    back: str


@dataclass(frozen=True)
class DraftNotetype:
    """A note type: its ordered field names and card templates.

    For a cloze note type there is one template and one card per cloze number (``c1``, ``c2`` ...);
    the card's ordinal is the cloze number minus one.
    """

    name: str
    fields: tuple[str, ...]
    templates: tuple[DraftTemplate, ...]
    is_cloze: bool = False
    css: str = ""


BASIC = DraftNotetype(
    name="Basic",
    fields=("Front", "Back"),
    templates=(DraftTemplate("Card 1", "{{Front}}", "{{FrontSide}}<hr id=answer>{{Back}}"),),
)
REVERSED = DraftNotetype(
    name="Basic (and reversed card)",
    fields=("Front", "Back"),
    templates=(
        DraftTemplate("Card 1", "{{Front}}", "{{FrontSide}}<hr id=answer>{{Back}}"),
        DraftTemplate("Card 2", "{{Back}}", "{{FrontSide}}<hr id=answer>{{Front}}"),
    ),
)
CLOZE = DraftNotetype(
    name="Cloze",
    fields=("Text", "Back Extra"),
    templates=(DraftTemplate("Cloze", "{{cloze:Text}}", "{{cloze:Text}}<br>{{Back Extra}}"),),
    is_cloze=True,
)
BUILTIN_NOTETYPES: dict[str, DraftNotetype] = {nt.name: nt for nt in (BASIC, REVERSED, CLOZE)}

# --------------------------------------------------------------------------- scheduling values


class CardState(IntEnum):
    """Where a card is in its life. Stored as an int."""

    NEW = 0
    LEARNING = 1
    REVIEW = 2
    RELEARNING = 3


class ReviewKind(IntEnum):
    """What a review-log row records (Anki's revlog ``type`` values, so exports map 1:1).

    Our own answers are LEARN / REVIEW / RELEARN by the card's state before the answer.
    MANUAL and RESCHEDULED rows come from imports (e.g. Anki's "set due date", "forget").
    """

    LEARN = 0
    REVIEW = 1
    RELEARN = 2
    FILTERED = 3
    MANUAL = 4
    RESCHEDULED = 5


_ID_RANDOM_BITS = 20


def review_id(time_ms: int, key: str | bytes | None = None) -> int:
    """A globally unique, time-ordered review id: ``time_ms << 20 | 20 low bits``.

    With ``key`` (e.g. ``f"{package_revlog_id}:{card_guid}:{ord}"``) the low bits are a hash of it, so
    importing the same review twice gives the same id; without, they are random. Ordering by id is
    ordering by time (to the millisecond). Fits SQLite's signed 64-bit integers until the year 2248.
    """
    if key is None:
        low = secrets.randbits(_ID_RANDOM_BITS)
    else:
        data = key.encode("utf-8") if isinstance(key, str) else key
        low = int.from_bytes(hashlib.blake2b(data, digest_size=4).digest(), "big") >> (32 - _ID_RANDOM_BITS)
    return (int(time_ms) << _ID_RANDOM_BITS) | low


def review_id_time_ms(rid: int) -> int:
    """The review time (epoch ms) encoded in a :func:`review_id`."""
    return rid >> _ID_RANDOM_BITS


def content_guid(*parts: str) -> str:
    """A stable guid derived from content, for sources without ids (hand-written files, derived decks)."""
    h = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=9).hexdigest()
    return "h" + h


# --------------------------------------------------------------------------- draft objects


@dataclass(slots=True)
class DraftReview:
    """One review-log row brought by an import.

    ``rating`` is 1-4 (Again/Hard/Good/Easy), or 0 for MANUAL/RESCHEDULED rows that carry none.
    ``interval_s`` is the interval the review gave (seconds; optional, used for exports/statistics).
    """

    id: int
    time_ms: int
    rating: int
    kind: ReviewKind = ReviewKind.REVIEW
    duration_ms: int = 0
    interval_s: int | None = None


@dataclass(slots=True)
class DraftCard:
    """Scheduling an import brings for one card of a note (by template ordinal).

    A card with ``state`` NEW and no reviews is simply a new card. For any other state the import
    provides the FSRS memory state (``stability``/``difficulty``; ``None`` means: replay ``reviews``
    to compute it) and ``due_ms``. This becomes the card's *baseline*: its scheduling is later always
    recomputed as baseline + the reviews made after ``baseline_ms``.
    """

    ord: int
    deck: str | None = None  # None: the note's deck
    state: CardState = CardState.NEW
    due_ms: int | None = None
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    last_review_ms: int | None = None
    suspended: bool = False
    buried: bool = False
    flag: int = 0
    position: int | None = None  # order among new cards (lower first); None: import order
    reviews: list[DraftReview] = field(default_factory=list)


@dataclass(slots=True)
class DraftNote:
    """One note: fields (HTML, in the note type's field order), tags, deck, optional source text.

    ``cards`` is None when the file carries no scheduling (all cards start new). ``line`` is where
    the note is in the file (line number, or note index), for messages.
    """

    guid: str
    notetype: str
    fields: list[str]
    tags: list[str] = field(default_factory=list)
    deck: str = "Default"
    source: str = ""
    cards: list[DraftCard] | None = None
    line: int | None = None
    modified_ms: int | None = None  # last content change, when the source knows it (exports to Anki use it)


@dataclass
class DraftDeck:
    """A deck the import creates (or whose options it brings). ``options`` keys are those of
    :class:`flashcards.options.DeckOptions`; unknown keys are ignored, missing keys keep defaults."""

    name: str
    options: dict | None = None
    description: str = ""


@dataclass
class DraftMedia:
    """A media file the import brings: its (already sanitised) name and its bytes or a path to read."""

    name: str
    data: bytes | None = None
    path: Path | None = None

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        if self.path is None:
            raise ValueError(f"media {self.name!r} has neither data nor path")
        return self.path.read_bytes()


class IfMatches(IntEnum):
    """What to do with a note whose guid already exists (Anki's ``#if matches``)."""

    UPDATE = 0  # update current (default)
    KEEP = 1  # keep current: skip the incoming note
    DUPLICATE = 2  # keep both: import as a new note with a fresh guid


@dataclass
class Draft:
    """Everything one file holds, before anything is written.

    ``skipped`` lists rows the parser rejected as ``(line, reason)``; they are reported, not fatal.
    ``warnings`` are shown to the user (e.g. "decoded as cp1252"). ``cleanup`` (if set) removes
    temporary files the parser made (extracted media); the pipeline calls it when done.
    """

    path: str
    notes: list[DraftNote] = field(default_factory=list)
    notetypes: list[DraftNotetype] = field(default_factory=list)
    decks: list[DraftDeck] = field(default_factory=list)
    media: list[DraftMedia] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: list[tuple[int | None, str]] = field(default_factory=list)
    if_matches: IfMatches = IfMatches.UPDATE
    match_scope_deck: bool = False  # Anki's "#match scope: notetype + deck"
    title: str | None = None
    version: int | None = None  # a shipped deck's version (the first-start loader compares it)
    cleanup: object = None  # callable or None

    def notetype(self, name: str) -> DraftNotetype:
        """The note type called ``name``: one the draft brings, else a built-in."""
        for nt in self.notetypes:
            if nt.name == name:
                return nt
        try:
            return BUILTIN_NOTETYPES[name]
        except KeyError:
            raise KeyError(f"unknown note type {name!r}") from None
