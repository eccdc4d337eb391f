"""Shared fixtures for the core's tests.

* every test runs with a fixed local time zone (``$TZ`` + ``time.tzset()``; the core asks
  :func:`flashcards.timeutil.local_tz`, which reads ``$TZ``), UTC unless a test calls ``set_tz``;
* ``col`` is a freshly opened :class:`~flashcards.collection.Collection` in its own data dir, closed
  afterwards (the peewee database is a module-global deferred ``SqliteDatabase``);
* ``NOW`` is a fixed UTC instant; tests pass ``now`` explicitly everywhere.

Helpers (``add_basic``, ``run_cli``, ``NOW`` ...) live in ``core_helpers.py``. No kivy import here:
the core's tests must run (and prove the core runs) without it.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

import pytest
from core_helpers import NOW


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
