""".apkg export: the schema-11 collection we write, and what real Anki (the ``anki`` package) imports."""

from __future__ import annotations

import json
import os
import sqlite3
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest

from flashcards.drafts import (
    CardState,
    Draft,
    DraftCard,
    DraftDeck,
    DraftMedia,
    DraftNote,
    DraftNotetype,
    DraftReview,
    DraftTemplate,
    ReviewKind,
    review_id,
)
from flashcards.exporters import apkg
from flashcards.timeutil import study_day

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
DAY = 86_400_000
PARAMS = [0.2172, 1.1771, 3.2602, 16.1507, 7.0114, 0.57, 2.0966, 0.0069, 1.5261, 0.112, 1.0178, 1.849,
          0.1133, 0.3127, 2.2934, 0.2191, 3.0004, 0.7536, 0.3332, 0.1437, 0.2]
VOCAB = DraftNotetype(
    "Vocab", ("Word", "Meaning", "Audio"),
    (DraftTemplate("Recognise", "{{Word}}", "{{FrontSide}}<hr id=answer>{{Meaning}} {{Audio}}"),),
    css=".card { color: navy; }",
)


def reviews_for_card1() -> list[DraftReview]:
    t1, t2, t3 = NOW_MS - 10 * DAY, NOW_MS - 10 * DAY + 600_000, NOW_MS - 7 * DAY
    return [
        DraftReview(review_id(t1, "a"), t1, 3, ReviewKind.LEARN, 5_000, 600),
        DraftReview(review_id(t2, "b"), t2, 3, ReviewKind.LEARN, 4_000, 3 * 86_400),
        DraftReview(review_id(t3, "c"), t3, 1, ReviewKind.REVIEW, 70_000, 600),
        DraftReview(review_id(t3 + 700_000, "d"), t3 + 700_000, 3, ReviewKind.RELEARN, 2_000, 9 * 86_400),
    ]


def sample_draft(scheduling: bool = True) -> Draft:
    d = Draft(path="collection")
    d.decks = [
        DraftDeck("Lang", {"desired_retention": 0.85, "fsrs_parameters": PARAMS, "new_per_day": 7,
                           "learning_steps": [2.0, 15.0], "leech_action": "suspend"}),
        DraftDeck("Lang::French", {}),
    ]
    d.notetypes = [VOCAB]
    lrn_t = NOW_MS - 60_000
    cards1 = [DraftCard(0, state=CardState.REVIEW, due_ms=NOW_MS + 2 * DAY, stability=9.5, difficulty=5.25,
                        last_review_ms=NOW_MS - 7 * DAY + 700_000, reviews=reviews_for_card1())]
    cards2 = [DraftCard(0, state=CardState.LEARNING, step=1, due_ms=NOW_MS + 540_000, stability=1.2, difficulty=6.0,
                        last_review_ms=lrn_t,
                        reviews=[DraftReview(review_id(lrn_t, "e"), lrn_t, 3, ReviewKind.LEARN, 3_000, 600)]),
              DraftCard(1, suspended=True, flag=2)]
    d.notes = [
        DraftNote("guid1", "Basic", ['chat <img src="cat.png">', "cat"], ["fr", "noun"], "Lang::French", "",
                  cards1 if scheduling else None),
        DraftNote("guid2", "Basic (and reversed card)", ["chien", "dog"], [], "Lang::French", "",
                  cards2 if scheduling else None),
        DraftNote("guid3", "Cloze", ["{{c1::Paris}} is in {{c2::France}}", ""], ["geo"], "Lang", "", None),
        DraftNote("guid4", "Vocab", ["猫", "cat", "[sound:neko.mp3]"], ["jp"], "Lang", "dictionary", None),
    ]
    d.media = [DraftMedia("cat.png", data=b"\x89PNG fake image"), DraftMedia("neko.mp3", data=b"ID3 fake sound")]
    return d


def days_from_today(d: date) -> int:
    """How many study days from the machine's real today (where Anki's import puts "today") to ``d``."""
    return (d - study_day(datetime.now(UTC))).days


# --------------------------------------------------------------------------- the package itself


