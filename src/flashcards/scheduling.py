"""FSRS scheduling on top of py-fsrs (``fsrs``), with no database access.

A card's scheduling is a :class:`SchedState`. :func:`answer` gives the state after a rating;
:func:`replay` recomputes a state from a baseline and the answers since, which must — and, because
everything here is deterministic, does — give exactly the stored state (the store's columns are a cache).

Fuzz: fsrs's own fuzz draws from the global ``random``; the app wants fuzz that is reproducible (the
interval shown on a button is the one applied, and replay reproduces it), so fsrs runs with fuzz off
and :func:`_fuzzed_days` applies fsrs's fuzz ranges with a generator seeded from the card id and its
review count.
"""

from __future__ import annotations

import _random
import random
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import lru_cache

from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State
from fsrs.scheduler import FUZZ_RANGES

from flashcards.drafts import CardState
from flashcards.options import DeckOptions
from flashcards.timeutil import DAY_MS, from_ms

AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4
RATINGS = (AGAIN, HARD, GOOD, EASY)

_TO_FSRS = {CardState.LEARNING: State.Learning, CardState.REVIEW: State.Review,
            CardState.RELEARNING: State.Relearning}
_FROM_FSRS = {State.Learning: CardState.LEARNING, State.Review: CardState.REVIEW,
              State.Relearning: CardState.RELEARNING}


@dataclass(slots=True)
class SchedState:
    """A card's scheduling: state, learning step, FSRS memory state, due time, counters."""

    state: int = CardState.NEW
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due_ms: int | None = None
    last_review_ms: int | None = None
    reps: int = 0
    lapses: int = 0

    def to_dict(self) -> dict:
        """Compact JSON-ready form (used for baselines and undo records)."""
        return {"state": int(self.state), "step": self.step, "s": self.stability, "d": self.difficulty,
                "due": self.due_ms, "lr": self.last_review_ms, "reps": self.reps, "lapses": self.lapses}

    @classmethod
    def from_dict(cls, d: dict) -> SchedState:
        """Inverse of :meth:`to_dict`."""
        return cls(d["state"], d.get("step"), d.get("s"), d.get("d"), d.get("due"), d.get("lr"),
                   d.get("reps", 0), d.get("lapses", 0))


class _Card(FsrsCard):
    """fsrs's Card with a direct ``__copy__``: ``Scheduler.review_card`` starts with ``copy(card)``,
    which for a plain class goes through ``__reduce_ex__`` and costs about a third of the call. The
    fields (and so the results) are fsrs's own."""

    def __copy__(self) -> _Card:
        c = _new(_Card)
        c.__dict__.update(self.__dict__)
        return c


_new = object.__new__


@lru_cache(maxsize=64)
def _scheduler(params: tuple, retention: float, learning: tuple, relearning: tuple, max_ivl: int) -> Scheduler:
    return Scheduler(
        parameters=params,
        desired_retention=retention,
        learning_steps=tuple(timedelta(minutes=m) for m in learning),
        relearning_steps=tuple(timedelta(minutes=m) for m in relearning),
        maximum_interval=max_ivl,
        enable_fuzzing=False,
    )


def scheduler_for(opts: DeckOptions) -> Scheduler:
    """The (cached) fsrs Scheduler for a deck's options, fuzz off (fuzz is applied here, seeded)."""
    return _scheduler(opts.parameters(), float(opts.desired_retention), tuple(opts.learning_steps),
                      tuple(opts.relearning_steps), int(opts.maximum_interval))


def to_fsrs(s: SchedState, card_id: int, now_ms: int, elapsed_days: int | None = None,
            now=None) -> FsrsCard:
    """The fsrs Card for a state (a new card is fsrs's Learning step 0 with no memory state).

    fsrs counts the time since the last review in whole 24-hour periods; ``elapsed_days`` (study days,
    see :func:`elapsed_study_days`) replaces that count: the card's last review is presented to fsrs
    exactly that many days before ``now_ms``.
    """
    if now is None:
        now = from_ms(now_ms)
    if s.state == CardState.NEW:
        return _Card(card_id=card_id, state=State.Learning, step=0, due=now)
    last = s.last_review_ms
    if last is not None and elapsed_days is not None:
        last = now_ms - max(0, elapsed_days) * DAY_MS
    return _Card(
        card_id=card_id,
        state=_TO_FSRS[s.state],  # (an int finds its IntEnum key)
        step=s.step,
        stability=s.stability,
        difficulty=s.difficulty,
        due=from_ms(s.due_ms) if s.due_ms is not None else now,
        last_review=from_ms(last) if last is not None else None,
    )


