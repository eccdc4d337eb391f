"""flashcards.scheduling: exact FSRS intervals (checked against fsrs itself), seeded fuzz, replay."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import fsrs.scheduler
import pytest
from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State
from hypothesis import given, settings
from hypothesis import strategies as st

from flashcards import scheduling as S
from flashcards.drafts import CardState
from flashcards.errors import FlashcardsError
from flashcards.options import DeckOptions
from flashcards.scheduling import SchedState
from flashcards.timeutil import DAY_MS, to_ms

NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
NOW_MS = to_ms(NOW)
MIN = 60_000

_STATE = {State.Learning: CardState.LEARNING, State.Review: CardState.REVIEW, State.Relearning: CardState.RELEARNING}


def fsrs_scheduler(opts: DeckOptions, fuzz: bool = False) -> Scheduler:
    """An fsrs Scheduler built here, independently of flashcards.scheduling."""
    return Scheduler(
        parameters=tuple(opts.fsrs_parameters) if opts.fsrs_parameters else fsrs.scheduler.DEFAULT_PARAMETERS,
        desired_retention=opts.desired_retention,
        learning_steps=[timedelta(minutes=m) for m in opts.learning_steps],
        relearning_steps=[timedelta(minutes=m) for m in opts.relearning_steps],
        maximum_interval=opts.maximum_interval,
        enable_fuzzing=fuzz,
    )


def run_fsrs(opts: DeckOptions, answers: list[tuple[int, int]], card_id: int = 1) -> FsrsCard:
    sched = fsrs_scheduler(opts)
    card = FsrsCard(card_id=card_id, due=datetime.fromtimestamp(answers[0][0] / 1000, UTC))
    for t, r in answers:
        card, _ = sched.review_card(card, Rating(r), datetime.fromtimestamp(t / 1000, UTC))
    return card


# ---------------------------------------------------------------- literal values (fuzz off)


def test_new_card_button_intervals_literal():
    # FSRS-6 defaults, learning steps 1 m / 10 m: Again 1 m, Hard 5.5 m, Good 10 m, Easy 8 days.
    assert S.preview(SchedState(), NOW_MS, DeckOptions(), card_id=1, fuzz=False) == {
        1: 60, 2: 330, 3: 600, 4: 8 * 86400}


def test_a_learning_path_literal():
    opts = DeckOptions()
    s = S.answer(SchedState(), 3, NOW_MS, opts, 7, fuzz=False)
    assert (s.state, s.step, s.due_ms - NOW_MS, s.reps, s.lapses) == (CardState.LEARNING, 1, 10 * MIN, 1, 0)
    assert s.stability == pytest.approx(2.3065)
    s = S.answer(s, 3, s.due_ms, opts, 7, fuzz=False)
    assert (s.state, s.step, s.due_ms - s.last_review_ms) == (CardState.REVIEW, None, 2 * DAY_MS)
    s = S.answer(s, 3, s.due_ms, opts, 7, fuzz=False)
    assert s.due_ms - s.last_review_ms == 11 * DAY_MS
    assert s.stability == pytest.approx(10.971048263, rel=1e-9)
    s = S.answer(s, 1, s.due_ms, opts, 7, fuzz=False)
    assert (s.state, s.step, s.lapses, s.reps, s.due_ms - s.last_review_ms) == (
        CardState.RELEARNING, 0, 1, 4, 10 * MIN)
    s = S.answer(s, 3, s.due_ms, opts, 7, fuzz=False)
    assert (s.state, s.due_ms - s.last_review_ms, s.lapses) == (CardState.REVIEW, 2 * DAY_MS, 1)


def test_lapse_only_counts_again_on_a_review_card():
    opts = DeckOptions()
    s = S.answer(SchedState(), 1, NOW_MS, opts, 1, fuzz=False)  # Again while learning: no lapse
    assert s.lapses == 0
    s = S.answer(s, 4, s.due_ms, opts, 1, fuzz=False)
    assert s.state == CardState.REVIEW
    s = S.answer(s, 1, s.due_ms, opts, 1, fuzz=False)
    assert s.lapses == 1 and s.state == CardState.RELEARNING
    s = S.answer(s, 1, s.due_ms, opts, 1, fuzz=False)  # Again while relearning: no second lapse
    assert s.lapses == 1


def test_no_learning_steps_goes_straight_to_review():
    opts = DeckOptions(learning_steps=[], relearning_steps=[])
    s = S.answer(SchedState(), 3, NOW_MS, opts, 1, fuzz=False)
    assert s.state == CardState.REVIEW and s.due_ms - NOW_MS == 2 * DAY_MS
    s = S.answer(s, 1, s.due_ms, opts, 1, fuzz=False)
    assert s.state == CardState.REVIEW and s.lapses == 1


# ---------------------------------------------------------------- against fsrs directly

OPTION_SETS = [
    DeckOptions(),
    DeckOptions(desired_retention=0.8, learning_steps=[5.0], relearning_steps=[], maximum_interval=30),
    DeckOptions(desired_retention=0.95, learning_steps=[1.0, 10.0, 60.0], relearning_steps=[10.0, 30.0]),
    DeckOptions(fsrs_parameters=[round(x * 1.05, 4) if i in (0, 1, 2, 3) else x
                                 for i, x in enumerate(fsrs.scheduler.DEFAULT_PARAMETERS)]),
]


@pytest.mark.parametrize("opts", OPTION_SETS, ids=["defaults", "r80-max30", "r95-3steps", "custom-params"])
def test_every_step_equals_fsrs_scheduler(opts):
    rng = random.Random(42)
    s = SchedState()
    t = NOW_MS
    answers = []
    for _ in range(40):
        rating = rng.choice([1, 2, 3, 3, 3, 4])
        answers.append((t, rating))
        s = S.answer(s, rating, t, opts, 5, fuzz=False)
        ref = run_fsrs(opts, answers, card_id=5)
        assert s.state == _STATE[ref.state]
        assert s.step == ref.step
        assert s.stability == ref.stability
        assert s.difficulty == ref.difficulty
        assert s.due_ms == to_ms(ref.due)
        assert s.last_review_ms == t
        # Answer at the due time, sometimes late or early by a random amount.
        t = s.due_ms + rng.choice([0, 0, 1, -1]) * rng.randrange(0, 3 * DAY_MS)
        t = max(t, s.last_review_ms + 1)
    assert s.reps == 40


def test_maximum_interval_is_respected():
    opts = DeckOptions(maximum_interval=5)
    s = SchedState()
    t = NOW_MS
    for _ in range(8):
        s = S.answer(s, 4, t, opts, 3)
        assert s.due_ms - t <= 5 * DAY_MS
        t = s.due_ms


# ---------------------------------------------------------------- fuzz


def test_fuzz_uses_fsrs_formula_with_a_seeded_draw(monkeypatch):
    """Our fuzzed interval is what fsrs's own fuzz gives when its random() returns our seeded draw."""
    opts = DeckOptions()
    for card_id in range(1, 40):
        s = S.answer(SchedState(), 3, NOW_MS, opts, card_id, fuzz=False)
        s = S.answer(s, 3, s.due_ms, opts, card_id, fuzz=False)  # a review card, due in 2 days
        t = s.due_ms
        for rating in (3, 4):
            ours = S.answer(s, rating, t, opts, card_id, fuzz=True)
            draw = random.Random(card_id * 1_000_003 + s.reps).random()
            monkeypatch.setattr(fsrs.scheduler, "random", lambda d=draw: d)
            sched = fsrs_scheduler(opts, fuzz=True)
            ref, _ = sched.review_card(S.to_fsrs(s, card_id, t), Rating(rating), datetime.fromtimestamp(t / 1000, UTC))
            assert ours.due_ms == to_ms(ref.due), (card_id, rating)
            monkeypatch.undo()


