"""The Anki package importer: every layout Anki writes, scheduling, media, hostile files.

Packages are built by :mod:`apkg_factory` with the ``anki`` package (never downloaded); scheduling
values are fixed there, so the expected values below are exact.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import struct
import unicodedata
import zipfile
from pathlib import Path

import pytest
from apkg_factory import (
    CRT,
    DAY,
    FSRS_PARAMS_5,
    FSRS_PARAMS_6,
    LAYOUTS,
    VOCAB_CSS,
    edit_collection,
    make_package,
    rezip,
    zstd,
)

from flashcards.drafts import CardState, ReviewKind, review_id
from flashcards.errors import ImportFailed
from flashcards.importers import anki_package, anki_zstd, apkg
from flashcards.importers.anki_protobuf import Message, ProtobufError, iter_fields, read_varint

MS = 1000


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """One package per (layout, apkg/colpkg), built once for the module."""
    built = {}
    for layout in LAYOUTS:
        for colpkg in (False, True):
            built[layout, colpkg] = make_package(
                tmp_path_factory.mktemp(f"{layout}-{colpkg}"), layout, colpkg=colpkg
            )
    return built


@pytest.fixture(autouse=True)
def private_tmp(tmp_path, monkeypatch):
    """Temp dirs the importer makes go under the test's tmp_path, so leftovers can be checked."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(d))
    return d


@pytest.fixture(params=["zstandard", "stdlib"])
def zstd_backend(request, monkeypatch):
    """Run a test with each zstd decompressor: ``zstandard`` (desktop) and the ``compression.zstd``
    API (Python 3.14, the phone; ``backports.zstd`` here)."""
    if request.param == "stdlib":
        if not _has_stdlib_zstd():
            pytest.importorskip("backports.zstd")
        monkeypatch.setattr(anki_zstd, "_open_zstandard", _hidden)
    return request.param


def _hidden(fileobj):
    raise ImportError("hidden for this test")


def _has_stdlib_zstd() -> bool:
    try:
        import compression.zstd  # noqa: F401
    except ImportError:
        return False
    return True


def leftovers(private_tmp: Path) -> list[str]:
    return sorted(p.name for p in private_tmp.iterdir())


def by_guid(draft):
    return {n.guid: n for n in draft.notes}


ALL = [(layout, colpkg) for layout in LAYOUTS for colpkg in (False, True)]
IDS = [f"{layout}-{'colpkg' if colpkg else 'apkg'}" for layout, colpkg in ALL]

# --------------------------------------------------------------------------- content


@pytest.mark.parametrize("key", ALL, ids=IDS)
def test_notes_notetypes_decks(packages, key):
    built = packages[key]
    draft = apkg.parse(built.path)
    try:
        notes = by_guid(draft)
        g = built.guids
        assert sorted(notes) == sorted(g.values())  # the dummy "please update" note is never read
        assert notes[g["basic"]].notetype == "Basic"
        assert notes[g["basic"]].fields == ['bonjour <img src="a.png">', "hello"]
        assert notes[g["basic"]].tags == ["fr", "greet"]
        assert notes[g["basic"]].deck == "Lang::French"
        assert notes[g["reversed"]].notetype == "Basic (and reversed card)"
        assert notes[g["cloze"]].fields == ["{{c1::Paris}} is in {{c2::France}}", ""]
        assert notes[g["vocab"]].fields == ["Haus", "house", "Das Haus"]
        assert notes[g["vocab"]].deck == "Misc"  # home deck, not the filtered deck its first card is in
        assert [n.line for n in draft.notes] == [1, 2, 3, 4, 5]

        nts = {nt.name: nt for nt in draft.notetypes}
        assert sorted(nts) == ["Basic", "Basic (and reversed card)", "Cloze", "Vocab"]
        assert nts["Cloze"].is_cloze and not nts["Basic"].is_cloze
        assert nts["Basic"].fields == ("Front", "Back")
        assert nts["Cloze"].fields == ("Text", "Back Extra")
        assert [t.name for t in nts["Basic (and reversed card)"].templates] == ["Card 1", "Card 2"]
        vocab = nts["Vocab"]
        assert vocab.fields == ("Word", "Meaning", "Example")
        assert [(t.name, t.front) for t in vocab.templates] == [
            ("Recognise", "{{Word}}"),
            ("Recall", "{{Meaning}}"),
        ]
        assert vocab.templates[1].back == "{{FrontSide}}<hr id=answer>{{type:Word}}"
        assert vocab.css == VOCAB_CSS

        decks = {d.name: d for d in draft.decks}
        assert sorted(decks) == ["Lang", "Lang::French", "Misc"]  # no filtered deck, no unused Default
        assert decks["Misc"].description == "Odds and ends"
    finally:
        draft.cleanup()


@pytest.mark.parametrize("key", ALL, ids=IDS)
def test_deck_options(packages, key):
    draft = apkg.parse(packages[key].path)
    draft.cleanup()
    decks = {d.name: d for d in draft.decks}
    assert decks["Misc"].options == {
        "new_per_day": 7,
        "reviews_per_day": 77,
        "learning_steps": [2.0, 15.0],
        "relearning_steps": [5.0],
        "maximum_interval": 400,
        "bury_siblings": True,
        "leech_threshold": 5,
        "leech_action": "suspend",
        "desired_retention": 0.85,
        "fsrs_parameters": FSRS_PARAMS_6,
    }
    assert decks["Lang::French"].options == {
        "new_per_day": 20,
        "reviews_per_day": 200,
        "learning_steps": [1.0, 10.0],
        "relearning_steps": [10.0],
        "maximum_interval": 36500,
        "bury_siblings": False,
        "leech_threshold": 8,
        "leech_action": "tag",
        "desired_retention": 0.9,
        "fsrs_parameters": None,  # Anki's default options hold no parameters
    }
    assert decks["Lang"].options["desired_retention"] == 0.8  # the deck's own, over its group's 0.9


