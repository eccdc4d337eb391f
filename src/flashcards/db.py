"""The database: one deferred ``SqliteDatabase``, opened by :func:`open_db`, schema migrations in code.

Durability: WAL journal with ``synchronous=FULL`` — every acknowledged write (every answer) is on disk
before the call returns, and survives a crash or power loss. Writes run in ``BEGIN IMMEDIATE``
transactions (``lock_type`` below), so two processes on one data dir serialise instead of failing
half-way; readers never block in WAL mode; a busy timeout makes a writer wait for the other.
Peewee keeps one connection per thread, so a worker thread (an import) gets its own.

Adding a migration: append a function to :data:`MIGRATIONS`. It receives the open database inside a
transaction; the schema version (``PRAGMA user_version``) becomes its 1-based position. Migrations are
plain functions (not files found by globbing) because the phone build ships only ``.pyc`` files.
"""

from __future__ import annotations

import logging
from pathlib import Path

from peewee import DatabaseError, SqliteDatabase

from flashcards.errors import FlashcardsError, SchemaTooNew

db = SqliteDatabase(None, lock_type="IMMEDIATE")
# peewee logs every query at DEBUG; Kivy's root logger would print them all to the user's terminal.
logging.getLogger("peewee").setLevel(logging.INFO)

PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": 2,  # FULL
    "busy_timeout": 10_000,
    "cache_size": -16_000,  # 16 MB
    "temp_store": 2,  # memory
}


def _migration_1(database: SqliteDatabase) -> None:
    """The initial schema."""
    stmts = [
        """CREATE TABLE deck (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            options TEXT NOT NULL DEFAULT '{}',
            description TEXT NOT NULL DEFAULT '',
            created_ms INTEGER NOT NULL)""",
        """CREATE TABLE notetype (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            fields TEXT NOT NULL,
            templates TEXT NOT NULL,
            is_cloze INTEGER NOT NULL DEFAULT 0,
            css TEXT NOT NULL DEFAULT '')""",
        """CREATE TABLE note (
            id INTEGER PRIMARY KEY,
            guid TEXT NOT NULL UNIQUE,
            notetype_id INTEGER NOT NULL REFERENCES notetype(id),
            fields TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT ' ',
            source TEXT NOT NULL DEFAULT '',
            sort_field TEXT NOT NULL DEFAULT '',
            created_ms INTEGER NOT NULL,
            modified_ms INTEGER NOT NULL)""",
        """CREATE TABLE card (
            id INTEGER PRIMARY KEY,
            note_id INTEGER NOT NULL REFERENCES note(id) ON DELETE CASCADE,
            ord INTEGER NOT NULL,
            deck_id INTEGER NOT NULL REFERENCES deck(id),
            state INTEGER NOT NULL DEFAULT 0,
            step INTEGER,
            stability REAL,
            difficulty REAL,
            due_ms INTEGER,
            last_review_ms INTEGER,
            reps INTEGER NOT NULL DEFAULT 0,
            lapses INTEGER NOT NULL DEFAULT 0,
            suspended INTEGER NOT NULL DEFAULT 0,
            buried_until INTEGER NOT NULL DEFAULT 0,
            flag INTEGER NOT NULL DEFAULT 0,
            position INTEGER NOT NULL DEFAULT 0,
            baseline TEXT,
            UNIQUE (note_id, ord))""",
        "CREATE INDEX card_deck_state_due ON card (deck_id, state, due_ms)",
        "CREATE INDEX card_deck_new ON card (deck_id, state, position)",
        """CREATE TABLE review (
            id INTEGER PRIMARY KEY,
            card_id INTEGER NOT NULL,
            note_guid TEXT NOT NULL,
            ord INTEGER NOT NULL,
            deck_id INTEGER,
            time_ms INTEGER NOT NULL,
            rating INTEGER NOT NULL,
            kind INTEGER NOT NULL,
            state_before INTEGER NOT NULL,
            duration_ms INTEGER NOT NULL DEFAULT 0,
            interval_s INTEGER,
            undo TEXT)""",
        "CREATE INDEX review_card ON review (card_id, id)",
        "CREATE INDEX review_guid ON review (note_guid, ord)",
        """CREATE TABLE setting (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL)""",
        """CREATE TABLE shipped_deck (
            key TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            deck_name TEXT NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0)""",
        # Review rows are append-only: only undo (deleting the session's last answer) may remove one,
        # and nothing may rewrite one.
        """CREATE TRIGGER review_no_update BEFORE UPDATE ON review
            BEGIN SELECT RAISE(ABORT, 'review rows are append-only'); END""",
    ]
    for sql in stmts:
        database.execute_sql(sql)


