"""Build real Anki packages for the importer tests, with the ``anki`` package (test-only dependency).

``anki`` writes the two newer layouts itself (``collection.anki21b`` in schema 18 with zstd and a
protobuf media map, and ``collection.anki21`` with a JSON media map); the oldest layout
(``collection.anki2`` alone, no ``meta``) is made by repacking a ``collection.anki21`` package.

The content is made with Anki's own API (note types, decks, deck options, notes, media); the
scheduling values are then set with SQL to fixed numbers so the tests can expect exact values
(Anki stamps everything with the wall clock otherwise).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from anki.collection import Collection, ExportAnkiPackageOptions

# The fixed collection creation time (the day rollover), epoch seconds: 2026-01-01 04:00 UTC.
CRT = 1767240000
DAY = 86400
LAYOUTS = ("anki21b", "anki21", "anki2")

FSRS_PARAMS_6 = [
    0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796,
    1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.1542,
]  # fmt: skip
FSRS_PARAMS_5 = FSRS_PARAMS_6[:19]

VOCAB_CSS = ".card { font-family: serif; color: navy; }"


@dataclass
class Built:
    """What the factory put in the package (ids/guids so tests can look things up)."""

    path: Path
    guids: dict[str, str] = field(default_factory=dict)  # our label -> note guid
    media: dict[str, bytes] = field(default_factory=dict)
    col_path: Path | None = None  # the Anki collection it was exported from


def _vocab_notetype(col: Collection) -> dict:
    mm = col.models
    m = mm.new("Vocab")
    for name in ("Word", "Meaning", "Example"):
        mm.add_field(m, mm.new_field(name))
    t1 = mm.new_template("Recognise")
    t1["qfmt"] = "{{Word}}"
    t1["afmt"] = "{{FrontSide}}<hr id=answer>{{Meaning}}{{#Example}}<br><i>{{Example}}</i>{{/Example}}"
    t2 = mm.new_template("Recall")
    t2["qfmt"] = "{{Meaning}}"
    t2["afmt"] = "{{FrontSide}}<hr id=answer>{{type:Word}}"
    mm.add_template(m, t1)
    mm.add_template(m, t2)
    m["css"] = VOCAB_CSS
    mm.add(m)
    return mm.by_name("Vocab")


def _custom_config(col: Collection, params: list[float]) -> int:
    conf = col.decks.add_config_returning_id("Custom")
    c = col.decks.get_config(conf)
    c["new"]["perDay"] = 7
    c["new"]["delays"] = [2.0, 15.0]
    c["new"]["bury"] = True
    c["rev"]["perDay"] = 77
    c["rev"]["maxIvl"] = 400
    c["lapse"]["delays"] = [5.0]
    c["lapse"]["leechFails"] = 5
    c["lapse"]["leechAction"] = 0
    c["desiredRetention"] = 0.85
    if len(params) == 21:
        c["fsrsParams6"] = params
    elif len(params) == 19:
        c["fsrsParams5"] = params
    col.decks.update_config(c)
    return conf


def build_collection(
    col_path: Path, media_dir_src: Path, *, fsrs_params: list[float] = FSRS_PARAMS_6
) -> dict:
    """Create an Anki collection with the standard test content; returns labels -> guids.

    Content: decks ``Lang`` > ``Lang::French`` and ``Misc`` (custom options), a filtered deck; note
    types Basic, Basic (and reversed card), Cloze and a custom ``Vocab`` (3 fields, 2 templates, css);
    media ``a.png`` referenced by one note, ``missing.jpg`` referenced but absent.
    """
    col = Collection(str(col_path))
    try:
        col.set_config("fsrs", True)
        french = col.decks.id("Lang::French")
        # A deck's own desired retention (overrides its options group's; newer Anki only).
        lang = col._backend.get_deck(col.decks.id("Lang"))
        lang.normal.desired_retention = 0.8
        col._backend.update_deck(lang)
        misc = col.decks.id("Misc")
        deck = col.decks.get(misc)
        deck["desc"] = "Odds and ends"
        col.decks.save(deck)
        col.decks.set_config_id_for_deck_dict(col.decks.get(misc), _custom_config(col, fsrs_params))
        vocab = _vocab_notetype(col)

        media_dir_src.mkdir(parents=True, exist_ok=True)
        png = media_dir_src / "a.png"
        png.write_bytes(b"\x89PNG\r\n\x1a\nfake image")
        col.media.add_file(str(png))

        def add(label, notetype, fields, deck_id, tags=()):
            note = col.new_note(col.models.by_name(notetype) if isinstance(notetype, str) else notetype)
            for k, v in fields.items():
                note[k] = v
            note.tags = list(tags)
            col.add_note(note, deck_id)
            return label, note

        notes = [
            add(
                "basic",
                "Basic",
                {"Front": 'bonjour <img src="a.png">', "Back": "hello"},
                french,
                ["fr", "greet"],
            ),
            add("reversed", "Basic (and reversed card)", {"Front": "chat", "Back": "cat"}, french, ["fr"]),
            add("cloze", "Cloze", {"Text": "{{c1::Paris}} is in {{c2::France}}", "Back Extra": ""}, misc),
            add("vocab", vocab, {"Word": "Haus", "Meaning": "house", "Example": "Das Haus"}, misc, ["de"]),
            add(
                "missing", "Basic", {"Front": 'see <img src="missing.jpg">', "Back": "[sound:gone.mp3]"}, misc
            ),
        ]
        guids = {label: n.guid for label, n in notes}
        nid = {label: n.id for label, n in notes}
        _set_scheduling(col, nid)
        col.db.execute("update col set crt = ?", CRT)
        return guids
    finally:
        col.close()


def card_id(col: Collection, nid: int, ord_: int) -> int:
    return col.db.scalar("select id from cards where nid = ? and ord = ?", nid, ord_)


def _set_scheduling(col: Collection, nid: dict[str, int]) -> None:
    """Fixed scheduling values (see the module docstring for why SQL)."""
    misc = col.decks.id("Misc")
    filtered = col.decks.new_filtered("Cram")
    # The filtered deck pulled nothing in (no due cards); move one card in by hand.
    basic = card_id(col, nid["basic"], 0)
    col.db.execute(
        "update cards set type=2, queue=2, due=100, ivl=10, factor=2500, reps=3, lapses=0, left=0,"
        " data=? where id=?",
        json.dumps({"s": 12.5, "d": 5.25, "dr": 0.9, "lrt": CRT + 90 * DAY}),
        basic,
    )
    revlog = [
        # id (ms), cid, ease, ivl, lastIvl, factor, time (ms), type
        ((CRT + 80 * DAY) * 1000 + 1, basic, 3, -600, 0, 0, 8000, 0),
        ((CRT + 80 * DAY) * 1000 + 600_001, basic, 3, 1, -600, 2500, 95_000, 0),
        ((CRT + 90 * DAY) * 1000 + 5, basic, 4, 10, 1, 2500, 4000, 1),
    ]
    rev_fwd = card_id(col, nid["reversed"], 0)
    rev_back = card_id(col, nid["reversed"], 1)
    # Learning card: due in epoch seconds; one step left of two.
    col.db.execute(
        "update cards set type=1, queue=1, due=?, ivl=0, left=1, reps=1 where id=?",
        CRT + 95 * DAY + 3600,
        rev_fwd,
    )
    revlog.append(((CRT + 95 * DAY) * 1000 + 7, rev_fwd, 1, -120, 0, 0, 3000, 0))
    # Suspended review card without memory state (the pipeline replays its history).
    col.db.execute(
        "update cards set type=2, queue=-1, due=110, ivl=5, reps=2, flags=2 where id=?",
        rev_back,
    )
    revlog += [
        ((CRT + 90 * DAY) * 1000 + 9, rev_back, 3, 5, 0, 2500, 70_000, 1),
        ((CRT + 91 * DAY) * 1000 + 9, rev_back, 0, 0, 5, 2500, 0, 4),  # manual (set due date)
        ((CRT + 92 * DAY) * 1000 + 9, rev_back, 0, 6, 5, 2500, 0, 5),  # rescheduled
    ]
    c1 = card_id(col, nid["cloze"], 0)
    c2 = card_id(col, nid["cloze"], 1)
    col.db.execute("update cards set type=0, queue=-3, due=3 where id=?", c1)  # buried by the user
    col.db.execute(
        "update cards set type=0, queue=0, due=5, flags=3 where id=?", c2
    )  # new, red+orange? flag 3
    v1 = card_id(col, nid["vocab"], 0)
    v2 = card_id(col, nid["vocab"], 1)
    # In the filtered deck: original deck Misc, original due day 120.
    col.db.execute(
        "update cards set type=2, queue=2, did=?, odid=?, due=-100000, odue=120, ivl=20, data=? where id=?",
        filtered,
        misc,
        json.dumps({"s": 30.0, "d": 3.5, "lrt": CRT + 100 * DAY}),
        v1,
    )
    revlog.append(((CRT + 100 * DAY) * 1000 + 3, v1, 2, 20, 8, 2500, 12_000, 1))
    # Relearning, sibling-buried, interday learning due as a day number.
    col.db.execute("update cards set type=3, queue=-2, due=130, ivl=1, left=1 where id=?", v2)
    revlog.append(((CRT + 129 * DAY) * 1000 + 3, v2, 1, -300, 4, 2500, 5000, 2))
    for row in revlog:
        col.db.execute(
            "insert into revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) values (?,?,-1,?,?,?,?,?,?)",
            *row,
        )


def export(col_path: Path, out: Path, layout: str, *, colpkg: bool = False, scheduling: bool = True) -> Path:
    """Export the collection at ``col_path`` as ``out`` in ``layout`` (one of :data:`LAYOUTS`)."""
    col = Collection(str(col_path))
    legacy = layout != "anki21b"
    if colpkg:
        col.export_collection_package(str(out), include_media=True, legacy=legacy)  # closes col
    else:
        try:
            opts = ExportAnkiPackageOptions(
                with_scheduling=scheduling, with_deck_configs=True, with_media=True, legacy=legacy
            )
            col.export_anki_package(out_path=str(out), options=opts, limit=None)
        finally:
            col.close()
    if layout == "anki2":
        repack_oldest(out)
    return out


def repack_oldest(path: Path) -> None:
    """Turn a ``collection.anki21`` package into the oldest layout: ``collection.anki2`` holding the
    real collection, no ``meta``, JSON media map."""
    tmp = path.with_suffix(".repack")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist()
        assert "collection.anki21" in names, names
        for name in names:
            if name in ("meta", "collection.anki2"):
                continue
            data = src.read(name)
            dst.writestr("collection.anki2" if name == "collection.anki21" else name, data)
    tmp.replace(path)


def make_package(tmp: Path, layout: str, *, colpkg: bool = False, scheduling: bool = True, **kw) -> Built:
    """Build the standard collection in ``tmp`` and export it in ``layout``."""
    tmp.mkdir(parents=True, exist_ok=True)
    col_path = tmp / "src" / "collection.anki2"
    col_path.parent.mkdir(parents=True, exist_ok=True)
    guids = build_collection(col_path, tmp / "media-src", **kw)
    out = tmp / ("pkg-" + layout + (".colpkg" if colpkg else ".apkg"))
    export(col_path, out, layout, colpkg=colpkg, scheduling=scheduling)
    return Built(out, guids, {"a.png": b"\x89PNG\r\n\x1a\nfake image"}, col_path)


def review_in_anki(built: Built, label: str, when_s: int, *, rating: int = 3, ivl_days: int = 30) -> None:
    """Answer the first card of note ``label`` in the Anki collection ``built`` came from (a review
    at ``when_s`` epoch seconds, new memory state), as if the learner kept studying in Anki."""
    col = Collection(str(built.col_path))
    try:
        nid = col.db.scalar("select id from notes where guid = ?", built.guids[label])
        cid = card_id(col, nid, 0)
        due_day = (when_s - CRT) // DAY + ivl_days
        col.db.execute(
            "update cards set type=2, queue=2, due=?, ivl=?, odid=0, odue=0, did=(case when odid then odid else did end),"
            " data=? where id=?",
            due_day,
            ivl_days,
            json.dumps({"s": 40.0, "d": 5.0, "lrt": when_s}),
            cid,
        )
        col.db.execute(
            "insert into revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) values (?,?,-1,?,?,10,2500,6000,1)",
            when_s * 1000 + 11,
            cid,
            rating,
            ivl_days,
        )
    finally:
        col.close()


def rezip(src: Path, dst: Path, replace: dict[str, bytes | None], *, compression=zipfile.ZIP_STORED) -> Path:
    """Copy package ``src`` to ``dst`` replacing (bytes) or dropping (None) members, or adding new ones."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression) as zout:
        for info in zin.infolist():
            if info.filename in replace:
                continue
            zout.writestr(info.filename, zin.read(info.filename))
        for name, data in replace.items():
            if data is not None:
                zout.writestr(name, data)
    return dst


