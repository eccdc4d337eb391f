"""Helpers shared by the core's tests (a uniquely named module: ``tests/ui`` has its own conftest.py,
so ``from conftest import ...`` would be ambiguous).

No kivy import here.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"

# A fixed instant: Tuesday 10 March 2026, 12:00 UTC (after the US DST change of 8 March, before the
# EU one of 29 March).
NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)


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


SYNTH_START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def synthetic_history(params, n_cards: int, seed: int, key0: int = 0):
    """Reviews of a learner whose memory follows FSRS with ``params``: recall is drawn with the model's
    retrievability; each next review comes at 0.4-2.5x the model's interval (so elapsed times vary)."""
    import random

    from fsrs import Card, Rating, Scheduler

    rng = random.Random(seed)
    sched = Scheduler(parameters=params, enable_fuzzing=False)
    out = []
    for c in range(n_cards):
        card = Card(card_id=key0 + c + 1, due=SYNTH_START)
        t = SYNTH_START + timedelta(days=c // 20, minutes=c % 20)
        for _ in range(8):
            if card.last_review is None:
                rating = rng.choices([1, 2, 3, 4], [0.25, 0.05, 0.6, 0.1])[0]
            elif rng.random() < sched.get_card_retrievability(card, t):
                rating = rng.choices([2, 3, 4], [0.1, 0.8, 0.1])[0]
            else:
                rating = 1
            card, _ = sched.review_card(card, Rating(rating), t)
            out.append((key0 + c, t, rating))
            t = t + max((card.due - t) * rng.uniform(0.4, 2.5), timedelta(minutes=1))
    return out