def test_package_layout_and_collection_rows(tmp_path):
    out = tmp_path / "deck.apkg"
    seen = []
    draft = sample_draft()
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "cat.png").write_bytes(b"\x89PNG fake image")
    draft.media[0] = DraftMedia("cat.png", path=tmp_path / "media" / "cat.png")  # read from a file
    assert apkg.write(draft, out, progress=lambda a, b: seen.append((a, b)), now_ms=NOW_MS) == 4
    assert seen == [(4, 4)]
    with zipfile.ZipFile(out) as z:
        assert z.namelist() == ["collection.anki21", "0", "1", "media"]
        assert json.loads(z.read("media")) == {"0": "cat.png", "1": "neko.mp3"}
        assert z.read("0") == b"\x89PNG fake image"
        z.extract("collection.anki21", tmp_path)
    db = sqlite3.connect(tmp_path / "collection.anki21")
    try:
        crt, ver, conf, models, decks, dconf, tags = db.execute(
            "SELECT crt, ver, conf, models, decks, dconf, tags FROM col").fetchone()
        assert ver == 11
        # The collection starts on the study day of the first review (4:00 UTC here).
        assert crt == int(datetime(2026, 2, 28, 4, 0, tzinfo=UTC).timestamp())
        assert json.loads(conf)["rollover"] == 4
        names = {m["name"]: m for m in json.loads(models).values()}
        assert sorted(names) == ["Basic", "Basic (and reversed card)", "Cloze", "Vocab"]
        assert names["Cloze"]["type"] == 1 and names["Vocab"]["type"] == 0
        assert names["Vocab"]["css"] == ".card { color: navy; }"
        assert [f["name"] for f in names["Vocab"]["flds"]] == ["Word", "Meaning", "Audio"]
        assert [(t["name"], t["qfmt"]) for t in names["Basic (and reversed card)"]["tmpls"]] == [
            ("Card 1", "{{Front}}"), ("Card 2", "{{Back}}")]
        deck_rows = {d["name"]: d for d in json.loads(decks).values()}
        assert sorted(deck_rows) == ["Default", "Lang", "Lang::French"]
        assert deck_rows["Default"]["id"] == 1
        confs = {c["id"]: c for c in json.loads(dconf).values()}
        lang_conf = confs[deck_rows["Lang"]["conf"]]
        assert lang_conf["name"] == "flashcards: Lang"
        assert (lang_conf["desiredRetention"], lang_conf["fsrsParams6"], lang_conf["new"]["perDay"],
                lang_conf["new"]["delays"], lang_conf["lapse"]["leechAction"]) == (0.85, PARAMS, 7, [2.0, 15.0], 0)
        assert deck_rows["Lang::French"]["conf"] != 1 and confs[deck_rows["Lang::French"]["conf"]]["fsrsParams6"] == []
        assert json.loads(tags) == {"fr": 0, "geo": 0, "jp": 0, "noun": 0}

        notes = db.execute("SELECT guid, tags, flds, sfld, csum FROM notes ORDER BY id").fetchall()
        assert notes == [
            ("guid1", " fr noun ", 'chat <img src="cat.png">\x1fcat', "chat", apkg.field_checksum("chat")),
            ("guid2", "", "chien\x1fdog", "chien", apkg.field_checksum("chien")),
            ("guid3", " geo ", "{{c1::Paris}} is in {{c2::France}}\x1f", "{{c1::Paris}} is in {{c2::France}}",
             apkg.field_checksum("{{c1::Paris}} is in {{c2::France}}")),
            ("guid4", " jp ", "猫\x1fcat\x1f[sound:neko.mp3]", "猫", apkg.field_checksum("猫")),
        ]
        cards = db.execute("SELECT n.guid, c.ord, c.type, c.queue, c.due, c.ivl, c.factor, c.reps, c.lapses, "
                           "c.left, c.flags, c.data FROM cards c JOIN notes n ON n.id = c.nid "
                           "ORDER BY c.id").fetchall()
        today = 10  # 10 March is study day 10 after 28 February
        assert cards == [
            ("guid1", 0, 2, 2, today + 2, 9, 2500, 4, 1, 0, 0,
             json.dumps({"s": 9.5, "d": 5.25, "dr": 0.9, "decay": 0.1542, "lrt": (NOW_MS - 7 * DAY + 700_000) // 1000})),
            ("guid2", 0, 1, 1, (NOW_MS + 540_000) // 1000, 0, 0, 1, 0, 1, 0,
             json.dumps({"s": 1.2, "d": 6.0, "dr": 0.9, "decay": 0.1542, "lrt": (NOW_MS - 60_000) // 1000})),
            ("guid2", 1, 0, -1, 2, 0, 0, 0, 0, 0, 2, "{}"),
            ("guid3", 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, "{}"),
            ("guid3", 1, 0, 0, 3, 0, 0, 0, 0, 0, 0, "{}"),
            ("guid4", 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, "{}"),
        ]
        revlog = db.execute("SELECT id, ease, ivl, lastIvl, factor, time, type FROM revlog ORDER BY id").fetchall()
        t3 = NOW_MS - 7 * DAY
        assert revlog == [
            (NOW_MS - 10 * DAY, 3, -600, 0, 0, 5_000, 0),
            (NOW_MS - 10 * DAY + 600_000, 3, 3, -600, 0, 4_000, 0),
            (t3, 1, -600, 3, 2500, 60_000, 1),
            (t3 + 700_000, 3, 9, -600, 2500, 2_000, 2),
            (NOW_MS - 60_000, 3, -600, 0, 0, 3_000, 0),
        ]
    finally:
        db.close()


def test_day_learning_and_buried_and_fsrs6_decay(tmp_path):
    d = Draft(path="x")
    d.decks = [DraftDeck("D", {"fsrs_parameters": PARAMS})]
    d.notes = [DraftNote("g", "Basic (and reversed card)", ["a", "b"], [], "D", "", [
        DraftCard(0, state=CardState.RELEARNING, step=0, due_ms=NOW_MS + DAY, stability=3.3, difficulty=7.0,
                  last_review_ms=NOW_MS),
        DraftCard(1, state=CardState.REVIEW, due_ms=NOW_MS + 5 * DAY, stability=6.0, difficulty=4.0, buried=True),
    ])]
    out = tmp_path / "x.apkg"
    apkg.write(d, out, now_ms=NOW_MS)
    with zipfile.ZipFile(out) as z:
        z.extract("collection.anki21", tmp_path)
    db = sqlite3.connect(tmp_path / "collection.anki21")
    rows = db.execute("SELECT type, queue, due, ivl, left, data FROM cards ORDER BY ord").fetchall()
    db.close()
    assert rows == [
        (3, 3, 1, 3, 1, json.dumps({"s": 3.3, "d": 7.0, "dr": 0.9, "decay": 0.2, "lrt": NOW_MS // 1000})),
        (2, -2, 5, 6, 0, json.dumps({"s": 6.0, "d": 4.0, "dr": 0.9, "decay": 0.2})),
    ]


def test_failed_export_leaves_nothing(tmp_path):
    out = tmp_path / "deck.apkg"
    out.write_bytes(b"previous export")
    d = sample_draft()
    d.media.append(DraftMedia("gone.png", path=tmp_path / "missing.png"))
    with pytest.raises(FileNotFoundError):
        apkg.write(d, out, now_ms=NOW_MS)
    assert out.read_bytes() == b"previous export"
    assert os.listdir(tmp_path) == ["deck.apkg"]


# --------------------------------------------------------------------------- real Anki imports it


def anki_import(col, path, scheduling=True):
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    request = ImportAnkiPackageRequest(
        package_path=str(path),
        options=ImportAnkiPackageOptions(with_scheduling=scheduling, with_deck_configs=scheduling))
    return col.import_anki_package(request).log


def anki_state(col):
    notes = {}
    for nid in col.find_notes(""):
        n = col.get_note(nid)
        cards = []
        for c in sorted(n.cards(), key=lambda c: c.ord):
            ms = c.memory_state
            cards.append((c.ord, col.decks.name(c.did), c.type, c.queue, c.ivl, c.reps, c.lapses,
                          (round(ms.stability, 4), round(ms.difficulty, 4)) if ms else None))
        notes[n.guid] = (n.note_type()["name"], list(n.fields), sorted(n.tags), cards)
    return notes


@pytest.fixture
def anki_col(tmp_path):
    collection = pytest.importorskip("anki.collection")
    (tmp_path / "anki").mkdir()
    col = collection.Collection(str(tmp_path / "anki" / "collection.anki2"))
    yield col
    col.close()


def test_anki_imports_notes_cards_reviews_media_and_options(tmp_path, anki_col):
    out = tmp_path / "deck.apkg"
    apkg.write(sample_draft(), out, now_ms=NOW_MS)
    log = anki_import(anki_col, out)
    assert len(log.new) == 4
    state = anki_state(anki_col)
    # Anki renames our note types when it has its own of the same name ("Basic+").
    assert {g: (nt.rstrip("+"), f, t) for g, (nt, f, t, _c) in state.items()} == {
        "guid1": ("Basic", ['chat <img src="cat.png">', "cat"], ["fr", "noun"]),
        "guid2": ("Basic (and reversed card)", ["chien", "dog"], []),
        "guid3": ("Cloze", ["{{c1::Paris}} is in {{c2::France}}", ""], ["geo"]),
        "guid4": ("Vocab", ["猫", "cat", "[sound:neko.mp3]"], ["jp"]),
    }
    assert state["guid1"][3] == [(0, "Lang::French", 2, 2, 9, 4, 1, (9.5, 5.25))]
    assert state["guid2"][3] == [(0, "Lang::French", 1, 1, 0, 1, 0, (1.2, 6.0)),
                                 (1, "Lang::French", 0, -1, 0, 0, 0, None)]
    assert [c[:4] for c in state["guid3"][3]] == [(0, "Lang", 0, 0), (1, "Lang", 0, 0)]
    assert state["guid4"][3] == [(0, "Lang", 0, 0, 0, 0, 0, None)]
    # The review card is due on 12 March, wherever Anki's "today" is.
    (card1,) = anki_state_cards(anki_col, "guid1")
    assert card1.due - anki_col.sched.today == days_from_today(date(2026, 3, 12))
    (card2, card2b) = anki_state_cards(anki_col, "guid2")
    assert card2.due == (NOW_MS + 540_000) // 1000 and card2.left == 1 and card2b.flags == 2
    assert anki_col.db.all("SELECT id, ease, ivl, lastIvl, time, type FROM revlog ORDER BY id") == [
        [NOW_MS - 10 * DAY, 3, -600, 0, 5_000, 0],
        [NOW_MS - 10 * DAY + 600_000, 3, 3, -600, 4_000, 0],
        [NOW_MS - 7 * DAY, 1, -600, 3, 60_000, 1],
        [NOW_MS - 7 * DAY + 700_000, 3, 9, -600, 2_000, 2],
        [NOW_MS - 60_000, 3, -600, 0, 3_000, 0],
    ]
    media_dir = anki_col.media.dir()
    assert sorted(os.listdir(media_dir)) == ["cat.png", "neko.mp3"]
    with open(os.path.join(media_dir, "neko.mp3"), "rb") as f:
        assert f.read() == b"ID3 fake sound"
    decks = {d.name: d.id for d in anki_col.decks.all_names_and_ids()}
    assert sorted(decks) == ["Default", "Lang", "Lang::French"]
    conf = anki_col.decks.config_dict_for_deck_id(decks["Lang"])
    assert (conf["desiredRetention"], conf["fsrsParams6"], conf["new"]["perDay"], conf["new"]["delays"]) == (
        0.85, PARAMS, 7, [2.0, 15.0])
    assert anki_col.decks.config_dict_for_deck_id(decks["Default"])["id"] == 1
    vocab = anki_col.models.by_name("Vocab")
    assert vocab["css"] == ".card { color: navy; }"
    assert vocab["tmpls"][0]["qfmt"] == "{{Word}}"
    # Anki's "Check Database" finds nothing to repair in what we wrote.
    assert anki_col.fix_integrity() == ("Database rebuilt and optimized.", True)
    assert anki_col.card_count() == 6


def anki_state_cards(col, guid):
    (nid,) = [n for n in col.find_notes("") if col.get_note(n).guid == guid]
    return sorted(col.get_note(nid).cards(), key=lambda c: c.ord)


def test_anki_imports_without_scheduling(tmp_path, anki_col):
    out = tmp_path / "deck.apkg"
    apkg.write(sample_draft(scheduling=False), out, now_ms=NOW_MS)
    with zipfile.ZipFile(out) as z:
        z.extract("collection.anki21", tmp_path)
    db = sqlite3.connect(tmp_path / "collection.anki21")
    assert db.execute("SELECT count(*) FROM revlog").fetchone() == (0,)
    assert db.execute("SELECT DISTINCT type, queue FROM cards").fetchall() == [(0, 0)]
    db.close()
    anki_import(anki_col, out, scheduling=False)
    assert anki_col.card_count() == 6  # two Basic-and-reversed cards, two cloze cards
    assert anki_col.db.scalar("SELECT count(*) FROM revlog") == 0
    assert anki_col.db.list("SELECT DISTINCT queue FROM cards") == [0]


def test_anki_reads_a_later_export_as_updates(tmp_path, anki_col):
    out = tmp_path / "deck.apkg"
    apkg.write(sample_draft(), out, now_ms=NOW_MS)
    anki_import(anki_col, out)
    d = sample_draft()
    d.notes[3].fields[1] = "cat (animal)"
    apkg.write(d, out, now_ms=NOW_MS + DAY)
    log = anki_import(anki_col, out)
    # Anki updates every note whose package copy is newer (by modification time): all of them here.
    assert len(log.new) == 0
    assert ["猫", "cat (animal)", "[sound:neko.mp3]"] in [list(n.fields) for n in log.updated]
    assert anki_col.note_count() == 4
    assert anki_state(anki_col)["guid4"][1] == ["猫", "cat (animal)", "[sound:neko.mp3]"]
    assert sorted(m["name"] for m in anki_col.models.all()).count("Vocab") == 1
    assert anki_col.db.scalar("SELECT count(*) FROM revlog") == 5


def test_day_numbers_follow_the_local_study_day(tmp_path, set_tz):
    set_tz("America/New_York")
    d = Draft(path="x")
    # 02:00 UTC on 12 March is 22:00 on 11 March in New York: still the study day of 11 March.
    due = int(datetime(2026, 3, 12, 2, 0, tzinfo=UTC).timestamp() * 1000)
    d.notes = [DraftNote("g", "Basic", ["a", "b"], [], "D", "", [
        DraftCard(0, state=CardState.REVIEW, due_ms=due, stability=5.0, difficulty=5.0,
                  last_review_ms=NOW_MS - 3 * DAY)])]
    out = tmp_path / "x.apkg"
    apkg.write(d, out, now_ms=NOW_MS)
    with zipfile.ZipFile(out) as z:
        z.extract("collection.anki21", tmp_path)
    db = sqlite3.connect(tmp_path / "collection.anki21")
    crt, conf = db.execute("SELECT crt, conf FROM col").fetchone()
    (due_day, ivl) = db.execute("SELECT due, ivl FROM cards").fetchone()
    db.close()
    # Created on the study day of the last review (7 March), at 4:00 New York time (EST, UTC-5).
    assert crt == int(datetime(2026, 3, 7, 9, 0, tzinfo=UTC).timestamp())
    assert json.loads(conf)["creationOffset"] == 300
    assert (due_day, ivl) == ((date(2026, 3, 11) - date(2026, 3, 7)).days, 4)
    assert timedelta(days=due_day) == date(2026, 3, 11) - date(2026, 3, 7)


# --------------------------------------------------------------------------- end to end: flashcards export


def _study(data_dir, deck: str, answers: int):
    """Answer ``answers`` cards of ``deck`` with Good at the tests' fixed time; returns their card ids."""
    from flashcards.collection import Collection

    done = []
    with Collection.open(data_dir) as c:
        session = c.study(c.deck_id(deck))
        for i in range(answers):
            card = session.next_card(NOW + timedelta(seconds=i))
            session.answer(card.card_id, 3, NOW + timedelta(seconds=i), duration_ms=4000)
            done.append(card.card_id)
        states = {cid: c.card_columns(cid) for cid in done}
    return states


def test_cli_export_apkg_deck_with_history_and_without(tmp_path, anki_col, capsys):
    from flashcards import cli

    data = tmp_path / "data"
    src = tmp_path / "in.tsv"
    src.write_text("#deck column:1\nLang::French\tchat\tcat\nLang::French\tchien\tdog\nLang\tun\tone\n"
                   "Other\tx\ty\n", encoding="utf-8")
    assert cli.main(["import", "--data-dir", str(data), str(src)]) == 0
    states = _study(data, "Lang", 2)
    out = tmp_path / "lang.apkg"
    assert cli.main(["export", "--data-dir", str(data), "--deck", "Lang", "-o", str(out)]) == 0
    assert f"exported 3 notes to {out}" in capsys.readouterr().out

    anki_import(anki_col, out)
    assert anki_col.note_count() == 3
    assert sorted(d.name for d in anki_col.decks.all_names_and_ids()) == ["Default", "Lang", "Lang::French"]
    assert anki_col.db.scalar("SELECT count(*) FROM revlog") == 2
    assert anki_col.db.list("SELECT ease FROM revlog") == [3, 3]
    studied = [c for c in anki_col.find_cards("") if anki_col.get_card(c).reps]
    assert len(studied) == 2
    ours = sorted((s["stability"], s["difficulty"]) for s in states.values())
    theirs = sorted((anki_col.get_card(c).memory_state.stability, anki_col.get_card(c).memory_state.difficulty)
                    for c in studied)
    # Anki keeps the memory state as 32-bit floats, difficulty to 3 decimals.
    assert [pytest.approx(t, abs=1e-3) for t in theirs] == ours

    bare = tmp_path / "bare.apkg"
    assert cli.main(["export", "--data-dir", str(data), "--no-scheduling", "-o", str(bare)]) == 0
    with zipfile.ZipFile(bare) as z:
        z.extract("collection.anki21", tmp_path)
    db = sqlite3.connect(tmp_path / "collection.anki21")
    assert db.execute("SELECT count(*) FROM notes").fetchone() == (4,)
    assert db.execute("SELECT count(*) FROM revlog").fetchone() == (0,)
    assert db.execute("SELECT DISTINCT type FROM cards").fetchall() == [(0,)]
    db.close()


def test_cli_export_unknown_deck_and_bad_folder(tmp_path, capsys):
    from flashcards import cli

    data = tmp_path / "data"
    assert cli.main(["export", "--data-dir", str(data), "--deck", "Nope", "-o", str(tmp_path / "x.apkg")]) == 1
    assert "Nope" in capsys.readouterr().err
    assert cli.main(["export", "--data-dir", str(data), "-o", str(tmp_path / "no" / "x.apkg")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "x.apkg").exists()


def test_note_type_missing_from_the_draft_is_refused(tmp_path):
    from flashcards.errors import ExportFailed

    d = Draft(path="x")
    d.notes = [DraftNote("g", "Mystery", ["a"], [], "D", "")]
    out = tmp_path / "x.apkg"
    with pytest.raises(ExportFailed) as e:
        apkg.write(d, out, now_ms=NOW_MS)
    assert str(e.value) == f"{out}: note g uses note type 'Mystery', which the export does not include"
    assert os.listdir(tmp_path) == []


def test_our_own_apkg_import_reads_the_export_back(tmp_path):
    from flashcards import importing

    out = tmp_path / "deck.apkg"
    src = sample_draft()
    apkg.write(src, out, now_ms=NOW_MS)
    back = importing.parse(out)
    try:
        got = {n.guid: (n.notetype, n.fields, sorted(n.tags), n.deck) for n in back.notes}
        assert got == {n.guid: (n.notetype, n.fields, sorted(n.tags), n.deck) for n in src.notes}
        cards = {(n.guid, c.ord): c for n in back.notes for c in n.cards or []}
        c1 = cards["guid1", 0]
        assert (c1.state, c1.stability, c1.difficulty, len(c1.reviews)) == (CardState.REVIEW, 9.5, 5.25, 4)
        assert [r.time_ms for r in c1.reviews] == [r.time_ms for r in reviews_for_card1()]
        assert [(r.rating, r.kind) for r in c1.reviews] == [(r.rating, r.kind) for r in reviews_for_card1()]
        assert study_day(datetime.fromtimestamp(c1.due_ms / 1000, UTC)) == date(2026, 3, 12)
        assert cards["guid2", 1].suspended and cards["guid2", 1].flag == 2
        assert sorted(m.name for m in back.media) == ["cat.png", "neko.mp3"]
        assert [nt.css for nt in back.notetypes if nt.name == "Vocab"] == [".card { color: navy; }"]
    finally:
        if callable(back.cleanup):
            back.cleanup()