def edit_collection(src: Path, dst: Path, edit, *, extra: dict[str, bytes | None] | None = None) -> Path:
    """Copy package ``src`` to ``dst`` after running ``edit(sqlite3 connection)`` on its collection
    (decompressed and recompressed with zstd for the newest layout); ``extra`` replaces members."""
    import sqlite3
    import tempfile

    import zstandard

    with zipfile.ZipFile(src) as z:
        names = z.namelist()
        member = next(
            n for n in ("collection.anki21b", "collection.anki21", "collection.anki2") if n in names
        )
        data = z.read(member)
    if member.endswith("b"):
        data = zstandard.ZstdDecompressor().stream_reader(data).read()
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "c.db"
        db.write_bytes(data)
        conn = sqlite3.connect(db)
        conn.create_collation("unicase", lambda a, b: (a.lower() > b.lower()) - (a.lower() < b.lower()))
        edit(conn)
        conn.commit()
        conn.close()
        data = db.read_bytes()
    if member.endswith("b"):
        data = zstandard.ZstdCompressor().compress(data)
    return rezip(src, dst, {member: data, **(extra or {})})


def zstd(data: bytes) -> bytes:
    """zstd-compress ``data`` as Anki does (a stream: no content size in the frame)."""
    import io

    import zstandard

    out = io.BytesIO()
    with zstandard.ZstdCompressor().stream_writer(out, closefd=False) as w:
        w.write(data)
    return out.getvalue()
