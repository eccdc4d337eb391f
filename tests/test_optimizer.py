"""flashcards.optimizer: training items, fitting (fsrs-rs), bounds, the missing-extra path, schedule
changes, the retention advisor, and storing a fit in a collection (rescheduling = replaying history)."""

from __future__ import annotations

import io
import math
import os
import shutil
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from core_helpers import synthetic_history
from fsrs import Card, Rating, Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

from flashcards import optimizer
from flashcards.errors import FlashcardsError, OptionalFeatureMissing

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)

# "Known parameters" for synthetic learners: clearly not the defaults (higher initial stabilities,
# a steeper forgetting curve), all within FSRS's bounds.
TRUE = list(DEFAULT_PARAMETERS)
TRUE[0:4] = [0.8, 2.5, 6.0, 20.0]
TRUE[8] = 1.3
TRUE[20] = 0.45
TRUE = tuple(TRUE)




@pytest.fixture
def no_extra(monkeypatch):
    """Make ``import fsrs_rs_python`` fail, as on the phone."""
    monkeypatch.setitem(sys.modules, "fsrs_rs_python", None)


# ------------------------------------------------------------------ training items


def test_training_sequences_by_study_day_with_rollover():
    reviews = [
        ("a", START, 1),                                  # day 0, 09:00
        ("a", START + timedelta(minutes=10), 3),          # day 0 again: no item
        ("a", START + timedelta(hours=18), 3),            # 03:00 next morning: still day 0 (rollover 4)
        ("a", START + timedelta(hours=20), 3),            # 05:00: day 1 -> item
        ("a", START + 3 * DAY, 1),                        # day 3 -> item
        ("b", START + DAY, 3),                            # one review only: no item
    ]
    assert optimizer.training_sequences(reviews) == [
        ((1, 0), (3, 0), (3, 0), (3, 1)),
        ((1, 0), (3, 0), (3, 0), (3, 1), (1, 2)),
    ]
    assert optimizer.count_training_items(reviews) == 2


def test_group_histories_sorts_converts_and_validates():
    ms = int((START + DAY).timestamp() * 1000)
    hist = optimizer.group_histories([(7, ms, 3), (7, START, 1)])
    assert hist == {7: [(START, 1), (START + DAY, 3)]}
    assert hist[7][1][0].tzinfo is UTC
    with pytest.raises(ValueError, match="not 1-4"):
        optimizer.group_histories([(7, START, 5)])
    with pytest.raises(ValueError, match="naive"):
        optimizer.group_histories([(7, datetime(2025, 1, 1), 3)])


def test_every_training_item_has_a_review_a_day_after_the_previous():
    items = optimizer.training_sequences(synthetic_history(TRUE, 40, seed=3))
    assert items
    assert all(seq[-1][1] > 0 and seq[0][1] == 0 for seq in items)


# ------------------------------------------------------------------ fitting


def test_fit_on_synthetic_history_improves_log_loss_and_stays_in_bounds():
    train = synthetic_history(TRUE, 200, seed=1)
    held_out = synthetic_history(TRUE, 300, seed=2, key0=10_000)
    result = optimizer.fit_parameters(train, min_items=100)
    assert result.fitted and result.n_items == optimizer.count_training_items(train)
    assert len(result.parameters) == 21
    assert all(lo <= x <= hi for x, lo, hi in
               zip(result.parameters, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=True))
    Scheduler(parameters=result.parameters)  # py-fsrs accepts them
    defaults = optimizer.evaluate(held_out, DEFAULT_PARAMETERS).log_loss
    fitted = optimizer.evaluate(held_out, result.parameters).log_loss
    truth = optimizer.evaluate(held_out, TRUE).log_loss
    assert fitted < defaults - 0.005
    assert fitted - truth < defaults - fitted  # most of the way from the defaults to the truth


