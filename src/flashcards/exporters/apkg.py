"""Write a :class:`~flashcards.drafts.Draft` as an Anki package (``.apkg``) that current Anki imports.

Layout: a zip with ``collection.anki21`` (an SQLite collection in Anki's schema 11, which every Anki
since 2.1 reads and 23.10+ upgrades on import), the media files as members ``0``, ``1``, ... and a
JSON ``media`` map from member to file name. In the collection:

* ``col``: note types (``models``), decks with their hierarchy (``decks``: every ancestor of a deck
  is written too) and deck options presets (``dconf``: steps, limits, leech, bury, desired retention
  and the FSRS parameters), as JSON.
* ``notes``: guid (so re-importing updates the same notes), fields, tags; ``cards``: one per card
  (state, queue, due, interval, reps, lapses from our scheduling; FSRS memory state in ``data`` as
  ``{"s", "d", "dr", "decay", "lrt"}``); ``revlog``: one row per review (id = review time in ms).
  Without scheduling (the draft's cards are ``None``) every card is new and there is no revlog.

Day numbers (review due dates) count study days from the collection's creation day, in the local
time zone with the 4:00 rollover, as Anki does; Anki shifts them onto its own calendar on import.
Note type and deck ids are derived from their names (and fields), so exporting again and importing
into the same Anki matches the same note types and decks. Options presets never use id 1, so an
import cannot overwrite the user's "Default" preset.

The package is built in a temporary directory and moved into place when complete.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path

from flashcards import render
from flashcards.drafts import (
    CardState,
    Draft,
    DraftCard,
    DraftDeck,
    DraftNotetype,
    ReviewKind,
    review_id_time_ms,
)
from flashcards.errors import ExportFailed
from flashcards.exporters.csv import atomic_output
from flashcards.gcpause import paused as gc_paused
from flashcards.options import DeckOptions
from flashcards.timeutil import day_start, study_day

Progress = Callable[[int, int], None]

DAY_S = 86_400
_PROGRESS_EVERY = 1000
DEFAULT_CSS = """.card {
    font-family: arial;
    font-size: 20px;
    line-height: 1.5;
    text-align: center;
    color: black;
    background-color: white;
}
"""
_LATEX_PRE = (
    "\\documentclass[12pt]{article}\n\\special{papersize=3in,5in}\n\\usepackage[utf8]{inputenc}\n"
    "\\usepackage{amssymb,amsmath}\n\\pagestyle{empty}\n\\setlength{\\parindent}{0in}\n\\begin{document}\n"
)

SCHEMA = """
CREATE TABLE col (
  id integer PRIMARY KEY, crt integer NOT NULL, mod integer NOT NULL, scm integer NOT NULL,
  ver integer NOT NULL, dty integer NOT NULL, usn integer NOT NULL, ls integer NOT NULL,
  conf text NOT NULL, models text NOT NULL, decks text NOT NULL, dconf text NOT NULL, tags text NOT NULL
);
CREATE TABLE notes (
  id integer PRIMARY KEY, guid text NOT NULL, mid integer NOT NULL, mod integer NOT NULL,
  usn integer NOT NULL, tags text NOT NULL, flds text NOT NULL, sfld integer NOT NULL,
  csum integer NOT NULL, flags integer NOT NULL, data text NOT NULL
);
CREATE TABLE cards (
  id integer PRIMARY KEY, nid integer NOT NULL, did integer NOT NULL, ord integer NOT NULL,
  mod integer NOT NULL, usn integer NOT NULL, type integer NOT NULL, queue integer NOT NULL,
  due integer NOT NULL, ivl integer NOT NULL, factor integer NOT NULL, reps integer NOT NULL,
  lapses integer NOT NULL, left integer NOT NULL, odue integer NOT NULL, odid integer NOT NULL,
  flags integer NOT NULL, data text NOT NULL
);
CREATE TABLE revlog (
  id integer PRIMARY KEY, cid integer NOT NULL, usn integer NOT NULL, ease integer NOT NULL,
  ivl integer NOT NULL, lastIvl integer NOT NULL, factor integer NOT NULL, time integer NOT NULL,
  type integer NOT NULL
);
CREATE TABLE graves (usn integer NOT NULL, oid integer NOT NULL, type integer NOT NULL);
CREATE INDEX ix_notes_usn ON notes (usn);
CREATE INDEX ix_cards_usn ON cards (usn);
CREATE INDEX ix_revlog_usn ON revlog (usn);
CREATE INDEX ix_cards_nid ON cards (nid);
CREATE INDEX ix_cards_sched ON cards (did, queue, due);
CREATE INDEX ix_revlog_cid ON revlog (cid);
CREATE INDEX ix_notes_csum ON notes (csum);
"""

# Anki's card.type / card.queue values.
TYPE_NEW, TYPE_LRN, TYPE_REV, TYPE_RELRN = 0, 1, 2, 3
QUEUE_SUSPENDED, QUEUE_SCHED_BURIED = -1, -2
QUEUE_NEW, QUEUE_LRN, QUEUE_REV, QUEUE_DAY_LRN = 0, 1, 2, 3


def _stable_id(*parts: str) -> int:
    """A positive id from text, in the range of Anki's millisecond ids (so it never collides with 1)."""
    h = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest()
    return 1_000_000_000_000 + int.from_bytes(h, "big") % 1_000_000_000_000