def test_fuzz_is_deterministic_varied_and_bounded():
    opts = DeckOptions()
    s = SchedState(state=CardState.REVIEW, stability=40.0, difficulty=5.0, due_ms=NOW_MS,
                   last_review_ms=NOW_MS - 40 * DAY_MS, reps=6)
    plain = (S.answer(s, 3, NOW_MS, opts, 1, fuzz=False).due_ms - NOW_MS) // DAY_MS
    seen = set()
    for card_id in range(1, 200):
        a = S.answer(s, 3, NOW_MS, opts, card_id)
        b = S.answer(s, 3, NOW_MS, opts, card_id)
        assert a == b
        days, rest = divmod(a.due_ms - NOW_MS, DAY_MS)
        assert rest == 0
        assert abs(days - plain) <= max(3, round(plain * 0.15))
        seen.add(days)
    assert len(seen) >= 5  # fuzz actually spreads the load


def test_short_intervals_and_learning_steps_are_not_fuzzed():
    opts = DeckOptions()
    for card_id in range(1, 50):
        assert S.preview(SchedState(), NOW_MS, opts, card_id) == {1: 60, 2: 330, 3: 600, 4: S.preview(
            SchedState(), NOW_MS, opts, card_id)[4]}
        s = S.answer(SchedState(), 3, NOW_MS, opts, card_id)
        assert S.answer(s, 3, s.due_ms, opts, card_id).due_ms - s.due_ms == 2 * DAY_MS  # < 2.5 days