def test_rust_returning_its_defaults_is_not_a_fit():
    reviews = synthetic_history(TRUE, 20, seed=4)  # ~100 items: under fsrs-rs's own minimum
    result = optimizer.fit_parameters(reviews, current=TRUE, min_items=0)
    assert not result.fitted and result.parameters == TRUE
    assert result.message.endswith("too little usable history and returned its defaults")


def test_below_minimum_keeps_current_without_needing_the_extra(no_extra):
    reviews = synthetic_history(TRUE, 20, seed=4)
    current = list(TRUE)
    result = optimizer.fit_parameters(reviews, current=current, min_items=1000)
    assert not result.fitted
    assert result.parameters == result.previous == TRUE
    assert result.n_reviews == 160 and result.n_cards == 20
    assert "fitting needs at least 1000" in result.message
    assert f"kept the current parameters: {result.n_items} reviews" in result.message


def test_missing_extra_gives_the_desktop_message(no_extra):
    reviews = synthetic_history(TRUE, 20, seed=4)
    assert not optimizer.optimizer_available()
    with pytest.raises(OptionalFeatureMissing) as info:
        optimizer.fit_parameters(reviews, min_items=0)
    assert str(info.value) == "fitting runs on the desktop: pip install 'flashcards[optimizer]'"
    with pytest.raises(OptionalFeatureMissing, match="fitting runs on the desktop"):
        optimizer.advise_retention(TRUE, deck_size=100, new_per_day=10)


def test_item_without_long_term_review_is_refused_before_rust():
    with pytest.raises(ValueError, match="at least a day"):
        optimizer.fit_sequences([((3, 0), (3, 0))])


class _FakeRust:
    """Stands in for fsrs_rs_python to raise what the real one raises."""

    def __init__(self, exc):
        self.exc = exc

    def FSRSItem(self, reviews):  # noqa: N802 (mirrors the real class name)
        return reviews

    def FSRSReview(self, rating, delta):  # noqa: N802
        return (rating, delta)

    def FSRS(self, params):  # noqa: N802
        exc = self.exc

        class Model:
            def compute_parameters(self, items):
                raise exc

        return Model()


def _panic(message: str) -> BaseException:
    # pyo3's PanicException derives from BaseException and lives in the unimportable pyo3_runtime
    cls = type("PanicException", (BaseException,), {"__module__": "pyo3_runtime"})
    return cls(message)


def test_rust_panic_becomes_a_flashcards_error(monkeypatch):
    monkeypatch.setattr(optimizer, "_rust", lambda: _FakeRust(_panic("Invalid FSRS item")))
    with pytest.raises(FlashcardsError, match="the FSRS optimizer failed on this history: Invalid FSRS item"):
        optimizer.fit_sequences([((3, 0), (3, 1))])


