"""Read an extracted Anki collection (SQLite, schema 11 or 18) into plain Python values.

Schema 11 (``collection.anki2`` / ``collection.anki21``) keeps note types, decks and deck options as
JSON in the single ``col`` row. Schema 18 (``collection.anki21b``) keeps them in tables
(``notetypes``/``fields``/``templates``/``decks``/``deck_config``) whose ``config``/``kind`` columns
are protobuf messages; the field numbers read here are listed next to each use. Notes, cards and the
review log have the same shape in both.

Nothing here knows about drafts; :mod:`flashcards.importers.apkg` maps these values onto them.
"""

from __future__ import annotations

import json
import sqlite3
import struct
from dataclasses import dataclass, field
from pathlib import Path

from flashcards.importers.anki_protobuf import Message, ProtobufError


class CollectionError(ValueError):
    """The collection is damaged or not an Anki collection."""


@dataclass
class Notetype:
    """An Anki note type: ordered field names, templates ``(name, question, answer)``, kind, css."""

    id: int
    name: str
    fields: list[str]
    templates: list[tuple[str, str, str]]
    is_cloze: bool = False
    css: str = ""


@dataclass
class Deck:
    """A deck: ``::``-joined name, its options group, whether it is filtered, description."""

    id: int
    name: str
    config_id: int | None = None
    filtered: bool = False
    description: str = ""
    desired_retention: float | None = None  # a per-deck override (newer Anki)


@dataclass
class DeckConfig:
    """The deck-option values we carry over (Anki units: steps in minutes, intervals in days)."""

    id: int
    learn_steps: list[float] = field(default_factory=list)
    relearn_steps: list[float] = field(default_factory=list)
    new_per_day: int | None = None
    reviews_per_day: int | None = None
    maximum_interval: int | None = None
    bury: bool = False
    leech_threshold: int | None = None
    leech_suspend: bool | None = None
    desired_retention: float | None = None
    fsrs_params: list[float] = field(default_factory=list)  # the newest set present, as stored


def float32(x: float) -> float:
    """The shortest decimal that reads back as the same 32-bit float (0.8500000238 -> 0.85).

    Schema 18 stores option values as 32-bit floats; shown as doubles they carry noise digits.
    """
    packed = struct.pack("<f", x)
    for digits in range(6, 10):
        y = float(f"{x:.{digits}g}")
        if struct.pack("<f", y) == packed:
            return y
    return x


def _unicase(a: str, b: str) -> int:
    # Anki declares name columns COLLATE unicase; SQLite refuses to read them without it.
    a, b = a.casefold(), b.casefold()
    return (a > b) - (a < b)


def connect(path: Path) -> sqlite3.Connection:
    """Open an extracted collection read-only, with the ``unicase`` collation registered."""
    try:
        # immutable=1: no locking and no journal/WAL files next to a file nobody else writes.
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as e:
        raise CollectionError(f"cannot open the collection: {e}") from e
    conn.create_collation("unicase", _unicase)
    try:
        # A hostile file could define views or triggers calling SQL functions; refuse to run them.
        conn.execute("PRAGMA trusted_schema = OFF")
    except sqlite3.Error:
        pass
    return conn