@pytest.mark.parametrize("key", ALL, ids=IDS)
def test_scheduling(packages, key):
    built = packages[key]
    draft = apkg.parse(built.path)
    draft.cleanup()
    notes = by_guid(draft)
    g = built.guids

    (basic,) = notes[g["basic"]].cards
    assert (basic.state, basic.due_ms, basic.stability, basic.difficulty) == (
        CardState.REVIEW,
        (CRT + 100 * DAY) * MS,
        12.5,
        5.25,
    )
    assert basic.last_review_ms == (CRT + 90 * DAY) * MS  # from cards.data "lrt"
    assert (basic.deck, basic.suspended, basic.buried, basic.flag) == (None, False, False, 0)
    t0 = (CRT + 80 * DAY) * MS + 1
    assert [(r.time_ms, r.rating, r.kind, r.duration_ms, r.interval_s) for r in basic.reviews] == [
        (t0, 3, ReviewKind.LEARN, 8000, 600),
        (t0 + 600_000, 3, ReviewKind.LEARN, 60_000, DAY),  # 95 s capped at 60 s
        ((CRT + 90 * DAY) * MS + 5, 4, ReviewKind.REVIEW, 4000, 10 * DAY),
    ]
    assert basic.reviews[0].id == review_id(t0, f"{t0}:{g['basic']}:0")

    fwd, back = notes[g["reversed"]].cards
    assert (fwd.state, fwd.due_ms, fwd.step) == (CardState.LEARNING, (CRT + 95 * DAY + 3600) * MS, 1)
    assert (fwd.stability, fwd.difficulty) == (None, None)  # no memory state: the pipeline replays
    assert fwd.last_review_ms == (CRT + 95 * DAY) * MS + 7
    assert (back.state, back.due_ms, back.suspended, back.flag) == (
        CardState.REVIEW,
        (CRT + 110 * DAY) * MS,
        True,
        2,
    )
    assert [(r.rating, r.kind, r.interval_s) for r in back.reviews] == [
        (3, ReviewKind.REVIEW, 5 * DAY),
        (0, ReviewKind.MANUAL, 0),
        (0, ReviewKind.RESCHEDULED, 6 * DAY),
    ]
    assert back.last_review_ms == (CRT + 90 * DAY) * MS + 9  # the last rated answer, not the manual rows

    c1, c2 = notes[g["cloze"]].cards
    assert (c1.state, c1.position, c1.buried, c1.due_ms) == (CardState.NEW, 3, True, None)
    assert (c2.state, c2.position, c2.flag, c2.buried) == (CardState.NEW, 5, 3, False)

    v1, v2 = notes[g["vocab"]].cards
    # In the filtered deck "Cram": back home to Misc with its home due (odue 120).
    assert (v1.deck, v1.state, v1.due_ms) == (None, CardState.REVIEW, (CRT + 120 * DAY) * MS)
    assert (v1.stability, v1.difficulty, v1.last_review_ms) == (30.0, 3.5, (CRT + 100 * DAY) * MS)
    # Relearning on an interday step (a day number), sibling-buried; one relearning step of one left.
    assert (v2.state, v2.due_ms, v2.step, v2.buried) == (
        CardState.RELEARNING,
        (CRT + 130 * DAY) * MS,
        0,
        True,
    )
    assert [(r.rating, r.kind) for r in v2.reviews] == [(1, ReviewKind.RELEARN)]


def test_review_ids_are_deterministic(packages):
    a = apkg.parse(packages["anki21b", False].path)
    b = apkg.parse(packages["anki21b", False].path)
    a.cleanup()
    b.cleanup()
    ids = [r.id for n in a.notes for c in n.cards for r in c.reviews]
    assert ids == [r.id for n in b.notes for c in n.cards for r in c.reviews]
    assert len(set(ids)) == len(ids) == 9


def test_export_without_scheduling(tmp_path):
    built = make_package(tmp_path, "anki21b", scheduling=False)
    draft = apkg.parse(built.path)
    draft.cleanup()
    cards = [c for n in draft.notes for c in n.cards]
    assert {c.state for c in cards} == {CardState.NEW}
    assert not any(c.reviews for c in cards)


@pytest.mark.parametrize(
    "params, expected",
    [(FSRS_PARAMS_6, FSRS_PARAMS_6), (FSRS_PARAMS_5, [*FSRS_PARAMS_5, 0.0, 0.5])],
    ids=["fsrs6", "fsrs5"],
)
@pytest.mark.parametrize("layout", ["anki21b", "anki21"])
def test_fsrs_parameters(tmp_path, layout, params, expected):
    built = make_package(tmp_path, layout, fsrs_params=params)
    draft = apkg.parse(built.path)
    draft.cleanup()
    assert {d.name: d for d in draft.decks}["Misc"].options["fsrs_parameters"] == expected


def test_fsrs21_conversion():
    assert apkg.fsrs21(FSRS_PARAMS_6) == FSRS_PARAMS_6
    assert apkg.fsrs21(FSRS_PARAMS_5) == [*FSRS_PARAMS_5, 0.0, 0.5]
    assert apkg.fsrs21(FSRS_PARAMS_6[:17]) is None  # FSRS-4.5: not faithfully convertible
    assert apkg.fsrs21([]) is None


def test_out_of_range_options_keep_defaults(packages, tmp_path):
    def edit(conn):
        dconf = json.loads(conn.execute("SELECT dconf FROM col").fetchone()[0])
        for c in dconf.values():
            c["rev"]["maxIvl"] = 0
            c["desiredRetention"] = 0.3
        conn.execute("UPDATE col SET dconf = ?", (json.dumps(dconf),))

    pkg = edit_collection(packages["anki21", False].path, tmp_path / "o.apkg", edit)
    draft = apkg.parse(pkg)
    draft.cleanup()
    opts = {d.name: d for d in draft.decks}["Misc"].options
    assert "maximum_interval" not in opts and "desired_retention" not in opts
    assert opts["new_per_day"] == 7
    assert any("maximum_interval" in w and "desired_retention" in w for w in draft.warnings)


# --------------------------------------------------------------------------- layouts


def test_newest_collection_wins_without_meta(packages, tmp_path):
    # Anki 2.1.x (before meta existed) wrote collection.anki21 next to a dummy collection.anki2.
    src = packages["anki21", False].path
    pkg = rezip(src, tmp_path / "nometa.apkg", {"meta": None})
    draft = apkg.parse(pkg)
    draft.cleanup()
    assert len(draft.notes) == 5
    assert not any("Please update" in f for n in draft.notes for f in n.fields)


def test_meta_from_a_newer_anki(packages, tmp_path):
    pkg = rezip(packages["anki21b", False].path, tmp_path / "v9.apkg", {"meta": b"\x08\x09"})
    with pytest.raises(ImportFailed, match="newer Anki"):
        apkg.parse(pkg)