def test_other_base_exceptions_pass_through(monkeypatch):
    monkeypatch.setattr(optimizer, "_rust", lambda: _FakeRust(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        optimizer.fit_sequences([((3, 0), (3, 1))])


def test_clamp_parameters_rounds_and_clamps_float32_overshoot():
    raw = list(DEFAULT_PARAMETERS)
    raw[19] = 0.800000011920929  # float32 0.8: just above py-fsrs's upper bound
    raw[7] = 0.0009999          # below the lower bound 0.001
    raw[0] = 0.16859225928783417
    out = optimizer.clamp_parameters(raw)
    assert out[19] == 0.8 and out[7] == 0.001 and out[0] == 0.168592
    with pytest.raises(FlashcardsError, match="FSRS-6 has 21"):
        optimizer.clamp_parameters(raw[:19])


# ------------------------------------------------------------------ predictions


def test_predict_hand_computed_retrievability():
    reviews = [(1, START, 3), (1, START + timedelta(hours=1), 3), (1, START + 2 * DAY + timedelta(hours=3), 1),
               (1, START + 2 * DAY + timedelta(hours=5), 3), (1, START + 5 * DAY, 3)]
    preds = optimizer.predict(reviews, DEFAULT_PARAMETERS)
    assert [(p.index, p.elapsed_days, p.review_number, p.lapses, p.label) for p in preds] == [
        (2, 2, 2, 0, 0), (4, 2, 3, 1, 1)]
    # first prediction by hand: S after Good then a same-day Good, FSRS-6's curve with decay w20
    w = DEFAULT_PARAMETERS
    s = w[2] * max(1.0, math.exp(w[17] * (3 - 3 + w[18])) * w[2] ** -w[19])
    decay = -w[20]
    factor = 0.9 ** (1 / decay) - 1
    assert preds[0].retrievability == pytest.approx((1 + factor * 2 / s) ** decay, rel=1e-12)


# ------------------------------------------------------------------ schedule changes


def test_summarize_changes_counts_moved_days_and_mean_intervals():
    s = optimizer.Scheduled
    before = {1: s(START + 3 * DAY, 3.0), 2: s(START + 10 * DAY, 10.0), 3: s(START + timedelta(minutes=10), None),
              4: s(START + 5 * DAY, 5.0)}
    after = {1: s(START + 3 * DAY + timedelta(hours=2), 3.0),  # same study day
             2: s(START + 6 * DAY, 6.0), 3: s(START + timedelta(minutes=10), None), 4: s(START + 9 * DAY, 9.0)}
    ch = optimizer.summarize_changes(before, after, tz=UTC)
    assert (ch.cards, ch.due_moved, ch.earlier, ch.later) == (4, 2, 1, 1)
    assert ch.mean_interval_before == pytest.approx(6.0) and ch.mean_interval_after == pytest.approx(6.0)


# ------------------------------------------------------------------ retention advisor


def _point(r, minutes, memorized):
    return optimizer.RetentionPoint(r, 0.0, minutes, memorized, minutes * 60 / memorized)


def test_knee_is_the_largest_normalised_gain_over_cost():
    pts = [_point(0.70, 10, 900), _point(0.80, 12, 1000), _point(0.90, 16, 1060), _point(0.97, 40, 1100)]
    # normalised memorised - cost: 0, 0.5-0.0667, 0.8-0.2, 1-1 -> 0.90
    assert optimizer.knee(pts) == 0.90


def test_advise_retention_curve_and_recommendation():
    reviews = synthetic_history(TRUE, 150, seed=5)
    advice = optimizer.advise_retention(TRUE, deck_size=300, new_per_day=10, days=90, reviews=reviews,
                                        retentions=(0.70, 0.80, 0.90, 0.97), seeds=(1,))
    assert [p.desired_retention for p in advice.points] == [0.70, 0.80, 0.90, 0.97]
    workload = [p.reviews_per_day for p in advice.points]
    assert workload == sorted(workload) and workload[-1] > 1.5 * workload[0]
    assert advice.recommended in (0.70, 0.80, 0.90, 0.97)
    assert advice.recommended == optimizer.knee(advice.points)
    assert "first answers: your own rating mix" in advice.notes
    with pytest.raises(FlashcardsError, match="needs a deck with cards"):
        optimizer.advise_retention(TRUE, deck_size=0, new_per_day=10)


def test_advise_retention_scales_large_decks_down():
    advice = optimizer.advise_retention(DEFAULT_PARAMETERS, deck_size=20_000, new_per_day=100, days=60,
                                        retentions=(0.8, 0.9), seeds=(1,), max_simulated_cards=1500)
    assert advice.scale == pytest.approx(6000 / 1500)
    assert 3000 < advice.points[0].memorized < 6000  # scaled back up to ~6000 introduced cards


# ------------------------------------------------------------------ a collection


def _study_synthetic(col, deck_name: str, n_cards: int, seed: int) -> list[int]:
    """Add ``n_cards`` notes to a new deck and answer them as the synthetic learner did, through the
    study session (so the review log and the card columns are what the app writes)."""
    did = col.add_deck(deck_name)
    for i in range(n_cards):
        col.add_note("Basic", [f"q{deck_name}{i}", f"a{i}"], deck_id=did, now=START - DAY)
    card_ids = sorted(r.card_id for r in col.search(deck=deck_name))
    history = synthetic_history(TRUE, n_cards, seed)
    session = col.study(did)
    for key, t, rating in sorted(history, key=lambda r: r[1]):
        session.answer(card_ids[key], rating, now=t)
    return card_ids


@pytest.fixture(scope="module")
def studied_template(tmp_path_factory):
    """A data dir with deck "Syn" (80 studied cards, ~400 training items: enough for fsrs-rs) and deck
    "Other" (5 cards), built once; tests get a copy (640 durable answers take a few seconds)."""
    from flashcards.collection import Collection

    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        path = tmp_path_factory.mktemp("studied") / "data"
        with Collection.open(path) as c:
            _study_synthetic(c, "Syn", 80, seed=7)
            _study_synthetic(c, "Other", 5, seed=8)
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()
    return path


@pytest.fixture
def studied(studied_template, tmp_path):
    """A fresh copy of the studied data dir."""
    dest = tmp_path / "data"
    shutil.copytree(studied_template, dest)
    return dest


@pytest.fixture
def scol(studied):
    """The studied collection, open."""
    from flashcards.collection import Collection

    c = Collection.open(studied)
    yield c
    c.close()


def test_storing_a_fit_reschedules_each_card_as_replaying_its_history(scol):
    from flashcards.scheduling import SchedState, replay

    col = scol
    card_ids = sorted(r.card_id for r in col.search(deck="Syn"))
    other = sorted(r.card_id for r in col.search(deck="Other"))
    log_before = {cid: col.card_info(cid).reviews for cid in card_ids}
    other_before = [col.card_columns(c) for c in other]
    plan = optimizer.plan_optimization(col, "Syn", min_items=50, tz=UTC)
    assert plan.fit.fitted and plan.fit.parameters != tuple(DEFAULT_PARAMETERS)
    assert plan.change is not None and plan.change.cards == 80 and plan.change.due_moved > 0
    assert plan.evaluation_after.log_loss < plan.evaluation_before.log_loss  # in-sample

    assert optimizer.apply_optimization(col, plan) == 80
    did = col.deck_id("Syn")
    opts = col.deck_options(did)
    assert tuple(opts.fsrs_parameters) == plan.fit.parameters
    fsrs_sched = Scheduler(parameters=plan.fit.parameters, enable_fuzzing=False)
    moved = 0
    for cid in card_ids:
        c = col.card_columns(cid)
        stored = SchedState(c["state"], c["step"], c["stability"], c["difficulty"], c["due_ms"],
                            c["last_review_ms"], c["reps"], c["lapses"])
        answers = col.card_answers(cid)
        assert stored == replay(SchedState(), answers, opts, cid, day_of=col.day_of())
        # independent of the store: py-fsrs replaying the same answers, each seen by fsrs as made a whole
        # number of study days after the previous one (what the store counts), gives the same memory state
        day_of = col.day_of()
        card, last = Card(card_id=cid, due=datetime.fromtimestamp(answers[0][0] / 1000, tz=UTC)), None
        for t, r in answers:
            when = datetime.fromtimestamp(t / 1000, tz=UTC)
            if last is not None:
                card.last_review = when - timedelta(days=day_of(t) - day_of(last))
            card, _ = fsrs_sched.review_card(card, Rating(r), when)
            last = t
        assert (stored.stability, stored.difficulty) == pytest.approx((card.stability, card.difficulty), rel=1e-12)
        assert col.card_info(cid).reviews == log_before[cid]  # review log untouched
        moved += 1
    assert moved == 80
    assert [col.card_columns(c) for c in other] == other_before  # other decks untouched
    assert col.check()["cards_repaired"] == 0


def test_too_little_history_is_not_stored(col):
    _study_synthetic(col, "Small", 5, seed=9)
    plan = optimizer.plan_optimization(col, "Small", tz=UTC)
    assert not plan.fit.fitted and plan.change is None
    assert f"fitting needs at least {optimizer.MIN_TRAINING_ITEMS}" in plan.fit.message
    with pytest.raises(FlashcardsError, match="nothing to store"):
        optimizer.apply_optimization(col, plan)


def test_cli_optimize_shows_and_stores_with_yes(studied, monkeypatch, capsys):
    from flashcards.cli import main
    from flashcards.collection import Collection

    data = studied
    monkeypatch.setattr(optimizer, "MIN_TRAINING_ITEMS", 50)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a tty: no question asked
    assert main(["optimize", "--data-dir", str(data), "--deck", "Syn"]) == 0
    out = capsys.readouterr().out
    assert "w20 forgetting curve decay" in out and "Due dates:" in out and "log loss" in out
    assert "Not stored. (Use --yes to store without asking.)" in out
    with Collection.open(data) as c:
        assert c.deck_options(c.deck_id("Syn")).fsrs_parameters is None
    assert main(["optimize", "--data-dir", str(data), "--deck", "Syn", "--yes"]) == 0
    assert "Stored; 80 cards rescheduled from their history." in capsys.readouterr().out
    with Collection.open(data) as c:
        assert c.deck_options(c.deck_id("Syn")).fsrs_parameters is not None
    sys.stdin.close()


def test_cli_optimize_below_minimum_says_so(tmp_path, capsys):
    from flashcards.cli import main
    from flashcards.collection import Collection

    data = tmp_path / "data"
    with Collection.open(data) as c:
        _study_synthetic(c, "Syn", 3, seed=7)
    assert main(["optimize", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "Kept the current parameters" in out and f"fitting needs at least {optimizer.MIN_TRAINING_ITEMS}" in out


def test_cli_optimize_unknown_deck(tmp_path, capsys):
    from flashcards.cli import main

    assert main(["optimize", "--data-dir", str(tmp_path / "d"), "--deck", "Nope"]) == 1
    assert "no deck named 'Nope'" in capsys.readouterr().err


def test_cli_phone_path_message(studied, monkeypatch, capsys, no_extra):
    from flashcards.cli import main

    monkeypatch.setattr(optimizer, "MIN_TRAINING_ITEMS", 10)
    assert main(["optimize", "--data-dir", str(studied), "--yes"]) == 1
    assert capsys.readouterr().err.strip() == (
        "flashcards: fitting runs on the desktop: pip install 'flashcards[optimizer]'")


def test_replace_keeps_other_options(scol):
    # storing parameters must not reset the deck's other options
    col = scol
    did = col.deck_id("Syn")
    col.set_deck_options(did, replace(col.deck_options(did), new_per_day=7, desired_retention=0.85))
    plan = optimizer.plan_optimization(col, "Syn", min_items=50, tz=UTC)
    optimizer.apply_optimization(col, plan)
    opts = col.deck_options(did)
    assert (opts.new_per_day, opts.desired_retention) == (7, 0.85)


def test_deck_retention_advice_uses_the_deck(scol):
    did = scol.deck_id("Syn")
    scol.set_deck_options(did, replace(scol.deck_options(did), new_per_day=4))
    advice = optimizer.deck_retention_advice(scol, "Syn", days=60, retentions=(0.8, 0.9), seeds=(1,))
    assert (advice.deck_size, advice.new_per_day, advice.days) == (80, 4, 60)
    assert [p.desired_retention for p in advice.points] == [0.8, 0.9]
    assert "first answers: your own rating mix" not in advice.notes  # 80 first answers: under 100
    assert "review answers: your own Hard/Good/Easy mix" in advice.notes