def elapsed_study_days(last_review_ms: int | None, now_ms: int, day_of) -> int | None:
    """Study days between the last review and now, by ``day_of`` (ms -> study-day number: the
    collection's rollover hour in local time), as Anki counts them for FSRS. fsrs alone would count
    24-hour periods, so a card reviewed at 9:00 and again at 8:00 two days later would be one day
    old; here it is two. None when there is no last review or no ``day_of``."""
    if last_review_ms is None or day_of is None:
        return None
    return max(0, day_of(now_ms) - day_of(last_review_ms))


_FUZZ_RNG = random.Random()
_SEED = _random.Random.seed
_FUZZ = tuple((r["start"], r["end"], r["factor"]) for r in FUZZ_RANGES)
_RATING = {int(r): r for r in Rating}


def _fuzzed_days(days: int, maximum: int, seed: int) -> int:
    """fsrs's fuzz range for an interval, with a seeded draw instead of the global random."""
    if days < 2.5:
        return days
    delta = 1.0
    d = float(days)
    for start, end, factor in _FUZZ:
        delta += factor * max(min(d, end) - start, 0.0)
    lo = max(2, round(days - delta))
    hi = min(round(days + delta), maximum)
    lo = min(lo, hi)
    # Reseeded per draw: the same as random.Random(seed).random() without a new object (for an int
    # seed, Random.seed only hands it to the C generator's seed, called here directly).
    _SEED(_FUZZ_RNG, seed)
    x = _FUZZ_RNG.random()
    return min(round(x * (hi - lo + 1) + lo), maximum)


def answer(s: SchedState, rating: int, now_ms: int, opts: DeckOptions, card_id: int,
           fuzz: bool = True, elapsed_days: int | None = None) -> SchedState:
    """The state after answering ``rating`` (1-4) at ``now_ms``. Pure and deterministic.

    ``elapsed_days``: study days since the last review (:func:`elapsed_study_days`); None leaves
    fsrs's own count of 24-hour periods.
    """
    sched = scheduler_for(opts)
    now = from_ms(now_ms)
    card = to_fsrs(s, card_id, now_ms, elapsed_days, now)
    new, _log = sched.review_card(card, _RATING[rating], now)
    due_ms = now_ms + round((new.due - now).total_seconds() * 1000)
    if fuzz and new.state == State.Review:
        days = round((due_ms - now_ms) / DAY_MS)
        fuzzed = _fuzzed_days(days, int(opts.maximum_interval), card_id * 1_000_003 + s.reps)
        due_ms = now_ms + fuzzed * DAY_MS
    lapse = 1 if (s.state == CardState.REVIEW and rating == AGAIN) else 0
    return SchedState(
        state=_FROM_FSRS[new.state],
        step=new.step,
        stability=new.stability,
        difficulty=new.difficulty,
        due_ms=due_ms,
        last_review_ms=now_ms,
        reps=s.reps + 1,
        lapses=s.lapses + lapse,
    )


def preview(s: SchedState, now_ms: int, opts: DeckOptions, card_id: int, fuzz: bool = True,
            day_of=None) -> dict[int, int]:
    """Interval in seconds each rating would give (what the answer buttons show)."""
    elapsed = elapsed_study_days(s.last_review_ms, now_ms, day_of)
    return {r: (answer(s, r, now_ms, opts, card_id, fuzz, elapsed).due_ms - now_ms) // 1000 for r in RATINGS}


def replay(baseline: SchedState, answers, opts: DeckOptions, card_id: int, fuzz: bool = True,
           day_of=None) -> SchedState:
    """Apply ``answers`` — an iterable of ``(time_ms, rating)`` in time order — to ``baseline``
    (``day_of`` as for :func:`elapsed_study_days`)."""
    s = replace(baseline)
    for time_ms, rating in answers:
        s = answer(s, rating, time_ms, opts, card_id, fuzz, elapsed_study_days(s.last_review_ms, time_ms, day_of))
    return s


def retrievability(s: SchedState, now_ms: int, opts: DeckOptions, day_of=None) -> float | None:
    """Predicted probability of recall at ``now_ms`` (None for a card with no memory state)."""
    if s.stability is None or s.last_review_ms is None:
        return None
    card = to_fsrs(s, 0, now_ms, elapsed_study_days(s.last_review_ms, now_ms, day_of))
    return scheduler_for(opts).get_card_retrievability(card, from_ms(now_ms))


def format_interval(seconds: float) -> str:
    """Short label for an interval, as on Anki's buttons: <1m, 10m, 3h, 4d, 1.5mo, 2.1y."""
    s = max(0.0, float(seconds))
    if s < 60:
        return "<1m"
    if s < 3600:
        return f"{round(s / 60)}m"
    if s < 86400:
        return f"{round(s / 3600)}h"
    days = s / 86400
    if days < 30:
        return f"{round(days)}d"
    if days < 365:
        return f"{days / 30.44:.1f}mo".replace(".0mo", "mo")
    return f"{days / 365.25:.1f}y".replace(".0y", "y")