def test_schema18_orphan_fields_and_templates(packages, tmp_path):
    def edit(conn):
        conn.execute("INSERT INTO fields (ntid, ord, name, config) VALUES (999, 0, 'Ghost', x'')")
        conn.execute(
            "INSERT INTO templates (ntid, ord, name, mtime_secs, usn, config) VALUES (999, 0, 'Ghost', 0, 0, x'')"
        )

    pkg = edit_collection(packages["anki21b", False].path, tmp_path / "orphans.apkg", edit)
    draft = apkg.parse(pkg)
    draft.cleanup()
    assert all("Ghost" not in nt.fields for nt in draft.notetypes)
    assert len(draft.notes) == 5


def test_colpkg_without_media_member(packages, tmp_path):
    pkg = rezip(packages["anki21b", True].path, tmp_path / "nomedia.colpkg", {"media": None, "0": None})
    draft = apkg.parse(pkg)
    draft.cleanup()
    assert draft.media == [] and len(draft.notes) == 5
    assert any("a.png" in w for w in draft.warnings)


def test_zstd_missing_names_the_layout(packages, monkeypatch):
    def unavailable(fileobj):
        raise ImportError("no zstd")

    monkeypatch.setattr(anki_zstd, "_open_zstandard", unavailable)
    monkeypatch.setattr(anki_zstd, "_open_stdlib", unavailable)
    with pytest.raises(ImportFailed, match=r"collection\.anki21b.*zstandard.*desktop"):
        apkg.parse(packages["anki21b", False].path)
    # The older layouts need no zstd at all.
    draft = apkg.parse(packages["anki21", False].path)
    draft.cleanup()
    assert len(draft.notes) == 5


def test_field_counts_and_unknown_notetype(packages, tmp_path):
    def edit(conn):
        conn.execute(
            "UPDATE notes SET flds = flds || char(31) || 'extra' WHERE id = (SELECT MIN(id) FROM notes)"
        )
        conn.execute("UPDATE notes SET flds = 'only one' WHERE id = (SELECT MAX(id) FROM notes)")

    pkg = edit_collection(packages["anki21", False].path, tmp_path / "f.apkg", edit)
    draft = apkg.parse(pkg)
    draft.cleanup()
    assert [line for line, _ in draft.skipped] == [1]
    assert "3 fields" in draft.skipped[0][1]
    assert draft.notes[-1].fields == ["only one", ""]  # missing fields are empty


# --------------------------------------------------------------------------- media


@pytest.mark.parametrize("key", ALL, ids=IDS)
def test_media_extracted_and_cleaned_up(packages, key, private_tmp):
    built = packages[key]
    draft = apkg.parse(built.path)
    assert [m.name for m in draft.media] == ["a.png"]
    assert draft.media[0].read() == built.media["a.png"]
    assert any("missing.jpg" in w and "gone.mp3" in w for w in draft.warnings)  # not fatal
    assert leftovers(private_tmp)
    draft.cleanup()
    assert leftovers(private_tmp) == []


def _legacy_with_media(src: Path, dst: Path, names: list[str], field: str) -> Path:
    """The anki21 package with the given media names (file i holds b"file i") and ``field`` as the
    first note's front."""

    def edit(conn):
        nid = conn.execute("SELECT MIN(id) FROM notes").fetchone()[0]
        conn.execute("UPDATE notes SET flds = ? || char(31) || 'back' WHERE id = ?", (field, nid))

    extra: dict[str, bytes | None] = {"media": json.dumps({str(i): n for i, n in enumerate(names)}).encode()}
    extra.update({str(i): f"file {i}".encode() for i in range(len(names))})
    return edit_collection(src, dst, edit, extra=extra)


def test_unsafe_and_clashing_media_names_renamed(packages, tmp_path):
    nfd = unicodedata.normalize("NFD", "Café.png")
    names = ["../evil.png", "a/b.png", nfd, "x.png", "X.PNG", ".hidden", "con:ok.mp3"]
    field = (
        '<img src="../evil.png"><img src=\'a/b.png\'><img src="'
        + nfd
        + '"><img src="x.png"><img src="X.PNG"><img src=.hidden>[sound:con:ok.mp3]<img src=\'\'>'
    )
    pkg = _legacy_with_media(packages["anki21", False].path, tmp_path / "m.apkg", names, field)
    draft = apkg.parse(pkg)
    try:
        got = {m.name: m.read() for m in draft.media}
        assert got == {
            "_._evil.png": b"file 0",
            "a_b.png": b"file 1",
            "Café.png": b"file 2",  # NFC
            "x.png": b"file 3",
            "X-2.PNG": b"file 4",  # case-insensitive clash
            "_.hidden": b"file 5",
            "con_ok.mp3": b"file 6",
        }
        assert unicodedata.is_normalized("NFC", draft.notes[0].fields[0])
        assert draft.notes[0].fields[0] == (
            '<img src="_._evil.png"><img src="a_b.png"><img src="Café.png"><img src="x.png">'
            '<img src="X-2.PNG"><img src="_.hidden">[sound:con_ok.mp3]<img src=\'\'>'
        )
        for m in draft.media:  # written under our own names inside the temp dir
            assert m.path.parent.name == "media" and m.path.name.isdigit()
    finally:
        draft.cleanup()


def test_safe_media_name():
    s = anki_package.safe_media_name
    assert s("ok.png") == "ok.png"
    assert s("/etc/passwd") == "_etc_passwd"
    assert s("..\\..\\x.png") == "_._._x.png"
    for bad in ("..", ".", "", "a/../../b", "C:\\evil", "\x00x", " spaced ", "trail.", "a" * 300 + ".png"):
        name = s(bad)
        assert name and "/" not in name and "\\" not in name and ".." not in name and ":" not in name
        assert not name.startswith(".") and name == name.strip() and len(name.encode()) <= 200
    assert s("a" * 300 + ".png").endswith(".png")
    assert anki_package.unique_name("a.png", {"a.png", "a-2.png"}) == "a-3.png"