_TAG_RE = re.compile(r"<[^>]*>")


def sort_field(value: str) -> str:
    """The text Anki sorts and checksums a note by: its first field without HTML."""
    return html.unescape(_TAG_RE.sub("", value.replace("<br>", " "))).strip()


def field_checksum(value: str, sort_text: str | None = None) -> int:
    """Anki's duplicate-check checksum: the first 8 hex digits of SHA-1 of the sort text."""
    text = sort_field(value) if sort_text is None else sort_text
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16)


class _Days:
    """Study-day numbers counted from the package collection's creation day (Anki's ``due`` for
    review cards)."""

    def __init__(self, now_ms: int, earliest_ms: int, rollover_hour: int, tz: tzinfo | None):
        self.rollover = rollover_hour
        self.tz = tz
        self.crt_day: date = self.day(earliest_ms)
        crt = day_start(self.crt_day, rollover_hour, tz)
        self.crt_s = int(crt.timestamp())
        offset = crt.astimezone(tz).utcoffset() if tz is not None else crt.astimezone().utcoffset()
        self.creation_offset_min_west = -int((offset or timedelta()).total_seconds() // 60)
        self.today = self.index(now_ms)

    def day(self, ms: int) -> date:
        return study_day(datetime.fromtimestamp(ms / 1000, tz=UTC), self.rollover, self.tz)

    def index(self, ms: int) -> int:
        return (self.day(ms) - self.crt_day).days


def _ivl_value(interval_s: int | None) -> int:
    """Anki's revlog interval: whole days when a day or more, else negative seconds."""
    if not interval_s:
        return 0
    if interval_s >= DAY_S:
        return max(1, round(interval_s / DAY_S))
    return -int(interval_s)


def _remaining_steps(card: DraftCard, opts: DeckOptions) -> int:
    steps = opts.relearning_steps if card.state == CardState.RELEARNING else opts.learning_steps
    return max(1, len(steps) - (card.step or 0))


def _notetype_json(nt: DraftNotetype, ntid: int, mod_s: int) -> dict:
    tmpls = []
    req = []
    for i, t in enumerate(nt.templates):
        tmpls.append({"name": t.name, "ord": i, "qfmt": t.front, "afmt": t.back, "bqfmt": "", "bafmt": "",
                      "did": None, "bfont": "", "bsize": 0})
        used = [j for j, f in enumerate(nt.fields) if "{{" in t.front and f in t.front] or [0]
        req.append([i, "any", used])
    flds = [{"name": f, "ord": i, "sticky": False, "rtl": False, "font": "Arial", "size": 20,
             "description": "", "plainText": False, "collapsed": False, "excludeFromSearch": False,
             "tag": None, "preventDeletion": False} for i, f in enumerate(nt.fields)]
    return {
        "id": ntid, "name": nt.name, "type": 1 if nt.is_cloze else 0, "mod": mod_s, "usn": -1, "sortf": 0,
        "did": None, "tmpls": tmpls, "flds": flds, "css": nt.css or DEFAULT_CSS, "latexPre": _LATEX_PRE,
        "latexPost": "\\end{document}", "latexsvg": False, "req": req, "tags": [], "vers": [],
    }


def _deck_json(name: str, did: int, conf_id: int, mod_s: int, desc: str = "") -> dict:
    return {
        "id": did, "mod": mod_s, "name": name, "usn": -1, "lrnToday": [0, 0], "revToday": [0, 0],
        "newToday": [0, 0], "timeToday": [0, 0], "collapsed": False, "browserCollapsed": False,
        "desc": desc, "dyn": 0, "conf": conf_id, "extendNew": 0, "extendRev": 0,
        "reviewLimit": None, "newLimit": None, "reviewLimitToday": None, "newLimitToday": None,
    }


def _dconf_json(name: str, conf_id: int, opts: DeckOptions, mod_s: int) -> dict:
    params = list(opts.fsrs_parameters or [])
    return {
        "id": conf_id, "mod": mod_s, "name": name, "usn": -1, "maxTaken": 60, "autoplay": True, "timer": 0,
        "replayq": True,
        "new": {"bury": opts.bury_siblings, "delays": [float(s) for s in opts.learning_steps],
                "initialFactor": 2500, "ints": [1, 4, 0], "order": 1, "perDay": opts.new_per_day},
        "rev": {"bury": opts.bury_siblings, "ease4": 1.3, "ivlFct": 1.0, "maxIvl": opts.maximum_interval,
                "perDay": opts.reviews_per_day, "hardFactor": 1.2},
        "lapse": {"delays": [float(s) for s in opts.relearning_steps],
                  "leechAction": 0 if opts.leech_action == "suspend" else 1,
                  "leechFails": opts.leech_threshold, "minInt": 1, "mult": 0.0},
        "dyn": False, "newMix": 0, "newPerDayMinimum": 0, "interdayLearningMix": 0, "reviewOrder": 0,
        "newSortOrder": 0, "newGatherPriority": 0, "buryInterdayLearning": opts.bury_siblings,
        "fsrsWeights": [], "fsrsParams5": params if len(params) == 19 else [],
        "fsrsParams6": params if len(params) == 21 else [],
        "desiredRetention": float(opts.desired_retention), "ignoreRevlogsBeforeDate": "",
        "easyDaysPercentages": [1.0] * 7, "stopTimerOnAnswer": False, "secondsToShowQuestion": 0.0,
        "secondsToShowAnswer": 0.0, "questionAction": 0, "answerAction": 0, "waitForAudio": True,
        "sm2Retention": 0.9, "weightSearch": "",
    }


def _ancestors(name: str) -> list[str]:
    parts = name.split("::")
    return ["::".join(parts[:i]) for i in range(1, len(parts) + 1)]


def write(
    draft: Draft,
    path: str | os.PathLike,
    progress: Progress | None = None,
    *,
    now_ms: int | None = None,
    rollover_hour: int = 4,
    tz: tzinfo | None = None,
) -> int:
    """Write ``draft`` as an ``.apkg`` at ``path``; returns the number of notes written.

    ``now_ms`` (default: the current time) dates the collection and places learning/review due
    dates on Anki's day numbers; ``rollover_hour``/``tz`` define the study day (default 4:00 local).
    """
    if now_ms is None:
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
    target = Path(path)
    with tempfile.TemporaryDirectory(prefix=".apkg-", dir=target.parent or ".") as tmp:
        db_path = Path(tmp) / "collection.anki21"
        n = _build_collection(draft, db_path, now_ms, rollover_hour, tz, progress, target)
        media_map: dict[str, str] = {}
        with atomic_output(target, "wb") as f, zipfile.ZipFile(f, "w") as z:
            z.write(db_path, "collection.anki21", compress_type=zipfile.ZIP_DEFLATED)
            for i, m in enumerate(draft.media):
                member = str(i)
                # Pictures and sounds are compressed already: store them as they are.
                if m.data is None and m.path is not None:
                    z.write(m.path, member, compress_type=zipfile.ZIP_STORED)
                else:
                    z.writestr(member, m.read(), compress_type=zipfile.ZIP_STORED)
                media_map[member] = m.name
            z.writestr("media", json.dumps(media_map, ensure_ascii=False), compress_type=zipfile.ZIP_DEFLATED)
    if progress is not None:
        progress(len(draft.notes), len(draft.notes))
    return n


def _build_collection(draft: Draft, db_path: Path, now_ms: int, rollover_hour: int, tz: tzinfo | None,
                      progress: Progress | None, target: Path) -> int:
    mod_s = now_ms // 1000
    notes = draft.notes
    total = len(notes)
    earliest = now_ms
    for note in notes:
        for c in note.cards or ():
            for r in c.reviews:
                earliest = min(earliest, r.time_ms)
            if c.due_ms is not None and c.state != CardState.NEW:
                earliest = min(earliest, c.due_ms)
            if c.last_review_ms is not None:
                earliest = min(earliest, c.last_review_ms)
    days = _Days(now_ms, earliest, rollover_hour, tz)

    # Decks: every deck the draft lists or a note/card uses, with all their ancestors.
    deck_info: dict[str, DraftDeck] = {d.name: d for d in draft.decks}
    deck_names: set[str] = set(deck_info)
    for note in notes:
        deck_names.add(note.deck)
        for c in note.cards or ():
            if c.deck:
                deck_names.add(c.deck)
    all_decks = sorted({a for name in deck_names for a in _ancestors(name)}, key=lambda s: s.split("::"))
    deck_ids = {name: (1 if name == "Default" else _stable_id("deck", name)) for name in all_decks}
    options: dict[str, DeckOptions] = {
        name: DeckOptions.from_dict(deck_info[name].options if name in deck_info else None) for name in all_decks
    }
    # One options preset per distinct set of options, named after the first deck using it.
    conf_ids: dict[str, int] = {}
    dconf: dict[str, dict] = {"1": _dconf_json("Default", 1, DeckOptions(), 0)}
    deck_conf: dict[str, int] = {}
    for name in all_decks:
        key = json.dumps(options[name].to_dict(), sort_keys=True)
        if key not in conf_ids:
            cid = _stable_id("dconf", key)
            conf_ids[key] = cid
            dconf[str(cid)] = _dconf_json(f"flashcards: {name}", cid, options[name], mod_s)
        deck_conf[name] = conf_ids[key]
    decks_json = {str(deck_ids[name]): _deck_json(name, deck_ids[name], deck_conf[name], mod_s,
                                                  deck_info[name].description if name in deck_info else "")
                  for name in all_decks}
    if "Default" not in deck_ids:
        decks_json["1"] = _deck_json("Default", 1, 1, 0)

    # Note types used by the notes.
    nt_by_name: dict[str, DraftNotetype] = {}
    for note in notes:
        if note.notetype not in nt_by_name:
            try:
                nt_by_name[note.notetype] = draft.notetype(note.notetype)
            except KeyError:
                raise ExportFailed(f"{target}: note {note.guid} uses note type {note.notetype!r}, "
                                   "which the export does not include") from None
    nt_ids = {name: _stable_id("notetype", name, *nt.fields, str(len(nt.templates)))
              for name, nt in nt_by_name.items()}
    models = {str(nt_ids[name]): _notetype_json(nt, nt_ids[name], mod_s) for name, nt in nt_by_name.items()}
    all_tags = sorted({t for note in notes for t in note.tags})

    conf = {
        "nextPos": total + 1, "sortType": "noteFld", "schedVer": 2, "sched2021": True, "curDeck": 1,
        "activeDecks": [1], "collapseTime": 1200, "creationOffset": days.creation_offset_min_west,
        "rollover": rollover_hour, "dayLearnFirst": False, "newSpread": 0, "curModel": next(iter(nt_ids.values()), 1),
        "sortBackwards": False, "estTimes": True, "dueCounts": True, "addToCur": True, "timeLim": 0,
    }

    db = sqlite3.connect(db_path)
    # Millions of small row tuples and no cycles: the cyclic collector would only rescan them.
    with gc_paused():
        try:
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            db.executescript(SCHEMA)
            db.execute(
                "INSERT INTO col VALUES (1, ?, ?, ?, 11, 0, 0, 0, ?, ?, ?, ?, ?)",
                (days.crt_s, now_ms, now_ms, json.dumps(conf), json.dumps(models, ensure_ascii=False),
                 json.dumps(decks_json, ensure_ascii=False), json.dumps(dconf), json.dumps({t: 0 for t in all_tags},
                                                                                           ensure_ascii=False)),
            )
            note_rows = []
            card_rows = []
            revlog_rows = []
            used_revlog_ids: set[int] = set()
            base_nid = now_ms - total - 1
            card_seq = 0
            for i, note in enumerate(notes):
                nid = base_nid + i
                nt = nt_by_name[note.notetype]
                # "\x1f" separates fields in Anki's flds column: it cannot appear inside one.
                fields = [f.replace("\x1f", "") for f in (list(note.fields) + [""] * len(nt.fields))[: len(nt.fields)]]
                first = fields[0] if fields else ""
                tags = f" {' '.join(note.tags)} " if note.tags else ""
                sort_text = sort_field(first)
                note_rows.append((nid, note.guid, nt_ids[note.notetype], mod_s, -1, tags, "\x1f".join(fields),
                                  sort_text, field_checksum(first, sort_text), 0, ""))
                cards = note.cards
                if cards is None:
                    cards = [DraftCard(ord=o) for o in render.card_ordinals(nt, fields)] or [DraftCard(ord=0)]
                for card in cards:
                    card_seq += 1
                    cid = now_ms + card_seq
                    deck = card.deck or note.deck
                    card_rows.append(_card_row(card, cid, nid, deck_ids[deck], options[deck], days, mod_s, i + 1))
                    _revlog_rows(card, cid, revlog_rows, used_revlog_ids)
                if progress is not None and (i + 1) % _PROGRESS_EVERY == 0:
                    progress(i + 1, total)
            db.executemany("INSERT INTO notes VALUES (?,?,?,?,?,?,?,?,?,?,?)", note_rows)
            db.executemany("INSERT INTO cards VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", card_rows)
            db.executemany("INSERT INTO revlog VALUES (?,?,?,?,?,?,?,?,?)", revlog_rows)
            db.commit()
        finally:
            db.close()
    return total


def _card_row(card: DraftCard, cid: int, nid: int, did: int, opts: DeckOptions, days: _Days, mod_s: int,
              position: int) -> tuple:
    reps = sum(1 for r in card.reviews if r.rating > 0)
    lapses = sum(1 for r in card.reviews if r.rating == 1 and r.kind == ReviewKind.REVIEW)
    state = card.state
    due_ms = card.due_ms
    ivl = 0
    factor = 0
    left = 0
    if state == CardState.NEW or due_ms is None:
        ctype, queue = TYPE_NEW, QUEUE_NEW
        due = card.position if card.position is not None else position
    elif state == CardState.REVIEW:
        ctype, queue = TYPE_REV, QUEUE_REV
        due = days.index(due_ms)
        if card.last_review_ms is not None:
            ivl = max(1, days.index(due_ms) - days.index(card.last_review_ms))
        elif card.stability:
            ivl = max(1, round(card.stability))
        else:
            ivl = 1
        factor = 2500
    else:
        ctype = TYPE_LRN if state == CardState.LEARNING else TYPE_RELRN
        left = _remaining_steps(card, opts)
        if days.index(due_ms) > days.today:
            # A step that ends on a later day: Anki's day-learning queue counts in days.
            queue, due = QUEUE_DAY_LRN, days.index(due_ms)
        else:
            queue, due = QUEUE_LRN, due_ms // 1000
        if state == CardState.RELEARNING:
            ivl = max(1, round(card.stability)) if card.stability else 1
            factor = 2500
    if card.suspended:
        queue = QUEUE_SUSPENDED
    elif card.buried:
        queue = QUEUE_SCHED_BURIED
    data: dict = {}
    if card.stability is not None and card.difficulty is not None and state != CardState.NEW:
        data["s"] = round(float(card.stability), 4)
        data["d"] = round(float(card.difficulty), 4)
        data["dr"] = round(float(opts.desired_retention), 2)
        params = opts.parameters()
        if len(params) == 21:
            data["decay"] = round(float(params[20]), 4)
    if card.last_review_ms is not None and state != CardState.NEW:
        data["lrt"] = card.last_review_ms // 1000
    return (cid, nid, did, card.ord, mod_s, -1, ctype, queue, int(due), ivl, factor, reps, lapses, left, 0, 0,
            max(0, min(7, card.flag)), json.dumps(data) if data else "{}")


def _revlog_rows(card: DraftCard, cid: int, out: list, used: set[int]) -> None:
    last_ivl = 0
    for r in sorted(card.reviews, key=lambda r: (r.time_ms, r.id)):
        # Anki's revlog id is the review time in ms and must be unique: nudge clashes by 1 ms.
        rid = r.time_ms if r.time_ms else review_id_time_ms(r.id)
        while rid in used:
            rid += 1
        used.add(rid)
        ivl = _ivl_value(r.interval_s)
        factor = 0 if r.kind == ReviewKind.LEARN else 2500
        duration = max(0, min(60_000, int(r.duration_ms or 0)))
        out.append((rid, cid, -1, int(r.rating), ivl, last_ivl, factor, duration, int(r.kind)))
        if r.kind != ReviewKind.MANUAL or ivl:
            last_ivl = ivl

