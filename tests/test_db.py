"""The store: pragmas, migrations, schema-version refusal, the append-only log, two processes."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from datetime import timedelta

import peewee
import pytest
from core_helpers import NOW, add_basic, card_ids, run_cli, stored_state

from flashcards import db as dbmod
from flashcards.collection import Collection
from flashcards.drafts import review_id, review_id_time_ms
from flashcards.errors import SchemaTooNew
from flashcards.models import ALL_MODELS
from flashcards.timeutil import to_ms


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fresh_collection_layout_and_pragmas(data_dir):
    col = Collection.open(data_dir)
    try:
        assert (data_dir / "collection.db").is_file() and (data_dir / "media").is_dir()
        assert col.media_dir == data_dir / "media" and col.data_dir == data_dir
        q = col._sql
        assert q("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert q("PRAGMA foreign_keys").fetchone()[0] == 1
        assert q("PRAGMA synchronous").fetchone()[0] == 2  # FULL: every answer survives power loss
        assert q("PRAGMA busy_timeout").fetchone()[0] >= 5000
        assert q("PRAGMA user_version").fetchone()[0] == dbmod.SCHEMA_VERSION == len(dbmod.MIGRATIONS)
    finally:
        col.close()
    assert col.db.is_closed()


def test_models_match_the_migrated_schema(col):
    for model in ALL_MODELS:
        table = model._meta.table_name
        cols = {r[1] for r in col._sql(f"PRAGMA table_info({table})")}
        assert cols == {f.column_name for f in model._meta.sorted_fields}, table


def test_models_work_for_ordinary_reads(col):
    from flashcards.models import Card, Deck, Note

    nid = add_basic(col, "q", deck="Lang::French")
    assert Note.get_by_id(nid).sort_field == "q"
    assert {d.name for d in Deck.select()} == {"Lang", "Lang::French"}
    assert Card.select().where(Card.note == nid).count() == 1


def test_a_new_migration_is_applied_once(data_dir, monkeypatch):
    col = Collection.open(data_dir)
    add_basic(col, "kept")
    col.close()
    calls = []
    nxt = dbmod.SCHEMA_VERSION + 1

    def _migration_next(database):
        calls.append(1)
        database.execute_sql("ALTER TABLE deck ADD COLUMN colour TEXT NOT NULL DEFAULT ''")

    monkeypatch.setattr(dbmod, "MIGRATIONS", [*dbmod.MIGRATIONS, _migration_next])
    monkeypatch.setattr(dbmod, "SCHEMA_VERSION", nxt)
    for _ in range(2):
        col = Collection.open(data_dir)
        assert col._sql("PRAGMA user_version").fetchone()[0] == nxt
        assert "colour" in {r[1] for r in col._sql("PRAGMA table_info(deck)")}
        assert col._sql("SELECT COUNT(*) FROM note").fetchone()[0] == 1
        col.close()
    assert calls == [1]


def test_a_failing_migration_changes_nothing(data_dir, monkeypatch):
    Collection.open(data_dir).close()

    def _broken(database):
        database.execute_sql("ALTER TABLE deck ADD COLUMN half_done TEXT")
        raise RuntimeError("boom")

    current = dbmod.SCHEMA_VERSION
    monkeypatch.setattr(dbmod, "MIGRATIONS", [*dbmod.MIGRATIONS, _broken])
    monkeypatch.setattr(dbmod, "SCHEMA_VERSION", current + 1)
    with pytest.raises(RuntimeError):
        Collection.open(data_dir)
    dbmod.db.close()
    con = sqlite3.connect(data_dir / "collection.db")
    try:
        assert con.execute("PRAGMA user_version").fetchone()[0] == current
        assert "half_done" not in {r[1] for r in con.execute("PRAGMA table_info(deck)")}
    finally:
        con.close()


@pytest.mark.parametrize("wal", [True, False], ids=["wal-file", "rollback-journal-file"])
def test_newer_schema_refused_and_file_unchanged(data_dir, wal):
    if wal:
        Collection.open(data_dir).close()
    else:
        data_dir.mkdir()
    con = sqlite3.connect(data_dir / "collection.db")
    con.execute("CREATE TABLE IF NOT EXISTS future (x)")
    con.execute(f"PRAGMA user_version = {dbmod.SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    path = data_dir / "collection.db"
    before = digest(path)
    with pytest.raises(SchemaTooNew) as e:
        Collection.open(data_dir)
    msg = str(e.value)
    assert str(path) in msg and "newer version" in msg and "\n" not in msg
    assert digest(path) == before
    assert not (data_dir / "collection.db-wal").exists() or (data_dir / "collection.db-wal").stat().st_size == 0
    # The CLI says so in one line, exit status 1, no traceback; the file is still unchanged.
    r = run_cli("stats", data_dir=data_dir)
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "newer version" in r.stderr and "Traceback" not in r.stderr
    assert digest(path) == before


def test_review_rows_cannot_be_updated(col, now):
    did = col.deck_id("D", create=True)
    cid = card_ids(col, add_basic(col, "q", deck="D"))[0]
    col.study(did).answer(cid, 3, now)
    with pytest.raises(peewee.IntegrityError, match="append-only"):
        col._sql("UPDATE review SET rating = 1")
    with pytest.raises(peewee.IntegrityError, match="append-only"):
        col._sql("UPDATE review SET time_ms = time_ms + 1 WHERE card_id = ?", (cid,))
    assert col._sql("SELECT rating, time_ms FROM review").fetchall() == [(3, to_ms(now))]


def test_deleting_a_note_or_deck_keeps_its_reviews(col, now):
    did = col.deck_id("D", create=True)
    n1 = add_basic(col, "one", deck="D")
    n2 = add_basic(col, "two", deck="D::Sub")
    s = col.study(did)
    for n in (n1, n2):
        s.answer(card_ids(col, n)[0], 3, now)
    guids = {col.note(n).guid for n in (n1, n2)}
    assert col.delete_notes([n1]) == 1
    assert col._sql("SELECT COUNT(*) FROM card WHERE note_id = ?", (n1,)).fetchone()[0] == 0
    assert col.delete_deck(col.deck_id("D")) == 1
    assert col._sql("SELECT COUNT(*) FROM note").fetchone()[0] == 0
    assert col.deck_names() == {}
    rows = col._sql("SELECT note_guid, ord, rating FROM review ORDER BY id").fetchall()
    assert {r[0] for r in rows} == guids and len(rows) == 2


def test_review_ids_are_unique_and_time_ordered():
    t = to_ms(NOW)
    ids = [review_id(t + i // 50) for i in range(500)]
    assert len(set(ids)) == 500
    assert [review_id_time_ms(i) for i in ids] == [t + i // 50 for i in range(500)]
    assert review_id(t, "k") == review_id(t, "k") != review_id(t, "other")
    assert review_id(t + 1, "zzz") > review_id(t, "aaa")


def test_review_row_records_what_undo_needs(col, now):
    did = col.deck_id("D", create=True)
    cid = card_ids(col, add_basic(col, "q", deck="D"))[0]
    before = stored_state(col, cid)
    col.study(did).answer(cid, 2, now, duration_ms=4200)
    rid, card, guid, ordinal, deck, t, rating, kind, sb, dur, ivl, undo = col._sql(
        "SELECT * FROM review").fetchone()
    assert (card, guid, ordinal, deck, t, rating, kind, sb, dur, ivl) == (
        cid, col.note(col.card_columns(cid)["note_id"]).guid, 0, did, to_ms(now), 2, 0, 0, 4200, 330)
    assert review_id_time_ms(rid) == to_ms(now)
    assert json.loads(undo)["s"] == before.to_dict()


# ---------------------------------------------------------------- two processes


def _write_csv(path, rows):
    path.write_text("#separator:tab\n#html:false\n" + "".join(f"{a}\t{b}\n" for a, b in rows), encoding="utf-8")
    return path


def test_cli_in_another_process_while_the_app_has_it_open(col, tmp_path, now):
    did = col.deck_id("Default", create=True)
    first = card_ids(col, add_basic(col, "mine"))[0]
    session = col.study(did)
    t = now
    assert session.counts(t) == (1, 0, 0)
    f = _write_csv(tmp_path / "more.tsv", [("q1", "a1"), ("q2", "a2")])
    r = run_cli("import", str(f), "--deck", "Default", data_dir=col.data_dir)
    assert r.returncode == 0, r.stderr
    # The open session notices the other process's commit and rebuilds its queue.
    assert session.counts(t) == (3, 0, 0)
    assert session.next_card(t).card_id == first
    session.answer(first, 3, t)
    # And the other process sees our answer.
    r = run_cli("stats", "--json", data_dir=col.data_dir)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["reviews"] == 1


def test_study_session_notices_an_answer_made_elsewhere(col, now):
    did = col.deck_id("Default", create=True)
    cards = [card_ids(col, add_basic(col, f"q{i}"))[0] for i in range(2)]
    session = col.study(did)
    assert session.next_card(now).card_id == cards[0]
    # Another process answers the first card (the terminal study loop, Enter then Easy, then quit).
    r = run_cli("review", data_dir=col.data_dir, input="\n4\nq\n")
    assert r.returncode == 0, r.stderr
    assert col._sql("SELECT COUNT(*) FROM review").fetchone()[0] == 1
    assert session.next_card(now).card_id == cards[1]
    assert session.counts(now) == (1, 0, 0)


def test_a_writer_waits_for_the_other_instead_of_failing(col):
    """Another process holds the write lock for a while: our write waits (busy timeout) and succeeds."""
    col.deck_id("Default", create=True)
    held = threading.Event()

    def hold_write_lock():
        con = sqlite3.connect(col.db_path, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO setting (key, value) VALUES ('x', '1')")
        held.set()
        time.sleep(0.8)
        con.execute("COMMIT")
        con.close()

    th = threading.Thread(target=hold_write_lock)
    th.start()
    assert held.wait(5)
    t0 = time.monotonic()
    add_basic(col, "written while the other held the lock")
    waited = time.monotonic() - t0
    th.join()
    assert waited >= 0.5
    assert col._sql("SELECT COUNT(*) FROM note").fetchone()[0] == 1
    assert col._sql("SELECT value FROM setting WHERE key = 'x'").fetchone()[0] == "1"


def test_decks_made_by_another_process_are_seen(col, tmp_path):
    from flashcards import importing

    assert col.deck_names() == {}  # cached, empty
    r = run_cli("import", str(_write_csv(tmp_path / "x.tsv", [("q", "a")])), "--deck", "X", data_dir=col.data_dir)
    assert r.returncode == 0, r.stderr
    # Neither "no such deck" nor a duplicate-name error from the stale cache.
    assert col.deck_id("X") > 0
    col.deck_names()
    r = run_cli("import", str(_write_csv(tmp_path / "y.tsv", [("q2", "a")])), "--deck", "Y", data_dir=col.data_dir)
    assert r.returncode == 0, r.stderr
    result = importing.import_file(col, _write_csv(tmp_path / "z.tsv", [("q3", "a")]), deck="Y")
    assert result.new == 1
    assert sorted(col.deck_names().values()) == ["X", "Y"]


@pytest.mark.parametrize("content", [b"SQLite format 3\x00" + b"\xff" * 200, b"just text\n" * 500],
                         ids=["damaged-header", "not-a-database"])
def test_a_damaged_collection_is_refused_in_one_line(data_dir, content):
    from flashcards.errors import FlashcardsError

    data_dir.mkdir()
    path = data_dir / "collection.db"
    path.write_bytes(content)
    with pytest.raises(FlashcardsError) as e:
        Collection.open(data_dir)
    assert str(path) in str(e.value) and "\n" not in str(e.value)
    assert path.read_bytes() == content
    r = run_cli("decks", data_dir=data_dir)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip() == f"flashcards: {e.value}"
    assert path.read_bytes() == content


def test_an_import_in_a_worker_thread_is_seen_by_the_study_session(col, tmp_path, now):
    from flashcards import importing

    did = col.deck_id("Default", create=True)
    add_basic(col, "mine")
    session = col.study(did)
    assert session.counts(now) == (1, 0, 0)
    f = _write_csv(tmp_path / "t.tsv", [("t1", "a"), ("t2", "b")])
    errors = []

    def work():
        try:
            importing.import_file(col, f, deck="Default")
        except Exception as e:  # reported below
            errors.append(e)
        finally:
            col.db.close()  # this thread's own connection

    th = threading.Thread(target=work)
    th.start()
    th.join(30)
    assert errors == []
    assert session.counts(now) == (3, 0, 0)
    assert col._sql("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_writes_take_the_write_lock_at_begin(col):
    """BEGIN IMMEDIATE: a transaction holds the write lock from its start, so two writers queue up
    front instead of one failing half-way with 'database is locked'."""
    other = sqlite3.connect(col.db_path, timeout=0, isolation_level=None)
    try:
        with col.db.atomic():
            col._sql("SELECT COUNT(*) FROM card").fetchone()  # no write yet
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again after the commit
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_changed_externally_reports_another_process_once(col, tmp_path):
    assert col.changed_externally() is False
    r = run_cli("import", str(_write_csv(tmp_path / "x.tsv", [("q", "a")])), data_dir=col.data_dir)
    assert r.returncode == 0, r.stderr
    assert col.changed_externally() is True
    assert col.changed_externally() is False
    add_basic(col, "our own write")
    assert col.changed_externally() is False


def test_search_finds_accented_text_in_any_field(col, now):
    """Fields are stored as JSON without \\u escapes, so a LIKE search finds non-ASCII words in them."""
    from flashcards import importing
    from flashcards.drafts import Draft, DraftNote

    did = col.deck_id("D", create=True)
    added = col.add_note("Basic", ["cheese", "fromage de Brie, crème"], deck_id=did, now=now)
    other = col.add_note("Basic", ["bread", "pain"], deck_id=did, now=now)
    col.update_note(other, ["bread", "pain complet, crème fraîche"], now=now)
    importing.apply(col, importing.plan(col, Draft(path="x", notes=[DraftNote("g", "Basic", ["butter", "crème"])])))
    assert [r.question for r in col.search("crème")] == ["cheese", "bread", "butter"]
    assert [r.note_id for r in col.search("fraîche")] == [other]
    assert col.note(added).fields == ["cheese", "fromage de Brie, crème"]


# ---------------------------------------------------------------- the collection facade


def test_media_references_and_the_export_draft_with_spaces_in_names(col, now):
    from flashcards.collection import media_references

    html = ('<img src="a.png"> <IMG alt=x SRC=\'b c.jpg\'> [sound:d e.mp3] <img src=e.gif> '
            '<img class="x" src="my pic.png" width=3>')
    assert media_references(html) == {"a.png", "b c.jpg", "d e.mp3", "e.gif", "my pic.png"}
    (col.media_dir / "my pic.png").write_bytes(b"png")
    (col.media_dir / "unused.png").write_bytes(b"png")
    col.add_note("Basic", ['<img src="my pic.png">', "[sound:missing.mp3]"], now=now)
    draft = col.to_draft()
    assert [m.name for m in draft.media] == ["my pic.png"]
    assert col.media_count() == 2


def test_rename_and_delete_decks(col, now):
    col._sql("INSERT INTO shipped_deck (key, version, deck_name) VALUES ('k', 1, 'Lang')")
    add_basic(col, "fr", deck="Lang::French")
    add_basic(col, "de", deck="Lang::German")
    col.rename_deck(col.deck_id("Lang"), "Languages::Europe")
    assert sorted(col.deck_names().values()) == ["Languages", "Languages::Europe", "Languages::Europe::French",
                                                 "Languages::Europe::German"]
    assert col._sql("SELECT deck_name FROM shipped_deck").fetchone()[0] == "Languages::Europe"
    with pytest.raises(Exception, match="inside itself"):
        col.rename_deck(col.deck_id("Languages"), "Languages::Europe::X")
    with pytest.raises(Exception, match="already exists"):
        col.rename_deck(col.deck_id("Languages::Europe::French"), "Languages::Europe::German")
    with pytest.raises(Exception, match="already exists"):
        col.add_deck("Languages")
    assert col.delete_deck(col.deck_id("Languages::Europe")) == 2
    assert col._sql("SELECT deleted FROM shipped_deck").fetchone()[0] == 1
    assert list(col.deck_names().values()) == ["Languages"]


def test_a_note_type_of_the_same_name_with_other_fields_is_kept_apart(col, now):
    from flashcards.drafts import DraftNotetype, DraftTemplate

    add_basic(col, "a built-in Basic note first")
    mine = DraftNotetype("Basic", ("A", "B", "C"), (DraftTemplate("Card 1", "{{A}}", "{{B}} {{C}}"),))
    ntid = col.notetype_id(mine)
    assert col.notetype_id(mine) == ntid
    assert col.notetype_names() == ["Basic", "Basic (and reversed card)", "Cloze", "Basic (2)"]
    nid = col.add_note("Basic (2)", ["a", "b", "c"], now=now)
    assert col.note(nid).field_names == ["A", "B", "C"]
    assert col.notetype_fields("Basic") == ["Front", "Back"]


def test_a_look_alike_of_a_built_in_type_keeps_its_own_templates(col, now):
    """An imported "Basic" with other templates never rewrites the built-in's, nor the reverse."""
    from flashcards.drafts import BASIC, DraftNotetype, DraftTemplate

    own = add_basic(col, "mine")
    theirs = DraftNotetype("Basic", ("Front", "Back"), (DraftTemplate("Card 1", "Q: {{Front}}", "A: {{Back}}"),),
                           css=".card { color: red }")
    ntid = col.notetype_id(theirs)
    assert col.notetype(ntid).name == "Basic (2)" and col.notetype_id(theirs) == ntid
    imported = col.add_note("Basic (2)", ["theirs", "x"], now=now)
    add_basic(col, "another of mine")  # the built-in again: nothing of "Basic (2)" changes
    assert col.notetype(ntid).templates == theirs.templates
    assert col.notetype(col.notetype_id(BASIC)).templates == BASIC.templates
    assert col.render(card_ids(col, imported)[0]).front.startswith("Q: theirs")
    assert "Q:" not in col.render(card_ids(col, own)[0]).front
    # the same templates with other CSS are the built-in itself (cards are drawn without CSS)
    assert col.notetype_id(DraftNotetype("Basic", BASIC.fields, BASIC.templates, css="x")) == col.notetype_id(BASIC)
    # and so is Anki's stock Basic, which differs only by whitespace around its <hr id=answer>
    anki_basic = DraftNotetype("Basic", ("Front", "Back"),
                               (DraftTemplate("Card 1", "{{Front}}", "{{FrontSide}}\n\n<hr id=answer>\n\n{{Back}}"),))
    assert col.notetype_id(anki_basic) == col.notetype_id(BASIC)
    assert col.notetype_names() == ["Basic", "Basic (and reversed card)", "Cloze", "Basic (2)"]