def test_listed_media_missing_or_damaged_is_a_warning(packages, tmp_path):
    src = packages["anki21b", False].path
    entries = zipfile.ZipFile(src).read("media")
    # Drop the member itself: the file is reported, the import goes on.
    pkg = rezip(src, tmp_path / "gone.apkg", {"0": None})
    draft = apkg.parse(pkg)
    draft.cleanup()
    assert draft.media == [] and any("'a.png' is listed but not in the package" in w for w in draft.warnings)
    # Different bytes than the map's size/sha1 say.
    pkg = rezip(src, tmp_path / "bad.apkg", {"0": zstd(b"not the image at all"), "media": entries})
    draft = apkg.parse(pkg)
    draft.cleanup()
    assert draft.media == [] and any("'a.png' is damaged" in w for w in draft.warnings)


# --------------------------------------------------------------------------- hostile / broken files


def refused(path, private_tmp, match, **kw):
    with pytest.raises(ImportFailed, match=match) as e:
        apkg.parse(path, **kw)
    assert leftovers(private_tmp) == []  # nothing left behind
    assert "\n" not in str(e.value)
    return e.value


def test_not_a_zip(tmp_path, private_tmp):
    p = tmp_path / "deck.apkg"
    p.write_text("front\tback\n", encoding="utf-8")
    refused(p, private_tmp, "not a zip file")


def test_sqlite_file_renamed_to_apkg(tmp_path, private_tmp):
    p = tmp_path / "collection.apkg"
    sqlite3.connect(p).execute("CREATE TABLE t (x)").connection.close()
    refused(p, private_tmp, "not a zip file")


def test_missing_file(tmp_path, private_tmp):
    refused(tmp_path / "nope.apkg", private_tmp, "cannot read")


