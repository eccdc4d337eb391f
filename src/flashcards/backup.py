"""Backups with SQLite's online backup API: consistent copies even while the app is running.

``backups/`` keeps the newest 10. The CLI's ``backup`` and every import make one; the app makes one
a day. Restoring first backs up the current database, then copies the chosen backup over it.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from flashcards import db as dbmod
from flashcards.errors import FlashcardsError
from flashcards.timeutil import require_utc

KEEP = 10
PREFIX = "collection-"


def make_backup(col, now: datetime, keep: int = KEEP) -> Path:
    """Copy the open collection to ``backups/collection-YYYYmmdd-HHMMSS-fff.db``; prune old ones."""
    now = require_utc(now)
    col.backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = f"{PREFIX}{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}"
    target = col.backup_dir / f"{stamp}.db"
    same_ms = [_backup_order(p)[1] for p in col.backup_dir.glob(f"{stamp}*.db")]
    if same_ms:
        # Later backups of the same millisecond count up from the highest number ever used, so a name
        # freed by pruning is not reused and the order of the names stays the order of the backups.
        target = col.backup_dir / f"{stamp}-{max(same_ms) + 1}.db"
    tmp = target.with_suffix(".part")
    dst = sqlite3.connect(tmp)
    try:
        col.db.connection().backup(dst)
    finally:
        dst.close()
    tmp.rename(target)
    for old in list_backups(col)[keep:]:
        old.unlink(missing_ok=True)
    return target


def list_backups(col) -> list[Path]:
    """Backups, newest first."""
    if not col.backup_dir.is_dir():
        return []
    return sorted(col.backup_dir.glob(f"{PREFIX}*.db"), key=_backup_order, reverse=True)


def _backup_order(path: Path) -> tuple[str, int]:
    # "collection-<time>.db" then "collection-<time>-1.db", "-2" ... for backups made in the same ms.
    stem = path.stem
    base, dash, n = stem.rpartition("-")
    if dash and n.isdigit() and base.count("-") >= 3:
        return base, int(n)
    return stem, 0


def daily_backup(col, now: datetime) -> Path | None:
    """Make a backup unless one was made in the current study day."""
    day = col.today(now)
    if col.get_setting("last_backup_day", 0) == day:
        return None
    path = make_backup(col, now)
    col.set_setting("last_backup_day", day)
    return path


def _check_backup(source: Path) -> int:
    """Refuse anything but a sound flashcards database this app can open; returns its schema version."""
    if not source.is_file():
        raise FlashcardsError(f"{source}: no such backup file")
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            ok = src.execute("PRAGMA quick_check").fetchone()[0]
            tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            version = src.execute("PRAGMA user_version").fetchone()[0]
        finally:
            src.close()
    except sqlite3.DatabaseError as e:
        raise FlashcardsError(f"{source}: not a flashcards backup ({e})") from None
    if ok != "ok" or not {"deck", "note", "card", "review"} <= tables:
        raise FlashcardsError(f"{source}: not a flashcards backup (damaged or missing tables)")
    if version > dbmod.SCHEMA_VERSION:
        raise FlashcardsError(f"{source}: made by a newer version of flashcards (schema {version}, this app "
                              f"knows {dbmod.SCHEMA_VERSION}); update the app to restore it")
    return version


def restore_unopenable(data_dir: Path, source: str | Path, now: datetime) -> Path:
    """Restore when the current collection cannot be opened (damaged, or from a newer app).

    Nothing is deleted: the current database files are moved into ``backups/`` as ``unopenable-…``,
    then the backup is copied in with SQLite's backup API and brought up to date. Returns where the
    old files went.
    """
    source = Path(source)
    _check_backup(source)
    now = require_utc(now)
    data_dir = Path(data_dir)
    backups = data_dir / "backups"
    backups.mkdir(parents=True, exist_ok=True)
    aside = backups / f"unopenable-{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}.db"
    db_path = data_dir / "collection.db"
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(db_path) + suffix)
        if p.exists():
            p.rename(Path(str(aside) + suffix))
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(db_path)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    dbmod.open_db(db_path).close()
    return aside


def restore(col, source: str | Path, now: datetime) -> Path:
    """Replace the collection with a backup (after backing up the current one). Returns that safety copy.

    The source is checked first (a readable SQLite database with our schema); a bad file changes nothing.
    """
    source = Path(source)
    version = _check_backup(source)
    # One more than usual is kept until the next backup: pruning to 10 here could delete the very
    # backup being restored (the oldest of ten) before it is copied.
    safety = make_backup(col, now, keep=KEEP + 1)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        with col.db.atomic():
            pass
        src.backup(col.db.connection())
    finally:
        src.close()
    col._touch()
    col.data_version_changed()
    col._opts_cache.clear()
    col._notetypes.clear()
    col._settings = None
    if version < dbmod.SCHEMA_VERSION:  # a backup from an older app: bring its schema up to date
        dbmod.open_db(col.db_path, col.db)
    return safety
