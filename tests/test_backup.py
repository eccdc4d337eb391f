"""Backups (SQLite's backup API, newest 10 kept, daily) and restore (a bad file changes nothing)."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import timedelta

import pytest
from core_helpers import add_basic, card_ids

from flashcards import backup as B
from flashcards import db as dbmod
from flashcards.errors import FlashcardsError


def notes_in(path) -> list[str]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return [r[0] for r in con.execute("SELECT sort_field FROM note ORDER BY id")]
    finally:
        con.close()


def test_backup_is_a_consistent_copy(col, now, tmp_path):
    import shutil

    add_basic(col, "one")
    add_basic(col, "two")
    # The notes are still in the write-ahead log: a plain copy of collection.db would miss them.
    shutil.copyfile(col.db_path, tmp_path / "plain-copy.db")
    con = sqlite3.connect(tmp_path / "plain-copy.db")
    assert con.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'note'").fetchone()[0] == 0
    con.close()
    path = col.backup(now)
    assert path.parent == col.data_dir / "backups"
    assert path.name == "collection-20260310-120000-000.db"
    assert notes_in(path) == ["one", "two"]
    assert not list(path.parent.glob("*.part"))


def test_only_the_newest_ten_are_kept(col, now):
    add_basic(col, "x")
    made = [col.backup(now + timedelta(minutes=i)) for i in range(13)]
    kept = B.list_backups(col)
    assert kept == list(reversed(made[3:]))
    assert len(list((col.data_dir / "backups").iterdir())) == 10


def test_daily_backup_once_per_study_day(col, now, set_tz):
    set_tz("America/New_York")
    assert B.daily_backup(col, now) is not None
    assert B.daily_backup(col, now + timedelta(hours=3)) is None
    # 04:00 next morning in New York (EDT) is 08:00 UTC: a new study day.
    nxt = now.replace(hour=8) + timedelta(days=1)
    assert B.daily_backup(col, nxt - timedelta(seconds=1)) is None
    assert B.daily_backup(col, nxt) is not None
    assert len(B.list_backups(col)) == 2


def test_restore_brings_the_backup_back(col, now):
    did = col.deck_id("Default", create=True)
    keep = add_basic(col, "kept")
    path = col.backup(now)
    add_basic(col, "added after the backup")
    s = col.study(did)
    s.answer(card_ids(col, keep)[0], 3, now)
    assert s.counts(now) == (1, 1, 0)
    safety = B.restore(col, path, now + timedelta(seconds=1))
    assert [r[0] for r in col._sql("SELECT sort_field FROM note")] == ["kept"]
    assert col._sql("SELECT COUNT(*) FROM review").fetchone()[0] == 0
    assert notes_in(safety) == ["kept", "added after the backup"]
    # An open session sees the restored collection.
    assert s.counts(now) == (1, 0, 0)
    assert s.next_card(now).card_id == card_ids(col, keep)[0]
    assert col._sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert col._sql("PRAGMA journal_mode").fetchone()[0] == "wal"


def _bad_files(tmp_path, good_backup):
    text = tmp_path / "notes.txt"
    text.write_text("just some text, not a database\n" * 50)
    empty_db = tmp_path / "empty.db"
    sqlite3.connect(empty_db).execute("CREATE TABLE t (x)").connection.close()
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(good_backup.read_bytes()[:2048])
    newer = tmp_path / "newer.db"
    newer.write_bytes(good_backup.read_bytes())
    con = sqlite3.connect(newer)
    con.execute(f"PRAGMA user_version = {dbmod.SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    return {"missing": tmp_path / "missing.db", "folder": tmp_path, "text": text, "empty": empty_db,
            "truncated": truncated, "newer-schema": newer}


@pytest.mark.parametrize("kind", ["missing", "folder", "text", "empty", "truncated", "newer-schema"])
def test_restoring_a_bad_file_changes_nothing(col, now, tmp_path, kind):
    add_basic(col, "precious")
    good = col.backup(now)
    bad = _bad_files(tmp_path, good)[kind]
    backups_before = B.list_backups(col)
    col.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    digest = hashlib.sha256(col.db_path.read_bytes()).hexdigest()
    with pytest.raises(FlashcardsError) as e:
        B.restore(col, bad, now + timedelta(seconds=5))
    assert str(bad) in str(e.value) and "\n" not in str(e.value)
    col.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    assert hashlib.sha256(col.db_path.read_bytes()).hexdigest() == digest
    assert B.list_backups(col) == backups_before
    assert [r[0] for r in col._sql("SELECT sort_field FROM note")] == ["precious"]


def test_restoring_an_older_schema_migrates_it(col, now, monkeypatch):
    add_basic(col, "old")
    path = col.backup(now)

    nxt = dbmod.SCHEMA_VERSION + 1

    def _migration_next(database):
        database.execute_sql("ALTER TABLE note ADD COLUMN extra TEXT NOT NULL DEFAULT ''")

    monkeypatch.setattr(dbmod, "MIGRATIONS", [*dbmod.MIGRATIONS, _migration_next])
    monkeypatch.setattr(dbmod, "SCHEMA_VERSION", nxt)
    dbmod.open_db(col.db_path, col.db)  # the app, updated, opens its collection (one schema newer)
    B.restore(col, path, now + timedelta(seconds=1))
    assert col._sql("PRAGMA user_version").fetchone()[0] == nxt
    assert col._sql("SELECT sort_field, extra FROM note").fetchall() == [("old", "")]


def test_cli_backup_and_restore(data_dir, capsys):
    from flashcards import cli
    from flashcards.collection import Collection

    def run(*argv):
        status = cli.main([*argv, "--data-dir", str(data_dir)])
        return status, *capsys.readouterr()

    col = Collection.open(data_dir)
    add_basic(col, "first")
    col.close()
    status, out, err = run("backup")
    assert status == 0, err
    path = next((data_dir / "backups").glob("collection-*.db"))
    assert out.strip() == f"backup written: {path}"
    col = Collection.open(data_dir)
    add_basic(col, "second")
    col.close()
    status, out, err = run("restore", str(path))
    assert status == 0, err
    assert out.startswith(f"restored {path} (the previous collection was saved as ")
    col = Collection.open(data_dir)
    try:
        assert [x[0] for x in col._sql("SELECT sort_field FROM note")] == ["first"]
    finally:
        col.close()
    status, out, err = run("restore", str(data_dir / "nope.db"))
    assert status == 1 and err.strip() == f"flashcards: {data_dir / 'nope.db'}: no such backup file"


def test_restoring_the_oldest_of_ten_backups(col, now):
    """The safety copy made before restoring must not prune the very backup being restored."""
    add_basic(col, "oldest state")
    made = [col.backup(now)]
    add_basic(col, "later")
    made += [col.backup(now + timedelta(minutes=i)) for i in range(1, 10)]
    assert B.list_backups(col)[-1] == made[0] and len(B.list_backups(col)) == 10
    B.restore(col, made[0], now + timedelta(hours=1))
    assert [r[0] for r in col._sql("SELECT sort_field FROM note")] == ["oldest state"]


def test_cli_restore_repairs_a_damaged_collection(data_dir, capsys):
    from flashcards import cli
    from flashcards.collection import Collection

    col = Collection.open(data_dir)
    add_basic(col, "safe")
    path = col.backup()
    col.close()
    (data_dir / "collection.db").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    status = cli.main(["restore", str(path), "--data-dir", str(data_dir)])
    capsys.readouterr()
    assert status == 0
    # Nothing is thrown away: the damaged file is kept beside the backups.
    kept = list((data_dir / "backups").glob("unopenable-*.db"))
    assert len(kept) == 1 and kept[0].read_bytes().startswith(b"SQLite format 3\x00\xff")
    col = Collection.open(data_dir)
    try:
        assert [r[0] for r in col._sql("SELECT sort_field FROM note")] == ["safe"]
    finally:
        col.close()


def test_backups_made_in_the_same_millisecond_keep_the_newest(col, now):
    """Same-ms backups are named -1, -2 ...; pruning must drop the oldest, not the newest."""
    made = [col.backup(now) for _ in range(12)]
    listed = B.list_backups(col)
    assert len(listed) == 10
    assert listed == list(reversed(made))[:10]