def test_update_note_adds_cards_for_new_clozes(col, now):
    did = col.deck_id("D", create=True)
    nid = col.add_note("Cloze", ["{{c1::a}}", ""], deck_id=did, now=now)
    col.update_note(nid, ["{{c1::a}} {{c3::c}}", "extra"], tags=["t"], now=now, source="book")
    assert [r[0] for r in col._sql("SELECT ord FROM card WHERE note_id = ? ORDER BY ord", (nid,))] == [0, 2]
    view = col.note(nid)
    assert (view.fields, view.tags, view.source, view.deck) == (["{{c1::a}} {{c3::c}}", "extra"], ["t"], "book", "D")
    with pytest.raises(Exception, match="cloze"):
        col.update_note(nid, ["no clozes left", ""], now=now)


def test_search_filters_and_card_info(col, now):
    did = col.deck_id("D", create=True)
    a = card_ids(col, add_basic(col, "apple", deck="D", tags=["fruit"]))[0]
    b = card_ids(col, add_basic(col, "beet", deck="D::Veg"))[0]
    s = col.study(did)
    s.answer(a, 3, now)
    col.set_card_columns(b, flag=2)
    assert [r.card_id for r in col.search(deck="D::Veg")] == [b]
    assert [r.card_id for r in col.search(tag="fruit")] == [a]
    assert [r.card_id for r in col.search(state="learning", now=now)] == [a]
    assert [r.card_id for r in col.search(state="new", now=now)] == [b]
    assert [r.card_id for r in col.search(state="flagged", now=now)] == [b]
    assert [r.card_id for r in col.search(state="due", now=now)] == [a]
    info = col.card_info(a, now + timedelta(minutes=5))
    assert (info.deck, info.reps, info.lapses, len(info.reviews), info.buried) == ("D", 1, 0, 1, False)
    assert 0.9 < info.retrievability <= 1.0