def test_truncated_zip(packages, tmp_path, private_tmp):
    data = packages["anki21b", False].path.read_bytes()
    p = tmp_path / "cut.apkg"
    p.write_bytes(data[: len(data) // 2])
    refused(p, private_tmp, "truncated")


def test_zip_without_collection(tmp_path, private_tmp):
    p = tmp_path / "photos.apkg"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("holiday.jpg", b"\xff\xd8 jpeg")
    refused(p, private_tmp, "holds no collection")


@pytest.mark.parametrize("name", ["../../evil.sh", "/etc/cron.d/x", "C:\\Windows\\x", "a/../../b", "..\\x"])
def test_member_name_escaping(packages, tmp_path, private_tmp, name):
    pkg = rezip(packages["anki21", False].path, tmp_path / "esc.apkg", {name: b"owned"})
    refused(pkg, private_tmp, "escapes the package")


def test_damaged_sqlite(packages, tmp_path, private_tmp):
    src = packages["anki21", False].path
    pkg = rezip(src, tmp_path / "garbage.apkg", {"collection.anki21": os.urandom(8192)})
    refused(pkg, private_tmp, "not an SQLite database")
    # A real collection cut short: SQLite notices when the query reaches the missing pages.
    real = zipfile.ZipFile(src).read("collection.anki21")
    pkg = rezip(src, tmp_path / "short.apkg", {"collection.anki21": real[: len(real) // 3]})
    refused(pkg, private_tmp, "damaged|malformed|not an SQLite")


def test_sqlite_that_is_not_an_anki_collection(packages, tmp_path, private_tmp):
    db = tmp_path / "other.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    pkg = rezip(
        packages["anki21", False].path, tmp_path / "other.apkg", {"collection.anki21": db.read_bytes()}
    )
    refused(pkg, private_tmp, "not an Anki collection")


def test_damaged_zstd(packages, tmp_path, private_tmp, zstd_backend):
    pkg = rezip(
        packages["anki21b", False].path, tmp_path / "z.apkg", {"collection.anki21b": b"\x28\xb5\x2f\xfdjunk"}
    )
    refused(pkg, private_tmp, "does not decompress|is empty")


def test_zstd_bomb(packages, tmp_path, private_tmp, zstd_backend):
    bomb = zstd(b"\0" * (64 << 20))  # 64 MiB of zeros in a few KiB
    assert len(bomb) < 64 << 10
    pkg = rezip(packages["anki21b", False].path, tmp_path / "bomb.apkg", {"collection.anki21b": bomb})
    e = refused(pkg, private_tmp, "zip bomb", max_bytes=8 << 20)
    assert "8 MiB" in str(e)


def test_stored_member_bomb(packages, tmp_path, private_tmp):
    # Stored members are not compressed at all: the cap must count extracted bytes, not ratios.
    src = packages["anki21", False].path
    pkg = rezip(src, tmp_path / "stored.apkg", {"collection.anki21": b"\0" * (3 << 20)})
    refused(pkg, private_tmp, "zip bomb", max_bytes=2 << 20)


def test_media_bomb_counts_against_the_same_cap(packages, tmp_path, private_tmp):
    src = packages["anki21", False].path
    extra = {"media": json.dumps({"0": "a.png", "1": "b.png"}).encode(), "0": b"\0" * (3 << 20), "1": b"x"}
    pkg = rezip(src, tmp_path / "mb.apkg", extra, compression=zipfile.ZIP_DEFLATED)
    refused(pkg, private_tmp, "zip bomb", max_bytes=3 << 20)


def test_default_extract_limit():
    assert apkg.extract_limit(10_000) == 256 << 20
    assert apkg.extract_limit(10 << 20) == 2000 << 20
    assert apkg.extract_limit(1 << 40) == 16 << 30


def test_field_over_1mb_names_the_note(tmp_path, packages, private_tmp):
    def edit(conn):
        nid, guid = conn.execute("SELECT id, guid FROM notes ORDER BY id LIMIT 1 OFFSET 2").fetchone()
        conn.execute("UPDATE notes SET flds = ? WHERE id = ?", ("Big one\x1f" + "é" * 600_000, nid))
        edit.guid = guid

    pkg = edit_collection(packages["anki21", False].path, tmp_path / "big.apkg", edit)
    e = refused(pkg, private_tmp, "over 1 MB")
    assert e.line == 3 and edit.guid in str(e) and "Big one" in str(e)


def test_hostile_media_map(packages, tmp_path, private_tmp):
    src = packages["anki21", False].path
    pkg = rezip(src, tmp_path / "mm.apkg", {"media": b"[1, 2"})
    refused(pkg, private_tmp, "media map")
    pkg = rezip(packages["anki21b", False].path, tmp_path / "mm2.apkg", {"media": zstd(b"\x0a\xff\xff\xff")})
    refused(pkg, private_tmp, "media map")


# --------------------------------------------------------------------------- protobuf reader


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def test_varints():
    for n in (0, 1, 127, 128, 300, 2**32, 2**63 - 1, 2**64 - 1):
        assert read_varint(_varint(n), 0) == (n, len(_varint(n)))
    with pytest.raises(ProtobufError):
        read_varint(b"\x80\x80", 0)
    with pytest.raises(ProtobufError):
        read_varint(b"\xff" * 11, 0)


def test_message_fields():
    floats = struct.pack("<3f", 1.0, 10.0, 0.5)
    buf = (
        b"\x08\x96\x01"  # 1: varint 150
        + b"\x12\x05hello"  # 2: "hello"
        + b"\x1a" + _varint(len(floats)) + floats  # 3: packed floats
        + b"\x25" + struct.pack("<f", 0.85)  # 4: float (I32)
        + b"\x29" + (7).to_bytes(8, "little")  # 5: fixed64 (skipped by callers)
        + b"\x30" + _varint(2**64 - 5)  # 6: int64 -5
        + b"\x3a\x02\x08\x07" + b"\x3a\x02\x08\x09"  # 7: repeated sub-messages
        + b"\x08\x01"  # 1 again: the last one wins
        + b"\xf8\x0f\x2a"  # 255: varint 42 (two-byte key)
    )  # fmt: skip
    m = Message(buf)
    assert m.uint(1) == 1 and m.str(2) == "hello" and m.floats(3) == [1.0, 10.0, 0.5]
    assert abs(m.float(4) - 0.85) < 1e-7 and m.int(6) == -5 and m.uint(255) == 42
    assert [s.uint(1) for s in m.messages(7)] == [7, 9]
    assert m.uint(99) == 0 and m.str(99) == "" and m.floats(99) == [] and not m.has(99)
    assert [n for n, _w, _v in iter_fields(buf)] == [1, 2, 3, 4, 5, 6, 7, 7, 1, 255]
    # Unpacked repeated floats are read too.
    assert Message(b"\x0d" + struct.pack("<f", 2.0) + b"\x0d" + struct.pack("<f", 3.0)).floats(1) == [
        2.0,
        3.0,
    ]


@pytest.mark.parametrize("bad", [b"\x12\x05hel", b"\x25\x00\x00", b"\x0b", b"\x00\x01", b"\x08"])
def test_malformed_protobuf(bad):
    with pytest.raises(ProtobufError):
        Message(bad)


def test_wrong_wire_type_is_an_error():
    with pytest.raises(ProtobufError):
        Message(b"\x08\x01").str(1)
    with pytest.raises(ProtobufError):
        Message(b"\x0a\x01x").uint(1)


def test_float32_shortest():
    from flashcards.importers.anki_collection import float32

    (x,) = struct.unpack("<f", struct.pack("<f", 0.85))
    assert x != 0.85 and float32(x) == 0.85


# --------------------------------------------------------------------------- zstd streaming


def test_zstd_multiple_frames_and_cap(zstd_backend):
    data = zstd(b"a" * 1000) + zstd(b"b" * 1000)
    out = io.BytesIO()
    assert anki_zstd.copy_decompressed(io.BytesIO(data), out, 2000) == 2000
    assert out.getvalue() == b"a" * 1000 + b"b" * 1000
    with pytest.raises(anki_zstd.LimitExceeded):
        anki_zstd.copy_decompressed(io.BytesIO(data), io.BytesIO(), 1999)
    with pytest.raises(anki_zstd.CorruptData):
        anki_zstd.copy_decompressed(io.BytesIO(b"\x28\xb5\x2f\xfd" + b"\xff" * 20), io.BytesIO(), 100)


# --------------------------------------------------------------------------- end to end: pipeline + CLI


def _counts(col):
    return tuple(col._sql(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("note", "card", "review"))


def _card(col, guid, ord_=0):
    cur = col._sql(
        "SELECT c.* FROM card c JOIN note n ON n.id = c.note_id WHERE n.guid = ? AND c.ord = ?", (guid, ord_)
    )
    return dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))


@pytest.fixture
def col(tmp_path):
    from flashcards.collection import Collection

    c = Collection.open(tmp_path / "data")
    yield c
    c.close()


@pytest.mark.parametrize("key", [("anki21b", False), ("anki21", True), ("anki2", False)], ids=str)
def test_import_through_pipeline(packages, key, col, private_tmp):
    from flashcards import importing

    built = packages[key]
    g = built.guids
    result = importing.import_file(col, built.path, backup=False)
    assert (result.new, result.updated, result.unchanged, result.skipped) == (5, 0, 0, [])
    assert result.reviews_added == 9 and result.media_added == 1
    assert _counts(col) == (5, 8, 9)
    assert (col.media_dir / "a.png").read_bytes() == built.media["a.png"]
    assert any("missing.jpg" in w for w in result.warnings)
    assert leftovers(private_tmp) == []  # the extracted media were cleaned up

    basic = _card(col, g["basic"])
    note = col.note(basic["note_id"])
    assert (note.fields, sorted(note.tags)) == (['bonjour <img src="a.png">', "hello"], ["fr", "greet"])
    assert (basic["state"], basic["stability"], basic["difficulty"], basic["due_ms"]) == (
        CardState.REVIEW,
        12.5,
        5.25,
        (CRT + 100 * DAY) * MS,
    )
    assert basic["last_review_ms"] == (CRT + 90 * DAY) * MS
    back = _card(col, g["reversed"], 1)
    assert (back["state"], back["suspended"], back["flag"], back["due_ms"]) == (
        2,
        1,
        2,
        (CRT + 110 * DAY) * MS,
    )
    assert back["stability"] is not None and back["stability"] > 0  # replayed from its history with fsrs
    c1, c2 = _card(col, g["cloze"], 0), _card(col, g["cloze"], 1)
    assert (c1["state"], c2["state"], c2["flag"]) == (CardState.NEW, CardState.NEW, 3)
    assert c1["buried_until"] > 0 and c2["buried_until"] == 0  # buried by the user in Anki
    fwd = _card(col, g["reversed"], 0)
    assert (fwd["state"], fwd["step"], fwd["due_ms"]) == (CardState.LEARNING, 1, (CRT + 95 * DAY + 3600) * MS)
    v2 = _card(col, g["vocab"], 1)
    assert (v2["state"], v2["due_ms"]) == (CardState.RELEARNING, (CRT + 130 * DAY) * MS)
    assert v2["buried_until"] > 0
    v1 = _card(col, g["vocab"])  # was in a filtered deck: home deck, home due
    assert (v1["due_ms"], v1["stability"]) == ((CRT + 120 * DAY) * MS, 30.0)
    decks = {name: did for did, name in col.deck_names().items()}
    assert {"Lang", "Lang::French", "Misc"} <= set(decks)
    assert "Cram" not in decks
    assert v1["deck_id"] == decks["Misc"]
    opts = col.deck_options(decks["Misc"])
    assert (opts.new_per_day, opts.reviews_per_day, opts.learning_steps, opts.leech_action) == (
        7,
        77,
        [2.0, 15.0],
        "suspend",
    )
    assert (opts.desired_retention, opts.fsrs_parameters) == (0.85, FSRS_PARAMS_6)
    rows = col._sql(
        "SELECT r.time_ms, r.rating, r.kind, r.duration_ms, r.interval_s FROM review r JOIN note n"
        " ON n.guid = r.note_guid WHERE n.guid = ? ORDER BY r.id",
        (g["basic"],),
    ).fetchall()
    t0 = (CRT + 80 * DAY) * MS + 1
    assert rows == [
        (t0, 3, 0, 8000, 600),
        (t0 + 600_000, 3, 0, 60_000, DAY),
        ((CRT + 90 * DAY) * MS + 5, 4, 1, 4000, 10 * DAY),
    ]

    # Imported note types render with their own templates (carried as Anki template text).
    v1_card = col.render(v1["id"])
    assert "Haus" in v1_card.front and "house" in v1_card.back and "Das Haus" in v1_card.back
    cloze = col.render(c2["id"])  # c2: the second cloze
    assert "Paris" in cloze.front and "France" not in cloze.front and "France" in cloze.back

    # The same file again adds nothing.
    again = importing.import_file(col, built.path, backup=False)
    assert (again.new, again.updated, again.unchanged, again.reviews_added, again.media_added) == (
        0,
        0,
        5,
        0,
        0,
    )
    assert _counts(col) == (5, 8, 9)


def test_later_export_adds_only_new_reviews(tmp_path, col):
    from apkg_factory import export, review_in_anki

    from flashcards import importing

    built = make_package(tmp_path / "pkg", "anki21b")
    importing.import_file(col, built.path, backup=False)
    # The learner goes on studying in Anki, then exports again.
    review_in_anki(built, "basic", CRT + 101 * DAY)
    later = export(built.col_path, tmp_path / "later.apkg", "anki21b")
    result = importing.import_file(col, later, backup=False)
    assert (result.new, result.reviews_added) == (0, 1)
    assert _counts(col) == (5, 8, 10)
    basic = _card(col, built.guids["basic"])
    assert (basic["stability"], basic["difficulty"], basic["due_ms"]) == (40.0, 5.0, (CRT + 131 * DAY) * MS)


def test_local_reviews_newer_than_the_package_are_kept(tmp_path, col):
    from datetime import UTC, datetime

    from apkg_factory import export, review_in_anki

    from flashcards import importing

    built = make_package(tmp_path / "pkg", "anki21")
    importing.import_file(col, built.path, backup=False)
    basic = _card(col, built.guids["basic"])
    # Study the card here, after the package's last review of it...
    session = col.study(basic["deck_id"])
    now = datetime.fromtimestamp(CRT + 102 * DAY, UTC)
    session.answer(basic["id"], 3, now=now)
    local = _card(col, built.guids["basic"])
    assert local["last_review_ms"] == (CRT + 102 * DAY) * MS
    # ...then import a later Anki export whose review of the card is older than the local answer.
    review_in_anki(built, "basic", CRT + 101 * DAY)
    later = export(built.col_path, tmp_path / "later.apkg", "anki21")
    result = importing.import_file(col, later, backup=False)
    assert result.reviews_added == 1  # the history is merged...
    after = _card(col, built.guids["basic"])
    # ...but the local, newer progress is not overwritten: the card keeps its baseline (not the file's
    # memory state s=40, d=5) and its last answer is the local one; its state is the replay of the
    # merged log (the file's review at day 101, then the local one at day 102).
    assert after["baseline"] == local["baseline"]
    assert after["last_review_ms"] == local["last_review_ms"]
    assert (after["stability"], after["difficulty"]) != (40.0, 5.0)
    replayed = col.replayed_state(after["id"])
    assert (after["stability"], after["difficulty"], after["due_ms"]) == (
        replayed.stability,
        replayed.difficulty,
        replayed.due_ms,
    )


def test_colpkg_merges_without_wiping(packages, col):
    from flashcards import importing

    nid = col.add_note("Basic", ["mine", "kept"])
    result = importing.import_file(col, packages["anki21b", True].path, backup=False)
    assert result.new == 5
    assert col.note(nid).fields == ["mine", "kept"]
    assert _counts(col)[0] == 6


def test_cli_import(packages, tmp_path, capsys):
    from flashcards import cli
    from flashcards.collection import Collection

    data = tmp_path / "data"
    assert cli.main(["import", "--data-dir", str(data), str(packages["anki21b", False].path)]) == 0
    out = capsys.readouterr().out
    assert "5 new, 0 updated, 0 unchanged, 0 skipped, 9 reviews, 1 media files" in out
    assert "missing.jpg" in out

    bad = tmp_path / "bad.apkg"
    bad.write_bytes(b"PK\x03\x04 not really")
    assert cli.main(["import", "--data-dir", str(data), str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a zip file" in err and "Traceback" not in err
    with Collection.open(data) as c:
        assert _counts(c) == (5, 8, 9)  # nothing written by the refused file


def test_zstd_truncated_stream_with_stdlib_api(monkeypatch):
    monkeypatch.setattr(anki_zstd, "_open_zstandard", _hidden)
    # compression.zstd notices a stream cut short (zstandard's reader just stops early).
    if not _has_stdlib_zstd():
        pytest.importorskip("backports.zstd")
    data = zstd(os.urandom(5000))
    with pytest.raises(anki_zstd.CorruptData):
        anki_zstd.copy_decompressed(io.BytesIO(data[:-4]), io.BytesIO(), 10_000)


def test_newest_layout_with_each_decompressor(packages, zstd_backend):
    draft = apkg.parse(packages["anki21b", False].path)
    draft.cleanup()
    assert len(draft.notes) == 5 and [m.name for m in draft.media] == ["a.png"]


def test_our_own_export_round_trips_without_duplicate_reviews(packages, col, tmp_path):
    from datetime import UTC, datetime

    from flashcards import exporting, importing

    built = packages["anki21b", False]
    importing.import_file(col, built.path, backup=False)
    basic = _card(col, built.guids["basic"])
    col.study(basic["deck_id"]).answer(basic["id"], 3, now=datetime.fromtimestamp(CRT + 102 * DAY, UTC))
    assert _counts(col) == (5, 8, 10)
    exporting.export(col, tmp_path / "ours.apkg")
    again = importing.import_file(col, tmp_path / "ours.apkg", backup=False)
    assert (again.new, again.reviews_added) == (0, 0)  # the local answer is not added a second time
    assert _counts(col) == (5, 8, 10)


# --------------------------------------------------------------------------- hostile column values

HUGE = 2**62


@pytest.mark.parametrize(
    "sql, match",
    [
        ("UPDATE cards SET due = 'soon'", "malformed column"),
        ("UPDATE cards SET ord = -1", "malformed column"),
        ("UPDATE cards SET flags = 1.5", "malformed column"),
        ("UPDATE cards SET queue = X'00'", "malformed column"),
        # Columns a plain new card does not use are checked all the same.
        ("UPDATE cards SET left = 'x'", "malformed column"),
        ("UPDATE cards SET odue = 0.5", "malformed column"),
        ("UPDATE cards SET odid = 'x'", "malformed column"),
        ("UPDATE col SET crt = 'yesterday'", "creation time"),
        (f"UPDATE col SET crt = {HUGE}", "creation time"),
        ("UPDATE notes SET flds = X'00ff'", "not text"),
        ("UPDATE col SET decks = '[1, 2]'", "damaged decks"),
        ('UPDATE col SET models = \'{"1": {"name": "x"}}\'', "damaged note types"),
        ("UPDATE col SET dconf = 'not json'", "damaged deck options"),
        ("DROP TABLE revlog", "no revlog table"),
    ],
)
def test_hostile_values_refused(packages, tmp_path, private_tmp, sql, match):
    pkg = edit_collection(packages["anki21", False].path, tmp_path / "h.apkg", lambda c: c.execute(sql))
    refused(pkg, private_tmp, match)


@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE cards SET due = {HUGE}",
        f"UPDATE cards SET due = -{HUGE}",
        f"UPDATE cards SET left = {HUGE}",
        f"UPDATE revlog SET ivl = {HUGE}",
        f"UPDATE revlog SET time = {HUGE}",
        f"UPDATE revlog SET id = id + {HUGE}",
        "UPDATE revlog SET ease = 'good'",
        "UPDATE revlog SET type = 99",
        'UPDATE cards SET data = \'{"s": Infinity, "d": 5, "lrt": 1}\'',
        f'UPDATE cards SET data = \'{{"s": 3.0, "d": 5, "lrt": {HUGE}}}\'',
        "UPDATE cards SET data = '[1, 2]'",
        "UPDATE notes SET tags = 7",
        "UPDATE notes SET mid = 'x'",
        "UPDATE notes SET guid = 'dup'",
    ],
)
def test_odd_values_import_without_harm(packages, tmp_path, col, sql):
    """Values a damaged or hostile file may hold: the import either keeps them within bounds or
    leaves them out; it never writes out-of-range numbers or fails with a traceback."""
    from flashcards import importing

    pkg = edit_collection(packages["anki21", False].path, tmp_path / "odd.apkg", lambda c: c.execute(sql))
    draft = apkg.parse(pkg)
    draft.cleanup()
    for note in draft.notes:
        for card in note.cards or []:
            assert card.due_ms is None or 0 <= card.due_ms <= apkg.MAX_MS
            assert card.last_review_ms is None or 0 <= card.last_review_ms <= apkg.MAX_MS
            assert card.position is None or 0 <= card.position <= apkg.MAX_POSITION
            assert card.stability is None or 0 < card.stability < 1e6
            for r in card.reviews:
                assert 0 < r.time_ms <= apkg.MAX_MS and 0 <= r.duration_ms <= 60_000
                assert r.interval_s is None or abs(r.interval_s) <= apkg.MAX_INTERVAL_S
    result = importing.import_file(col, pkg, backup=False)
    assert result.new + len(result.skipped) == 5


# --------------------------------------------------------------------------- fuzz: damaged collections

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@pytest.fixture(scope="module")
def legacy_bytes(packages, tmp_path_factory):
    # Paths, not the bytes themselves: hypothesis may repr the test's arguments.
    src = packages["anki21", False].path
    data = tmp_path_factory.mktemp("fuzz") / "collection.anki21"
    data.write_bytes(zipfile.ZipFile(src).read("collection.anki21"))
    return src, data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    flips=st.lists(
        st.tuples(st.integers(min_value=0), st.integers(min_value=1, max_value=255)), min_size=1, max_size=40
    )
)
def test_damaged_sqlite_pages_fail_cleanly(legacy_bytes, tmp_path, flips):
    """Random byte damage inside the collection (under a valid zip CRC): a draft or ImportFailed,
    never another exception."""
    src, data = legacy_bytes
    damaged = bytearray(data.read_bytes())
    for pos, x in flips:
        damaged[pos % len(damaged)] ^= x
    pkg = rezip(src, tmp_path / "fuzz.apkg", {"collection.anki21": bytes(damaged)})
    try:
        draft = apkg.parse(pkg)
    except ImportFailed as e:
        assert "\n" not in str(e)
    else:
        draft.cleanup()


def test_notetype_names_made_unique(packages, tmp_path):
    # Schema 11 does not stop two note types sharing a name; the draft refers to note types by name.
    def edit(conn):
        models = json.loads(conn.execute("SELECT models FROM col").fetchone()[0])
        for m in models.values():
            if m["name"] == "Vocab":
                m["name"] = "basic"
        conn.execute("UPDATE col SET models = ?", (json.dumps(models),))

    pkg = edit_collection(packages["anki21", False].path, tmp_path / "names.apkg", edit)
    draft = apkg.parse(pkg)
    draft.cleanup()
    assert sorted(nt.name for nt in draft.notetypes) == [
        "Basic",
        "Basic (and reversed card)",
        "Cloze",
        "basic (2)",
    ]
    assert by_guid(draft)[packages["anki21", False].guids["vocab"]].notetype == "basic (2)"
    assert draft.notetype("basic (2)").fields == ("Word", "Meaning", "Example")


def test_anki20_scheduler_v1(packages, tmp_path):
    """Anki 2.0's scheduler: three-button learning answers, relearning as a review card in the
    learning queue. Answers are mapped to four buttons; the card is relearning."""
    g = packages["anki2", False].guids

    def edit(conn):
        conf = json.loads(conn.execute("SELECT conf FROM col").fetchone()[0])
        conf["schedVer"] = 1
        conn.execute("UPDATE col SET conf = ?", (json.dumps(conf),))
        nid = conn.execute("SELECT id FROM notes WHERE guid = ?", (g["vocab"],)).fetchone()[0]
        conn.execute(
            "UPDATE cards SET type = 2, queue = 1, due = ?, left = 1 WHERE nid = ? AND ord = 1",
            (CRT + 3600, nid),
        )

    src = packages["anki2", False].path
    with zipfile.ZipFile(src) as z:
        data = z.read("collection.anki2")
    db = tmp_path / "v1.anki2"
    db.write_bytes(data)
    conn = sqlite3.connect(db)
    edit(conn)
    conn.commit()
    conn.close()
    pkg = rezip(src, tmp_path / "v1.apkg", {"collection.anki2": db.read_bytes()})
    draft = apkg.parse(pkg)
    draft.cleanup()
    notes = by_guid(draft)
    basic = notes[g["basic"]].cards[0]
    assert [(r.rating, r.kind) for r in basic.reviews] == [
        (4, ReviewKind.LEARN),  # ease 3 of 3 buttons: Easy
        (4, ReviewKind.LEARN),
        (4, ReviewKind.REVIEW),  # review answers always had four buttons
    ]
    v2 = notes[g["vocab"]].cards[1]
    assert (v2.state, v2.due_ms) == (CardState.RELEARNING, (CRT + 3600) * MS)
    assert [(r.rating, r.kind) for r in v2.reviews] == [(1, ReviewKind.RELEARN)]


def test_media_name_taken_by_another_file(packages, tmp_path, col):
    """Another package's a.png with different bytes: kept beside ours, its notes point at it."""
    from flashcards import importing

    src = packages["anki21", False].path
    importing.import_file(col, src, backup=False)
    other = edit_collection(
        src,
        tmp_path / "other.apkg",
        lambda c: c.execute("UPDATE notes SET guid = guid || '-other'"),
        extra={"0": b"other"},
    )
    result = importing.import_file(col, other, backup=False)
    assert (result.new, result.media_added) == (5, 1)
    (renamed,) = [p for p in col.media_dir.iterdir() if p.name != "a.png"]
    assert (
        renamed.read_bytes() == b"other"
        and (col.media_dir / "a.png").read_bytes() == packages["anki21", False].media["a.png"]
    )
    guid = packages["anki21", False].guids["basic"] + "-other"
    (fields,) = col._sql("SELECT fields FROM note WHERE guid = ?", (guid,)).fetchone()
    assert json.loads(fields)[0] == f'bonjour <img src="{renamed.name}">'


_html_bits = st.sampled_from(
    [
        "<img src=",
        "<audio src='",
        '"',
        "'",
        ">",
        "[sound:",
        "]",
        "a.png",
        "a/b.png",
        "&amp;",
        "%20",
        " ",
        "data=",
        "<object ",
    ]
)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.one_of(_html_bits, st.text(max_size=5)), max_size=30))
def test_reference_rewriting_takes_any_text(parts):
    from flashcards.drafts import Draft, DraftMedia, DraftNote

    text = "".join(parts)
    draft = Draft(path="x", notes=[DraftNote(guid="g", notetype="Basic", fields=[text, "b"])])
    draft.media = [DraftMedia(name="a_b.png", data=b"")]
    apkg._rewrite_references(draft, {"a/b.png": "a_b.png"})
    apkg._warn_missing_media(draft)
    assert draft.notes[0].fields[1] == "b"
    if text == '<img src="a/b.png">':
        assert draft.notes[0].fields[0] == '<img src="a_b.png">'