def _migration_2(database: SqliteDatabase) -> None:
    """Indexes for speed: per-deck note counts (the deck list at start-up) read an index instead of
    the card table; the review log's (note_guid, ord) index, which no query uses, is dropped so each
    answer writes one b-tree less."""
    database.execute_sql("CREATE INDEX IF NOT EXISTS card_deck_note ON card (deck_id, note_id)")
    database.execute_sql("DROP INDEX IF EXISTS review_guid")


def _migration_3(database: SqliteDatabase) -> None:
    """Indexes the study queue reads without visiting the card table. The queue counts the cards due
    in a deck and reads them a page at a time, filtering on suspended/buried: those columns (and the
    note, for sibling burying) join the two queue indexes, which keep their key order. A partial
    index of the cards with ordinal > 0 answers "does any note here have siblings?" at once (a note
    with two cards has one with ordinal > 0); answers never change ``ord``, so it costs them nothing.
    """
    for sql in (
        "DROP INDEX IF EXISTS card_deck_state_due",
        "DROP INDEX IF EXISTS card_deck_new",
        "CREATE INDEX card_queue_due ON card (deck_id, state, due_ms, suspended, buried_until, note_id)",
        "CREATE INDEX card_queue_new ON card (deck_id, state, position, suspended, buried_until, note_id)",
        "CREATE INDEX card_sibling ON card (deck_id, note_id) WHERE ord > 0",
    ):
        database.execute_sql(sql)


MIGRATIONS = [_migration_1, _migration_2, _migration_3]
SCHEMA_VERSION = len(MIGRATIONS)


def casefold_contains(haystack: str | None, folded_needle: str) -> int:
    """SQL ``fc_contains(text, needle)``: 1 when ``needle`` (already case-folded) occurs in ``text``
    compared case-insensitively in every script. SQLite's LIKE folds only ASCII letters."""
    return 1 if haystack is not None and folded_needle in haystack.casefold() else 0


def open_db(path: str | Path, database: SqliteDatabase = db) -> SqliteDatabase:
    """Open (creating if needed) the collection database at ``path`` and bring its schema up to date.

    Raises :class:`SchemaTooNew` — without touching the file — when a newer app wrote it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not database.is_closed():
        database.close()
    # journal_mode is set only after the version check: switching a rollback-journal file to WAL
    # rewrites its header, and a file from a newer app must stay byte-for-byte unchanged.
    database.init(str(path), pragmas={k: v for k, v in PRAGMAS.items() if k != "journal_mode"}, timeout=10)
    database.register_function(casefold_contains, "fc_contains", 2, deterministic=True)  # every connection
    try:
        database.connect(reuse_if_open=True)
        version = database.execute_sql("PRAGMA user_version").fetchone()[0]
    except DatabaseError as e:  # not a database, a damaged header, a folder in its place
        database.close()
        raise FlashcardsError(f"{path} cannot be opened: {e}; the file was not changed") from None
    if version > SCHEMA_VERSION:
        database.close()
        raise SchemaTooNew(
            f"{path} was written by a newer version of flashcards (schema {version}, this app knows "
            f"{SCHEMA_VERSION}); update the app to open it — the file was not changed"
        )
    # WAL is stored in the file, so the connections other threads open later use it too.
    database.execute_sql(f"PRAGMA journal_mode = {PRAGMAS['journal_mode']}")
    if version < SCHEMA_VERSION:
        with database.atomic():
            for number in range(version + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[number - 1](database)
            database.execute_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return database