def test_a_version_1_collection_is_migrated_and_keeps_its_data(data_dir):
    """A collection written before migration 2 opens with its notes and gets migration 2's indexes."""
    from peewee import SqliteDatabase

    data_dir.mkdir(parents=True, exist_ok=True)
    old = SqliteDatabase(str(data_dir / "collection.db"))
    old.connect()
    dbmod.MIGRATIONS[0](old)
    old.execute_sql("PRAGMA user_version = 1")
    old.execute_sql("INSERT INTO deck (name, options, created_ms) VALUES ('Old', '{}', 0)")
    old.close()
    col = Collection.open(data_dir)
    try:
        assert col._sql("PRAGMA user_version").fetchone()[0] == dbmod.SCHEMA_VERSION >= 2
        indexes = {r[0] for r in col._sql("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "card_deck_note" in indexes and "review_guid" not in indexes
        # migration 3: the queue's covering indexes replace the old ones; the partial sibling index
        assert {"card_queue_due", "card_queue_new", "card_sibling"} <= indexes
        assert not {"card_deck_state_due", "card_deck_new"} & indexes
        assert list(col.deck_names().values()) == ["Old"]
    finally:
        col.close()


def test_search_treats_percent_and_underscore_literally(col):
    add_basic(col, "50% off")
    add_basic(col, "snake_case")
    add_basic(col, "plain words")
    assert [r.question for r in col.search("%")] == ["50% off"]
    assert [r.question for r in col.search("_")] == ["snake_case"]
    assert sorted(r.question for r in col.search("s")) == ["plain words", "snake_case"]


def test_search_ignores_case_in_every_script(col):
    add_basic(col, "Память и время", "answer")
    add_basic(col, "Ωμέγα", "ΑΛΦΑ")
    add_basic(col, "Ärger", tags=["Übung"])
    add_basic(col, "plain")
    assert [r.question for r in col.search("ПАМЯТЬ")] == ["Память и время"]
    assert [r.question for r in col.search("память")] == ["Память и время"]
    assert [r.question for r in col.search("ωμέγα")] == ["Ωμέγα"]
    assert [r.question for r in col.search("αλφα")] == ["Ωμέγα"]  # the back field matches too
    assert [r.question for r in col.search("ärger")] == ["Ärger"]
    assert [r.question for r in col.search("übung")] == ["Ärger"]  # and tags
    assert [r.question for r in col.search("ПЛАН")] == []


def test_multi_card_notes_are_found_per_deck_subtree(col):
    """Sibling burying only matters where a note has two cards among the decks studied."""
    a, b = col.deck_id("A", create=True), col.deck_id("B", create=True)
    add_basic(col, "one card", deck="A")
    assert not col.has_multi_card_notes([a]) and not col.has_multi_card_notes([a, b])
    nid = add_basic(col, "two cards", deck="A", notetype="Basic (and reversed card)")
    assert col.has_multi_card_notes([a])
    # the reversed card moves to B: within A alone, or B alone, no note has two cards; together one has
    second = col._sql("SELECT id FROM card WHERE note_id = ? AND ord = 1", (nid,)).fetchone()[0]
    col.set_card_columns(second, deck_id=b)
    assert not col.has_multi_card_notes([a]) and not col.has_multi_card_notes([b])
    assert col.has_multi_card_notes([a, b])


def test_a_deleted_cards_id_is_never_given_to_a_new_card(col, now):
    """The deleted card's reviews stay in the log under its id: a new card must not inherit them."""
    did = col.deck_id("D", create=True)
    add_basic(col, "kept", deck="D")
    gone = add_basic(col, "deleted", deck="D")
    old_card = card_ids(col, gone)[0]
    col.study(did).answer(old_card, 3, now)
    col.delete_notes([gone])
    fresh = card_ids(col, add_basic(col, "new one", deck="D"))[0]
    assert fresh > old_card
    assert col.card_info(fresh, now).reviews == []
    assert col._sql("SELECT COUNT(*) FROM review WHERE card_id = ?", (old_card,)).fetchone()[0] == 1
    cloze = col.add_note("Cloze", ["{{c1::a}}", ""], deck_id=did, now=now)
    col.delete_notes([cloze])  # its card had the largest id again
    nid = col.add_note("Cloze", ["{{c1::b}}", ""], deck_id=did, now=now)
    col.update_note(nid, ["{{c1::b}} {{c2::c}}", ""], now=now)  # a card added to an existing note
    assert min(card_ids(col, nid)) > max(old_card, fresh)


def test_checkpoint_copies_the_log_and_is_no_change_for_others(col, now):
    """Collection.checkpoint (the study screen runs it on a worker): the log's pages go into the
    database file; the data and what other connections see as changed stay the same."""
    other = sqlite3.connect(col.db_path)  # another process, say
    try:
        version = other.execute("PRAGMA data_version").fetchone()[0]
        for i in range(50):
            add_basic(col, f"q{i}")
        assert other.execute("PRAGMA data_version").fetchone()[0] != version  # the notes: a change
        version = other.execute("PRAGMA data_version").fetchone()[0]
        busy, log_pages, copied = col.checkpoint()
        assert busy == 0 and log_pages > 0 and copied == log_pages
        assert other.execute("PRAGMA data_version").fetchone()[0] == version  # the checkpoint: none
        assert other.execute("SELECT COUNT(*) FROM note").fetchone()[0] == 50
    finally:
        other.close()