def test_reference_rewriting_examples():
    from flashcards.drafts import Draft, DraftNote

    fields = [
        '<IMG SRC="a/b.png" alt=x>',
        "<audio src=a/b.png>",
        "[sound:a/b.png]",
        '<img src="a%2Fb.png">',
        "a/b.png",
    ]
    draft = Draft(path="x", notes=[DraftNote(guid="g", notetype="Basic", fields=list(fields))])
    apkg._rewrite_references(draft, {"a/b.png": "a_b.png"})
    assert draft.notes[0].fields == [
        '<IMG SRC="a_b.png" alt=x>',
        '<audio src="a_b.png">',
        "[sound:a_b.png]",
        '<img src="a_b.png">',
        "a/b.png",  # plain text is not a reference
    ]


def test_missing_media_found_in_fields_without_html():
    from flashcards.drafts import Draft, DraftMedia, DraftNote

    draft = Draft(path="x", notes=[
        DraftNote(guid="g1", notetype="Basic", fields=["[sound:here.mp3] [SOUND:gone.mp3]", "plain"]),
        DraftNote(guid="g2", notetype="Basic", fields=["<b>bold</b>", "<IMG SRC='lost.png'>"]),
    ])
    draft.media = [DraftMedia(name="here.mp3", data=b"")]
    apkg._warn_missing_media(draft)
    assert len(draft.warnings) == 1
    assert "2 media file(s)" in draft.warnings[0]
    assert "gone.mp3" in draft.warnings[0] and "lost.png" in draft.warnings[0]


def test_a_damaged_schema_with_newlines_is_refused_in_one_line(packages, tmp_path, private_tmp):
    def damage(c):
        c.execute("PRAGMA writable_schema = ON")
        # An unterminated quoted name running over a line: SQLite's message quotes it, newline and all.
        c.execute("UPDATE sqlite_master SET sql = 'CREATE TABLE col (\"l' || char(10) || 'x' WHERE name = 'col'")

    pkg = edit_collection(packages["anki21", False].path, tmp_path / "d.apkg", damage)
    refused(pkg, private_tmp, "not an SQLite database|damaged")
