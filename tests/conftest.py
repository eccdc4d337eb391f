"""Shared fixtures for the core's tests.

* every test runs with a fixed local time zone (``$TZ`` + ``time.tzset()``; the core asks
  :func:`flashcards.timeutil.local_tz`, which reads ``$TZ``), UTC unless a test calls ``set_tz``;
* ``col`` is a freshly opened :class:`~flashcards.collection.Collection` in its own data dir, closed
  afterwards (the peewee database is a module-global deferred ``SqliteDatabase``);
* ``NOW`` is a fixed UTC instant; tests pass ``now`` explicitly everywhere.

No kivy import here: the core's tests must run (and prove the core runs) without it.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"

# A fixed instant: Tuesday 10 March 2026, 12:00 UTC (after the US DST change of 8 March, before the
# EU one of 29 March).
NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)


def _apply_tz(name: str | None) -> None:
    if name is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = name
    time.tzset()


@pytest.fixture(autouse=True)
def _fixed_environment(monkeypatch):
    """UTC local time and no $FLASHCARDS_HOME for every test (restored afterwards)."""
    before = os.environ.get("TZ")
    monkeypatch.delenv("FLASHCARDS_HOME", raising=False)
    _apply_tz("UTC")
    yield
    _apply_tz(before)


@pytest.fixture
def set_tz():
    """``set_tz("Europe/Berlin")``: make that the local time zone for the rest of the test."""
    return _apply_tz


@pytest.fixture
def now() -> datetime:
    """The fixed UTC ``now`` of the tests."""
    return NOW


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """An empty data dir (not yet created: ``Collection.open`` makes it)."""
    return tmp_path / "data"


@pytest.fixture
def col(data_dir):
    """A freshly opened collection; closed after the test."""
    from flashcards.collection import Collection

    c = Collection.open(data_dir)
    # Durability is not what these tests check (test_db checks the FULL setting itself); without the
    # fsync of every commit the suite runs several times faster.
    c._sql("PRAGMA synchronous = OFF")
    try:
        yield c
    finally:
        c.close()


def add_basic(col, front: str, back: str = "back", deck: str = "Default", now: datetime = NOW,
              notetype: str = "Basic", tags=()) -> int:
    """Add a note to ``deck`` (created if needed); returns the note id."""
    return col.add_note(notetype, [front, back], tags=tags, deck_id=col.deck_id(deck, create=True), now=now)


def card_ids(col, note_id: int) -> list[int]:
    """The note's card ids by template ordinal."""
    return [r[0] for r in col._sql("SELECT id FROM card WHERE note_id = ? ORDER BY ord", (note_id,))]


def stored_state(col, card_id: int):
    """The card's scheduling columns as a SchedState (the cache replay must equal)."""
    from flashcards.scheduling import SchedState

    c = col.card_columns(card_id)
    return SchedState(c["state"], c["step"], c["stability"], c["difficulty"], c["due_ms"], c["last_review_ms"],
                      c["reps"], c["lapses"])


def run_cli(*args: str, data_dir: Path | None = None, input: str | None = None, env: dict | None = None):
    """Run ``python -m flashcards ARGS`` in a subprocess; returns the CompletedProcess."""
    import subprocess

    argv = [sys.executable, "-m", "flashcards", *args]
    if data_dir is not None:
        argv += ["--data-dir", str(data_dir)]
    full_env = {**os.environ, "PYTHONPATH": str(SRC), "KIVY_NO_ARGS": "1", **(env or {})}
    full_env.pop("FLASHCARDS_HOME", None)
    return subprocess.run(argv, input=input, capture_output=True, text=True, env=full_env, timeout=120,
                          cwd=str(ROOT))