@settings(max_examples=60, deadline=None, derandomize=True, database=None)  # deterministic
@given(
    ratings=st.lists(st.integers(1, 4), min_size=1, max_size=25),
    gaps=st.lists(st.integers(1, 40 * DAY_MS), min_size=25, max_size=25),
    card_id=st.integers(1, 10**9),
    fuzz=st.booleans(),
)
def test_preview_equals_answer_and_replay_equals_answers(ratings, gaps, card_id, fuzz):
    opts = DeckOptions()
    s = SchedState()
    t = NOW_MS
    answers = []
    for rating, gap in zip(ratings, gaps, strict=False):
        shown = S.preview(s, t, opts, card_id, fuzz)
        nxt = S.answer(s, rating, t, opts, card_id, fuzz)
        assert shown[rating] == (nxt.due_ms - t) // 1000
        answers.append((t, rating))
        s = nxt
        t += gap
    assert S.replay(SchedState(), answers, opts, card_id, fuzz) == s


def test_retrievability():
    opts = DeckOptions()
    assert S.retrievability(SchedState(), NOW_MS, opts) is None
    s = SchedState(state=CardState.REVIEW, stability=10.0, difficulty=5.0, due_ms=NOW_MS,
                   last_review_ms=NOW_MS - 10 * DAY_MS, reps=3)
    # FSRS's definition: R(t = S) = desired-retention-independent 0.9.
    assert S.retrievability(s, NOW_MS, opts) == pytest.approx(0.9, abs=1e-9)
    assert S.retrievability(s, NOW_MS + 30 * DAY_MS, opts) < 0.9


def test_state_dict_round_trip():
    s = SchedState(CardState.RELEARNING, 1, 1.5, 7.25, NOW_MS, NOW_MS - 5, 12, 3)
    assert SchedState.from_dict(s.to_dict()) == s
    assert SchedState.from_dict(SchedState().to_dict()) == SchedState()


@pytest.mark.parametrize("seconds,label", [
    (0, "<1m"), (45, "<1m"), (60, "1m"), (330, "6m"), (600, "10m"), (3600, "1h"), (5 * 3600, "5h"),
    (86400, "1d"), (8 * 86400, "8d"), (45 * 86400, "1.5mo"), (60 * 86400, "2mo"), (365 * 86400, "1y"),
    (900 * 86400, "2.5y"),
])
def test_format_interval(seconds, label):
    assert S.format_interval(seconds) == label


# ---------------------------------------------------------------- deck options


def test_deck_options_defaults_and_partial_dicts():
    o = DeckOptions.from_dict({"new_per_day": 5, "unknown_key": 1})
    assert o.new_per_day == 5 and o.reviews_per_day == 200 and o.leech_threshold == 8
    assert o.leech_action == "tag" and o.bury_siblings is True and o.learning_steps == [1.0, 10.0]
    assert o.parameters() == tuple(fsrs.scheduler.DEFAULT_PARAMETERS)
    assert DeckOptions.from_dict(o.to_dict()) == o


@pytest.mark.parametrize("change,words", [
    ({"desired_retention": 0.5}, "desired retention"),
    ({"new_per_day": -1}, "new per day"),
    ({"reviews_per_day": 1.5}, "reviews per day"),
    ({"learning_steps": [0]}, "learning steps"),
    ({"relearning_steps": "10"}, "relearning steps"),
    ({"maximum_interval": 0}, "maximum interval"),
    ({"leech_threshold": 0}, "leech threshold"),
    ({"leech_action": "delete"}, "leech action"),
    ({"fsrs_parameters": [1.0, 2.0]}, "FSRS parameters"),
])
def test_deck_options_validation(change, words):
    with pytest.raises(FlashcardsError, match=words):
        DeckOptions.from_dict({**DeckOptions().to_dict(), **change}).validated()