class Reader:
    """Reads one collection; raises :class:`CollectionError` for anything malformed."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        try:
            kinds = dict(conn.execute("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')"))
        except sqlite3.DatabaseError as e:
            raise CollectionError(f"not an SQLite database ({e})") from e
        for table in ("col", "notes", "cards", "revlog"):
            if kinds.get(table) != "table":
                raise CollectionError(f"not an Anki collection (no {table} table)")
        self.schema18 = kinds.get("notetypes") == "table"
        try:
            row = conn.execute("SELECT crt, ver FROM col").fetchone()
        except sqlite3.DatabaseError as e:
            raise CollectionError(f"damaged collection ({e})") from e
        if row is None or type(row[0]) is not int:
            raise CollectionError("damaged collection (no creation time in the col table)")
        self.crt = row[0]
        self.version = row[1]
        self.v1_scheduler = self._scheduler_version() == 1

    def _scheduler_version(self) -> int:
        """Anki's scheduler version (1: Anki 2.0's, whose learning answers had 3 buttons; else 2)."""
        try:
            if self.schema18:
                row = self.conn.execute("SELECT val FROM config WHERE KEY = 'schedVer'").fetchone()
                value = json.loads(row[0]) if row else 1
            else:
                value = json.loads(self.conn.execute("SELECT conf FROM col").fetchone()[0] or "{}").get(
                    "schedVer", 1
                )
        except (sqlite3.DatabaseError, ValueError, TypeError, AttributeError):
            return 2  # unreadable: assume the modern meaning rather than rewrite answers
        return 1 if value == 1 else 2

    # ------------------------------------------------------------------ note types, decks, options

    def notetypes(self) -> dict[int, Notetype]:
        """All note types by id."""
        try:
            return self._notetypes18() if self.schema18 else self._notetypes11()
        except (sqlite3.DatabaseError, ProtobufError, ValueError, TypeError, KeyError, AttributeError) as e:
            raise CollectionError(f"damaged note types ({e})") from e

    def decks(self) -> dict[int, Deck]:
        """All decks by id (filtered ones included, flagged)."""
        try:
            return self._decks18() if self.schema18 else self._decks11()
        except (sqlite3.DatabaseError, ProtobufError, ValueError, TypeError, KeyError, AttributeError) as e:
            raise CollectionError(f"damaged decks ({e})") from e

    def deck_configs(self) -> dict[int, DeckConfig]:
        """All deck option groups by id."""
        try:
            return self._configs18() if self.schema18 else self._configs11()
        except (sqlite3.DatabaseError, ProtobufError, ValueError, TypeError, KeyError, AttributeError) as e:
            raise CollectionError(f"damaged deck options ({e})") from e

    def _col_json(self, column: str) -> dict:
        raw = self.conn.execute(f"SELECT {column} FROM col").fetchone()[0]
        value = json.loads(raw) if raw else {}
        if not isinstance(value, dict):
            raise ValueError(f"col.{column} is not a JSON object")
        return value

    def _notetypes11(self) -> dict[int, Notetype]:
        out = {}
        for m in self._col_json("models").values():
            flds = sorted(m["flds"], key=lambda f: f.get("ord", 0))
            tmpls = sorted(m["tmpls"], key=lambda t: t.get("ord", 0))
            out[int(m["id"])] = Notetype(
                id=int(m["id"]),
                name=str(m["name"]),
                fields=[str(f["name"]) for f in flds],
                templates=[(str(t["name"]), str(t.get("qfmt", "")), str(t.get("afmt", ""))) for t in tmpls],
                is_cloze=m.get("type") == 1,
                css=str(m.get("css", "")),
            )
        return out

    def _notetypes18(self) -> dict[int, Notetype]:
        out = {}
        for ntid, name, config in self.conn.execute("SELECT id, name, config FROM notetypes"):
            cfg = Message(config)
            # Notetype.Config: 1 kind (0 normal, 1 cloze), 3 css
            out[ntid] = Notetype(ntid, name, [], [], is_cloze=cfg.uint(1) == 1, css=cfg.str(3))
        # Exports can carry fields/templates rows of note types they left out: join on notetypes.
        for ntid, name in self.conn.execute(
            "SELECT f.ntid, f.name FROM fields f JOIN notetypes n ON n.id = f.ntid ORDER BY f.ntid, f.ord"
        ):
            out[ntid].fields.append(name)
        for ntid, name, config in self.conn.execute(
            "SELECT t.ntid, t.name, t.config FROM templates t JOIN notetypes n ON n.id = t.ntid"
            " ORDER BY t.ntid, t.ord"
        ):
            cfg = Message(config)
            # Template.Config: 1 question format, 2 answer format
            out[ntid].templates.append((name, cfg.str(1), cfg.str(2)))
        return out

    def _decks11(self) -> dict[int, Deck]:
        out = {}
        for d in self._col_json("decks").values():
            dr = d.get("desiredRetention")
            if isinstance(dr, int | float) and dr > 1:
                dr = dr / 100  # the legacy JSON holds a deck's own retention as a percentage
            out[int(d["id"])] = Deck(
                id=int(d["id"]),
                name=str(d["name"]),
                config_id=int(d["conf"]) if d.get("conf") is not None and not d.get("dyn") else None,
                filtered=bool(d.get("dyn")),
                description=str(d.get("desc") or ""),
                desired_retention=float(dr) if isinstance(dr, int | float) else None,
            )
        return out

    def _decks18(self) -> dict[int, Deck]:
        out = {}
        for did, name, kind in self.conn.execute("SELECT id, name, kind FROM decks"):
            container = Message(kind)
            # KindContainer: 1 normal, 2 filtered.
            # Normal: 1 config id, 4 description, 10 desired retention (optional float).
            normal = container.message(1)
            if normal is None:
                out[did] = Deck(did, name.replace("\x1f", "::"), filtered=True)
                continue
            out[did] = Deck(
                did,
                name.replace("\x1f", "::"),
                config_id=normal.uint(1),
                description=normal.str(4),
                desired_retention=float32(normal.float(10)) if normal.has(10) else None,
            )
        return out

    def _configs11(self) -> dict[int, DeckConfig]:
        out = {}
        for c in self._col_json("dconf").values():
            new, rev, lapse = c.get("new", {}), c.get("rev", {}), c.get("lapse", {})
            params: list = []
            for key in ("fsrsParams6", "fsrsParams5", "fsrsWeights"):  # newest first
                if c.get(key):
                    params = [float(x) for x in c[key]]
                    break
            dr = c.get("desiredRetention")
            leech = lapse.get("leechAction")
            out[int(c["id"])] = DeckConfig(
                id=int(c["id"]),
                learn_steps=[float(x) for x in new.get("delays", [])],
                relearn_steps=[float(x) for x in lapse.get("delays", [])],
                new_per_day=_int_or_none(new.get("perDay")),
                reviews_per_day=_int_or_none(rev.get("perDay")),
                maximum_interval=_int_or_none(rev.get("maxIvl")),
                bury=bool(new.get("bury") or rev.get("bury") or c.get("buryInterdayLearning")),
                leech_threshold=_int_or_none(lapse.get("leechFails")),
                leech_suspend=None if leech is None else leech == 0,
                desired_retention=float(dr) if isinstance(dr, int | float) else None,
                fsrs_params=params,
            )
        return out

    def _configs18(self) -> dict[int, DeckConfig]:
        out = {}
        for cid, config in self.conn.execute("SELECT id, config FROM deck_config"):
            m = Message(config)
            # DeckConfig.Config: 1 learn steps, 2 relearn steps (packed floats, minutes);
            # 3/5/6 FSRS parameters 4.5/5/6; 9 new per day; 10 reviews per day; 16 maximum interval;
            # 21 leech action (0 suspend, 1 tag only); 22 leech threshold; 27/28/29 bury new/reviews/
            # interday learning; 37 desired retention.
            params: list[float] = []
            for number in (6, 5, 3):
                params = [float32(x) for x in m.floats(number)]
                if params:
                    break
            out[cid] = DeckConfig(
                id=cid,
                learn_steps=[float32(x) for x in m.floats(1)],
                relearn_steps=[float32(x) for x in m.floats(2)],
                new_per_day=m.uint(9),
                reviews_per_day=m.uint(10),
                maximum_interval=m.uint(16) or None,
                bury=m.bool(27) or m.bool(28) or m.bool(29),
                leech_threshold=m.uint(22),
                leech_suspend=m.uint(21) == 0,
                desired_retention=float32(m.float(37)) if m.has(37) else None,
                fsrs_params=params,
            )
        return out

    # ------------------------------------------------------------------ notes, cards, review log

    def notes(self):
        """Rows ``(id, guid, mid, tags, flds)`` in id order (creation order)."""
        return self._rows("SELECT id, guid, mid, tags, flds FROM notes ORDER BY id")

    def cards(self):
        """Rows ``(id, nid, did, ord, type, queue, due, left, odue, odid, flags, data)`` in table order
        (a note's cards are not sorted by ``ord``: callers grouping by note sort the few that need it,
        which is cheaper than an ordered scan through the ``nid`` index)."""
        return self._rows(
            "SELECT id, nid, did, ord, type, queue, due, left, odue, odid, flags, data FROM cards"
        )

    def revlog(self):
        """Rows ``(id, cid, ease, ivl, time, type)`` ordered by card, then time."""
        return self._rows("SELECT id, cid, ease, ivl, time, type FROM revlog ORDER BY cid, id")

    def _rows(self, sql: str):
        try:
            yield from self.conn.execute(sql)
        except sqlite3.DatabaseError as e:
            raise CollectionError(f"damaged collection ({e})") from e


def _int_or_none(value) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