@settings(max_examples=300, deadline=None, derandomize=True, database=None)  # deterministic
@given(
    stability=st.floats(0.1, 3000), difficulty=st.floats(1, 10), elapsed_days=st.integers(0, 3000),
    reps=st.integers(1, 50), card_id=st.integers(1, 10**12), relearning=st.booleans(),
)
def test_buttons_are_ordered_again_hard_good_easy(stability, difficulty, elapsed_days, reps, card_id, relearning):
    """With the fuzz draw seeded per card and review (the same draw for every button), fuzz never
    makes Hard longer than Good or Good longer than Easy."""
    s = SchedState(state=CardState.RELEARNING if relearning else CardState.REVIEW, step=0 if relearning else None,
                   stability=stability, difficulty=difficulty, due_ms=NOW_MS,
                   last_review_ms=NOW_MS - elapsed_days * DAY_MS, reps=reps, lapses=1 if relearning else 0)
    ivl = S.preview(s, NOW_MS, DeckOptions(), card_id)
    assert ivl[1] <= ivl[2] <= ivl[3] <= ivl[4]


def test_elapsed_time_is_counted_in_study_days_as_anki_does():
    """fsrs alone counts whole 24-hour periods: a card last seen at 9:00 and answered at 8:00 two days
    later would be one day old. In study days (rollover 4:00, UTC here) it is two, and 23:00 -> 5:00
    the next morning is one day, not a same-day review."""
    opts = DeckOptions(learning_steps=[], relearning_steps=[])
    sched = fsrs_scheduler(opts)
    day_of = lambda ms: (ms - 4 * 3600_000) // DAY_MS  # noqa: E731 — study days with a 4:00 rollover in UTC
    seen = datetime(2026, 3, 10, 9, tzinfo=UTC)
    s = SchedState(CardState.REVIEW, None, 5.0, 6.0, to_ms(seen) + 5 * DAY_MS, to_ms(seen), 3, 0)
    later = seen + timedelta(days=2, hours=-1)  # 8:00, two study days on
    assert S.elapsed_study_days(s.last_review_ms, to_ms(later), day_of) == 2
    got = S.answer(s, 3, to_ms(later), opts, 1, fuzz=False, elapsed_days=2)
    as_two_days = FsrsCard(card_id=1, state=State.Review, stability=5.0, difficulty=6.0,
                           due=seen + timedelta(days=5), last_review=later - timedelta(days=2))
    want, _ = sched.review_card(as_two_days, Rating.Good, later)
    assert (got.stability, got.difficulty) == (want.stability, want.difficulty)
    raw, _ = sched.review_card(FsrsCard(card_id=1, state=State.Review, stability=5.0, difficulty=6.0,
                                        due=seen + timedelta(days=5), last_review=seen), Rating.Good, later)
    assert got.stability > raw.stability  # one day older: a bigger step up
    # replay and preview use the same count
    assert S.replay(SchedState(CardState.REVIEW, None, 5.0, 6.0, None, to_ms(seen), 3, 0), [(to_ms(later), 3)],
                    opts, 1, fuzz=False, day_of=day_of).stability == got.stability
    assert S.preview(s, to_ms(later), opts, 1, fuzz=False, day_of=day_of)[3] == (got.due_ms - to_ms(later)) // 1000
    night, morning = datetime(2026, 3, 12, 23, tzinfo=UTC), datetime(2026, 3, 13, 5, tzinfo=UTC)
    assert S.elapsed_study_days(to_ms(night), to_ms(morning), day_of) == 1
    assert S.elapsed_study_days(to_ms(morning), to_ms(morning + timedelta(hours=22)), day_of) == 0
    assert S.elapsed_study_days(None, to_ms(morning), day_of) is None


def test_the_study_session_counts_study_days(tmp_path):
    """Answering through the app uses the collection's study days (rollover 4:00 here, UTC)."""
    from flashcards.collection import Collection

    col = Collection.open(tmp_path / "data")
    try:
        did = col.deck_id("D", create=True)
        col.set_deck_options(did, DeckOptions(learning_steps=[], relearning_steps=[]))
        col.add_note("Basic", ["q", "a"], deck_id=did, now=NOW)
        cid = col._sql("SELECT id FROM card").fetchone()[0]
        seen = datetime(2026, 3, 10, 9, tzinfo=UTC)
        col.study(did).answer(cid, 3, seen)  # straight to review (no steps)
        s0 = col.card_columns(cid)
        later = seen + timedelta(days=2, hours=-1)
        after = col.study(did).answer(cid, 3, later)
        before = SchedState(s0["state"], s0["step"], s0["stability"], s0["difficulty"], s0["due_ms"],
                            s0["last_review_ms"], s0["reps"], s0["lapses"])
        assert after == S.answer(before, 3, to_ms(later), col.deck_options(did), cid, elapsed_days=2)
        assert after != S.answer(before, 3, to_ms(later), col.deck_options(did), cid)  # fsrs's own count: 1 day
        assert col.replayed_state(cid) == after
    finally:
        col.close()
