"""Personal FSRS parameters: fitting them to a learner's review history, measuring how well a set of
parameters predicts that history, and advising a desired retention.

Everything here works on plain review sequences — ``(card_key, time, rating)`` with ``time`` a UTC
``datetime`` or epoch milliseconds and ``rating`` 1-4 — so it needs no database; the store reads a deck's
review log and writes fitted parameters back.

Fitting uses ``fsrs-rs-python`` (FSRS's Rust optimizer), an optional extra that has no wheel for the
phone: it is imported only when needed, and its absence raises
:class:`~flashcards.errors.OptionalFeatureMissing` with words fit to show the user.

Scoring follows srs-benchmark's method: a review is predicted when its card has an earlier review at
least one whole 24-hour period before it; the prediction is py-fsrs's retrievability just before the
review, and the label is 0 for Again, 1 otherwise.
"""

from __future__ import annotations

import math
import time as _time
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from fsrs import Card, Rating, Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

from flashcards.errors import FlashcardsError, OptionalFeatureMissing
from flashcards.timeutil import from_ms, study_day

MISSING_MESSAGE = "fitting runs on the desktop: pip install 'flashcards[optimizer]'"

# Below this many training items (reviews at least one study day after the card's previous review)
# the current parameters are kept. Measured on the shared real log (12,580 reviews, one learner):
# fits on its first 64-1,000 such items predicted the later reviews *worse* than the defaults (log
# loss 0.456-0.578 against the defaults' 0.445-0.457); at 1,300 the two were even (0.4415 / 0.4404)
# and from 1,600 on the fit won (0.4254 / 0.4342). Until then the defaults, fitted to 10k Anki users,
# are the better guess.
MIN_TRAINING_ITEMS = 1500

# The usual day rollover: reviews before 4 am count for the previous day.
ROLLOVER_HOUR = 4

RETENTION_GRID = tuple(round(0.70 + 0.01 * i, 2) for i in range(28))  # 0.70 ... 0.97

Review = tuple[Hashable, datetime | int, int]


# --------------------------------------------------------------------------------------------------
# the optional Rust optimizer


def _rust():
    """The ``fsrs_rs_python`` module, or OptionalFeatureMissing where it is not installed."""
    try:
        import fsrs_rs_python
    except ImportError as exc:  # the phone build has no Rust wheel
        raise OptionalFeatureMissing(MISSING_MESSAGE) from exc
    return fsrs_rs_python


def optimizer_available() -> bool:
    """True where parameters can be fitted here (the ``optimizer`` extra is installed)."""
    try:
        _rust()
    except OptionalFeatureMissing:
        return False
    return True


def _is_rust_panic(exc: BaseException) -> bool:
    # pyo3 raises PanicException, a BaseException subclass from a module that cannot be imported.
    cls = type(exc)
    return cls.__name__ == "PanicException" and cls.__module__ == "pyo3_runtime"


# --------------------------------------------------------------------------------------------------
# review histories


def _as_utc(t: datetime | int) -> datetime:
    if isinstance(t, datetime):
        if t.tzinfo is None:
            raise ValueError("naive datetime in review history: pass timezone-aware UTC times")
        return t if t.tzinfo is UTC else t.astimezone(UTC)
    return from_ms(int(t))


def group_histories(reviews: Iterable[Review]) -> dict[Hashable, list[tuple[datetime, int]]]:
    """Reviews grouped by card key, each card's ``(time, rating)`` list in time order.

    Times become UTC datetimes (fsrs accepts only ``timezone.utc``); ratings must be 1-4.
    """
    cards: dict[Hashable, list[tuple[datetime, int]]] = defaultdict(list)
    for key, t, rating in reviews:
        rating = int(rating)
        if not 1 <= rating <= 4:
            raise ValueError(f"rating {rating} for card {key!r} is not 1-4")
        cards[key].append((_as_utc(t), rating))
    for history in cards.values():
        history.sort(key=lambda r: r[0])  # stable: same-instant reviews keep their given order
    return dict(cards)


def training_sequences(
    reviews: Iterable[Review], *, rollover_hour: int = ROLLOVER_HOUR, tz: tzinfo | None = UTC
) -> list[tuple[tuple[int, int], ...]]:
    """The training items fsrs-rs learns from, as ``((rating, delta_days), ...)`` tuples.

    For each card, one item per review that falls on a later study day than the card's previous
    review: the card's reviews up to and including it, with ``delta_days`` the study days since the
    previous review (0 for the first). Study days start at ``rollover_hour`` in ``tz``. Every item
    therefore ends with, and contains, a review a day or more after the previous one — fsrs-rs panics
    on an item without one.
    """
    items: list[tuple[tuple[int, int], ...]] = []
    for history in group_histories(reviews).values():
        days = [study_day(t, rollover_hour, tz).toordinal() for t, _ in history]
        seq: list[tuple[int, int]] = []
        previous = days[0]
        for day, (_, rating) in zip(days, history, strict=True):
            delta = day - previous
            seq.append((rating, delta))
            if delta > 0:
                items.append(tuple(seq))
            previous = day
    return items


def count_training_items(reviews: Iterable[Review], *, rollover_hour: int = ROLLOVER_HOUR,
                         tz: tzinfo | None = UTC) -> int:
    """How many reviews came at least a study day after their card's previous review."""
    return len(training_sequences(reviews, rollover_hour=rollover_hour, tz=tz))


# --------------------------------------------------------------------------------------------------
# fitting


def clamp_parameters(parameters: Sequence[float]) -> tuple[float, ...]:
    """Parameters rounded to 6 decimals and clamped into py-fsrs's bounds.

    fsrs-rs works in float32, so a value at a bound (0.8, say) can come back a hair outside it, which
    py-fsrs's Scheduler refuses.
    """
    if len(parameters) != len(DEFAULT_PARAMETERS):
        raise FlashcardsError(
            f"the optimizer returned {len(parameters)} parameters; FSRS-6 has {len(DEFAULT_PARAMETERS)}")
    return tuple(
        min(max(round(float(x), 6), lo), hi)
        for x, lo, hi in zip(parameters, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=True)
    )


def fit_sequences(sequences: Sequence[Sequence[tuple[int, int]]]) -> tuple[float, ...]:
    """Fit FSRS-6 parameters to training items (see :func:`training_sequences`) with fsrs-rs.

    No minimum here (fsrs-rs returns its defaults for very little data); :func:`fit_parameters` applies
    the app's threshold. Raises OptionalFeatureMissing without the extra, FlashcardsError if fsrs-rs fails.
    """
    rs = _rust()
    items = []
    for seq in sequences:
        if not any(delta > 0 for _, delta in seq) or seq[-1][1] <= 0:
            raise ValueError("a training item needs a last review at least a day after the previous one")
        items.append(rs.FSRSItem([rs.FSRSReview(int(r), int(d)) for r, d in seq]))
    try:
        fitted = rs.FSRS([]).compute_parameters(items)
    except BaseException as exc:  # a Rust panic is a BaseException; anything else goes on up
        if not _is_rust_panic(exc):
            raise
        raise FlashcardsError(f"the FSRS optimizer failed on this history: {exc}") from exc
    return clamp_parameters(fitted)


@dataclass(frozen=True)
class FitResult:
    """What :func:`fit_parameters` did.

    ``parameters`` are the ones to use: fitted when ``fitted`` is True, else ``previous`` unchanged
    (``message`` says why). Counts describe the history it was given.
    """

    parameters: tuple[float, ...]
    previous: tuple[float, ...]
    fitted: bool
    n_reviews: int
    n_cards: int
    n_items: int
    min_items: int
    seconds: float
    message: str


def fit_parameters(
    reviews: Iterable[Review],
    *,
    current: Sequence[float] | None = None,
    min_items: int = MIN_TRAINING_ITEMS,
    rollover_hour: int = ROLLOVER_HOUR,
    tz: tzinfo | None = UTC,
) -> FitResult:
    """Fit FSRS-6 parameters to a review history, or keep ``current`` when there is too little of it.

    ``current`` defaults to fsrs's defaults. With fewer than ``min_items`` reviews a study day or more
    after their card's previous review, nothing is fitted (and fsrs-rs is not needed).
    """
    reviews = list(reviews)
    previous = tuple(current) if current else tuple(DEFAULT_PARAMETERS)
    sequences = training_sequences(reviews, rollover_hour=rollover_hour, tz=tz)
    n_cards = len({r[0] for r in reviews})
    if len(sequences) < min_items:
        return FitResult(previous, previous, False, len(reviews), n_cards, len(sequences), min_items, 0.0,
                         f"kept the current parameters: {len(sequences)} reviews came a day or more after "
                         f"the card's previous review; fitting needs at least {min_items}")
    start = _time.perf_counter()
    fitted = fit_sequences(sequences)
    seconds = _time.perf_counter() - start
    if fitted == tuple(DEFAULT_PARAMETERS):
        # fsrs-rs hands back its defaults when too little of the history is usable for it (its own
        # minimum; reachable here when min_items is lowered): that is not a fit
        return FitResult(previous, previous, False, len(reviews), n_cards, len(sequences), min_items, seconds,
                         "kept the current parameters: the optimizer found too little usable history "
                         "and returned its defaults")
    return FitResult(fitted, previous, True, len(reviews), n_cards, len(sequences), min_items, seconds,
                     f"fitted to {len(reviews)} reviews of {n_cards} cards ({len(sequences)} a day or more "
                     f"after the previous review) in {seconds:.2f} s")


# --------------------------------------------------------------------------------------------------
# predictions and metrics


@dataclass(frozen=True, slots=True)
class Prediction:
    """One scored review: the card, its position in the card's history, and what was predicted.

    ``review_number`` is 1 + the card's scored reviews up to and including this one, ``lapses`` the
    card's earlier scored Again answers, ``elapsed_days`` the whole days since its previous review.
    """

    card: Hashable
    index: int
    time: datetime
    rating: int
    retrievability: float
    elapsed_days: int
    review_number: int
    lapses: int

    @property
    def label(self) -> int:
        """1 when recalled (Hard, Good, Easy), 0 for Again."""
        return 0 if self.rating == Rating.Again else 1


def replay_card(key: int, history: Sequence[tuple[datetime, int]], scheduler: Scheduler,
                until: int | None = None) -> Card:
    """The py-fsrs card after the first ``until`` (default all) reviews of ``history``, from new."""
    card = Card(card_id=key, due=history[0][0] if history else datetime(1970, 1, 1, tzinfo=UTC))
    for t, rating in history[:until]:
        card, _ = scheduler.review_card(card, Rating(rating), t)
    return card


def predict(reviews: Iterable[Review] | Mapping[Hashable, Sequence[tuple[datetime, int]]],
            parameters: Sequence[float]) -> list[Prediction]:
    """Replay every card's history under ``parameters`` and score its reviews (see the module doc).

    Accepts reviews or the output of :func:`group_histories`. All reviews feed the memory state; the
    result is in card order, each card's reviews in time order.
    """
    histories = reviews if isinstance(reviews, Mapping) else group_histories(reviews)
    scheduler = Scheduler(parameters=tuple(parameters), enable_fuzzing=False)
    out: list[Prediction] = []
    for n, (key, history) in enumerate(histories.items()):
        # py-fsrs needs an int card_id (and sleeps 1 ms without one); the key itself is kept apart
        card = Card(card_id=n + 1, due=history[0][0])
        scored = lapses = 0
        for i, (t, rating) in enumerate(history):
            if card.last_review is not None:
                elapsed = (t - card.last_review).days
                if elapsed >= 1:
                    scored += 1
                    out.append(Prediction(key, i, t, rating, scheduler.get_card_retrievability(card, t),
                                          elapsed, 1 + scored, lapses))
                    if rating == Rating.Again:
                        lapses += 1
            card, _ = scheduler.review_card(card, Rating(rating), t)
    return out


def log_loss(probabilities: Sequence[float], labels: Sequence[int]) -> float:
    """Mean binary cross-entropy (natural log); probabilities are clipped to [1e-15, 1 - 1e-15]."""
    if not labels:
        raise ValueError("log loss of no predictions")
    total = 0.0
    for p, y in zip(probabilities, labels, strict=True):
        p = min(max(p, 1e-15), 1 - 1e-15)
        total -= math.log(p) if y else math.log(1 - p)
    return total / len(labels)


def auc(probabilities: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half); NaN without both labels present."""
    pairs = sorted(zip(probabilities, labels, strict=True), key=lambda pair: pair[0])
    positives = sum(1 for _, y in pairs if y)
    negatives = len(pairs) - positives
    if not positives or not negatives:
        return math.nan
    rank_sum = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j + 1 < len(pairs) and pairs[j + 1][0] == pairs[i][0]:
            j += 1
        mid_rank = (i + j) / 2 + 1  # 1-based average rank of the tie group
        rank_sum += mid_rank * sum(1 for k in range(i, j + 1) if pairs[k][1])
        i = j + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def rmse_bin(elapsed_days: int, review_number: int, lapses: int) -> tuple[float, int, int]:
    """srs-benchmark's RMSE bin of a review (log-spaced in days elapsed, review number and lapses)."""
    if elapsed_days < 1 or review_number < 1 or lapses < 0:
        raise ValueError("binning needs elapsed_days >= 1, review_number >= 1, lapses >= 0")
    days = round(2.48 * 3.62 ** math.floor(math.log(elapsed_days) / math.log(3.62)), 2)
    number = round(1.99 * 1.89 ** math.floor(math.log(review_number) / math.log(1.89)))
    lapse = round(1.65 * 1.73 ** math.floor(math.log(lapses) / math.log(1.73))) if lapses > 0 else 0
    return days, number, lapse


def rmse_bins(bins: Sequence[Hashable], probabilities: Sequence[float], labels: Sequence[int]) -> float:
    """sqrt(Σ n_b (mean p_b − mean y_b)² / Σ n_b) over the bins given for each prediction."""
    if not labels:
        raise ValueError("RMSE of no predictions")
    groups: dict[Hashable, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for b, p, y in zip(bins, probabilities, labels, strict=True):
        g = groups[b]
        g[0] += 1
        g[1] += p
        g[2] += y
    total = sum(n * (sp / n - sy / n) ** 2 for n, sp, sy in groups.values())
    return math.sqrt(total / len(labels))


@dataclass(frozen=True)
class Evaluation:
    """How well predictions matched what happened: lower log loss and RMSE, higher AUC are better."""

    log_loss: float
    rmse_bins: float
    auc: float
    n: int

    def to_dict(self) -> dict:
        """JSON-ready, rounded as the benchmark reports them."""
        return {"LogLoss": round(self.log_loss, 4), "RMSE(bins)": round(self.rmse_bins, 4),
                "AUC": round(self.auc, 4), "n": self.n}


def evaluate_predictions(predictions: Sequence[Prediction],
                         probabilities: Sequence[float] | None = None) -> Evaluation:
    """Log loss, RMSE(bins) and AUC of ``predictions`` (or of other ``probabilities`` for the same rows)."""
    ps = [p.retrievability for p in predictions] if probabilities is None else list(probabilities)
    ys = [p.label for p in predictions]
    bins = [rmse_bin(p.elapsed_days, p.review_number, p.lapses) for p in predictions]
    return Evaluation(log_loss(ps, ys), rmse_bins(bins, ps, ys), auc(ps, ys), len(ys))


def evaluate(reviews: Iterable[Review], parameters: Sequence[float]) -> Evaluation | None:
    """How well ``parameters`` predict a history (in-sample); None when no review can be scored."""
    predictions = predict(reviews, parameters)
    return evaluate_predictions(predictions) if predictions else None


# --------------------------------------------------------------------------------------------------
# what a change of parameters does to the schedule


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A card's schedule for comparison: when it is due and its current interval (None if not in review)."""

    due: datetime
    interval_days: float | None


@dataclass(frozen=True)
class ScheduleChange:
    """Before/after summary shown before new parameters are stored."""

    cards: int
    due_moved: int
    earlier: int
    later: int
    mean_interval_before: float | None
    mean_interval_after: float | None


def summarize_changes(before: Mapping[Hashable, Scheduled], after: Mapping[Hashable, Scheduled], *,
                      rollover_hour: int = ROLLOVER_HOUR, tz: tzinfo | None = None) -> ScheduleChange:
    """Compare two schedules of the same cards: how many due dates move to another study day, and the
    mean interval of cards in review before and after."""
    moved = earlier = later = 0
    for key, old in before.items():
        new = after[key]
        old_day = study_day(old.due, rollover_hour, tz)
        new_day = study_day(new.due, rollover_hour, tz)
        if new_day != old_day:
            moved += 1
            if new_day < old_day:
                earlier += 1
            else:
                later += 1

    def mean(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    return ScheduleChange(
        cards=len(before),
        due_moved=moved,
        earlier=earlier,
        later=later,
        mean_interval_before=mean([s.interval_days for s in before.values() if s.interval_days is not None]),
        mean_interval_after=mean([after[k].interval_days for k in before if after[k].interval_days is not None]),
    )


# --------------------------------------------------------------------------------------------------
# desired retention advisor


@dataclass(frozen=True, slots=True)
class RetentionPoint:
    """Simulated outcome of studying with one desired retention (averages over the simulated span)."""

    desired_retention: float
    reviews_per_day: float
    minutes_per_day: float
    memorized: float
    seconds_per_memorized: float


@dataclass(frozen=True)
class RetentionAdvice:
    """The workload/retention curve and the recommended desired retention.

    ``recommended`` is the knee of the curve: the retention where normalised cards memorised minus
    normalised study time is largest — past it, each extra card remembered costs more time than the
    curve's average. ``most_efficient`` is the retention with the least study time per memorised card
    (usually the lowest, which is why it is not the recommendation).
    """

    points: list[RetentionPoint]
    recommended: float
    most_efficient: float
    deck_size: int
    new_per_day: int
    days: int
    scale: float = 1.0
    notes: list[str] = field(default_factory=list)


def _rating_probabilities(histories: Mapping[Hashable, Sequence[tuple[datetime, int]]], minimum: int = 100):
    """The learner's first-answer distribution (Again..Easy) and Hard/Good/Easy split on passed reviews
    a day or more apart; None for either when there are fewer than ``minimum`` observations."""
    first = [0, 0, 0, 0]
    passed = [0, 0, 0]
    for history in histories.values():
        first[history[0][1] - 1] += 1
        for (t0, _), (t1, rating) in zip(history, history[1:], strict=False):
            if (t1 - t0).days >= 1 and rating > 1:
                passed[rating - 2] += 1
    first_p = [c / sum(first) for c in first] if sum(first) >= minimum else None
    passed_p = [c / sum(passed) for c in passed] if sum(passed) >= minimum else None
    return first_p, passed_p


def advise_retention(
    parameters: Sequence[float],
    *,
    deck_size: int,
    new_per_day: int,
    days: int = 365,
    reviews: Iterable[Review] | None = None,
    retentions: Sequence[float] = RETENTION_GRID,
    seeds: Sequence[int] = (1, 2, 3),
    max_simulated_cards: int = 3000,
) -> RetentionAdvice:
    """Simulate ``days`` of study of a ``deck_size``-card deck, ``new_per_day`` new cards a day, for each
    desired retention, and recommend one (see :class:`RetentionAdvice`).

    Uses fsrs-rs's simulator (so the optimizer extra); answer costs are its defaults, answer
    probabilities the learner's own when ``reviews`` hold enough of them. Large decks are simulated
    scaled down to ``max_simulated_cards`` introduced cards and scaled back up (workload is proportional
    to the cards studied), which keeps the call to a few seconds.
    """
    if deck_size < 1 or new_per_day < 1 or days < 1:
        raise FlashcardsError("the retention advisor needs a deck with cards, new cards per day and days to simulate")
    if len(retentions) < 2 or any(not 0.5 <= r < 1 for r in retentions):
        raise ValueError("retentions: at least two values in [0.5, 1)")
    rs = _rust()
    params = list(clamp_parameters(parameters))
    config = rs.default_simulator_config()
    notes = []
    if reviews is not None:
        first_p, passed_p = _rating_probabilities(group_histories(reviews))
        if first_p is not None:
            config.first_rating_prob = first_p
            notes.append("first answers: your own rating mix")
        if passed_p is not None:
            config.review_rating_prob = passed_p
            notes.append("review answers: your own Hard/Good/Easy mix")
    introduced = min(deck_size, new_per_day * days)
    scale = max(1.0, introduced / max_simulated_cards)
    config.deck_size = max(1, round(deck_size / scale))
    config.learn_limit = max(1, round(new_per_day / scale))
    config.learn_span = days
    config.max_cost_perday = 1e12  # no time cap: the curve should show the whole workload
    if scale > 1:
        notes.append(f"simulated at 1/{scale:.1f} scale and scaled back up")

    points = []
    for r in retentions:
        reviews_total = cost_total = memorized = 0.0
        for seed in seeds:
            try:
                result = rs.simulate(params, float(r), config, seed)
            except BaseException as exc:
                if not _is_rust_panic(exc):
                    raise
                raise FlashcardsError(f"the FSRS simulator failed: {exc}") from exc
            reviews_total += sum(result.review_cnt_per_day)
            cost_total += sum(result.cost_per_day)
            memorized += result.memorized_cnt_per_day[-1]
        k = scale / len(seeds)
        memorized *= k
        points.append(RetentionPoint(
            desired_retention=float(r),
            reviews_per_day=reviews_total * k / days,
            minutes_per_day=cost_total * k / days / 60,
            memorized=memorized,
            seconds_per_memorized=cost_total * k / memorized if memorized else math.inf,
        ))
    return RetentionAdvice(points, knee(points), min(points, key=lambda p: p.seconds_per_memorized).desired_retention,
                           deck_size, new_per_day, days, scale, notes)


def knee(points: Sequence[RetentionPoint]) -> float:
    """The desired retention at the knee of the workload/memorised curve (normalised difference)."""
    cost = [p.minutes_per_day for p in points]
    mem = [p.memorized for p in points]
    c_lo, c_span = min(cost), (max(cost) - min(cost)) or 1.0
    m_lo, m_span = min(mem), (max(mem) - min(mem)) or 1.0
    best = max(points, key=lambda p: (p.memorized - m_lo) / m_span - (p.minutes_per_day - c_lo) / c_span)
    return best.desired_retention


# --------------------------------------------------------------------------------------------------
# a deck of the collection: what the CLI and the deck settings screen call


@dataclass
class OptimizationPlan:
    """A fit for a deck (and its subdecks) or all decks, with what storing it would change.

    ``change`` and the evaluations are None when nothing was fitted (too little history).
    ``evaluation_before``/``after`` are in-sample: how well each set predicts the history it saw.
    ``differing_decks`` counts decks in scope whose current parameters are not ``fit.previous``.
    """

    scope: str
    deck_ids: list[int]
    card_ids: list[int]
    fit: FitResult
    evaluation_before: Evaluation | None = None
    evaluation_after: Evaluation | None = None
    change: ScheduleChange | None = None
    differing_decks: int = 0

    def outcome_lines(self) -> list[str]:
        """What storing the fit changes, in words — the one wording the CLI and the settings screen
        show: prediction quality before → after, then how due dates move."""
        lines = []
        b, a = self.evaluation_before, self.evaluation_after
        if b is not None and a is not None:
            lines.append(f"Prediction of your {a.n:,} reviews (lower is better): log loss {b.log_loss:.4f} → "
                         f"{a.log_loss:.4f}, RMSE {b.rmse_bins:.4f} → {a.rmse_bins:.4f}.")
        ch = self.change
        if ch is not None:
            lines.append(f"Due dates: {ch.due_moved:,} of {ch.cards:,} studied cards move ({ch.earlier:,} earlier, "
                         f"{ch.later:,} later). Average interval {_days(ch.mean_interval_before)} → "
                         f"{_days(ch.mean_interval_after)}.")
        return lines


def _days(days: float | None) -> str:
    return "-" if days is None else f"{days:.1f} d"


def deck_reviews(col, deck: str | None = None) -> tuple[list[int], list[int], list[tuple[int, int, int]]]:
    """Deck ids (``deck`` and its subdecks, or all), their card ids, and those cards' answers as
    ``(card_id, time_ms, rating)`` — the whole review log of each card, imported history included."""
    if deck is None:
        deck_ids = sorted(col.deck_names())
    else:
        deck_ids = col.subtree_ids(col.deck_id(deck))
    card_ids = [row.card_id for row in col.search(deck=deck)]
    reviews = [(cid, t, r) for cid in card_ids for t, r in col.card_answers(cid)]
    return deck_ids, card_ids, reviews


def _scheduled(state: int, due_ms: int | None, last_review_ms: int | None) -> Scheduled | None:
    from flashcards.drafts import CardState

    if state == CardState.NEW or due_ms is None:
        return None  # a new card has no due date to move
    interval = None
    if state == CardState.REVIEW and last_review_ms is not None:
        interval = (due_ms - last_review_ms) / 86_400_000
    return Scheduled(from_ms(due_ms), interval)


def plan_optimization(col, deck: str | None = None, *, min_items: int | None = None,
                      tz: tzinfo | None = None) -> OptimizationPlan:
    """Fit parameters to the history of ``deck`` (and subdecks; all decks when None) and work out what
    storing them would change, without writing anything. ``tz`` is the learner's (default: local);
    ``min_items`` defaults to :data:`MIN_TRAINING_ITEMS`."""
    from dataclasses import replace

    from flashcards.timeutil import local_tz

    tz = tz or local_tz()
    deck_ids, card_ids, reviews = deck_reviews(col, deck)
    current_sets = [col.deck_options(d).parameters() for d in deck_ids]
    if deck is not None:
        current = col.deck_options(col.deck_id(deck)).parameters()
    else:  # the set most decks use
        current = max(set(current_sets), key=current_sets.count) if current_sets else tuple(DEFAULT_PARAMETERS)
    if min_items is None:
        min_items = MIN_TRAINING_ITEMS
    fit = fit_parameters(reviews, current=current, min_items=min_items, rollover_hour=col.rollover_hour, tz=tz)
    plan = OptimizationPlan(
        scope=f"deck {deck!r} and its subdecks" if deck is not None else "all decks",
        deck_ids=deck_ids, card_ids=card_ids, fit=fit,
        differing_decks=sum(1 for p in current_sets if p != fit.previous))
    if not fit.fitted:
        return plan
    plan.evaluation_before = evaluate(reviews, fit.previous)
    plan.evaluation_after = evaluate(reviews, fit.parameters)
    new_opts = {d: replace(col.deck_options(d), fsrs_parameters=list(fit.parameters)) for d in deck_ids}
    before: dict[int, Scheduled] = {}
    after: dict[int, Scheduled] = {}
    for cid in card_ids:
        c = col.card_columns(cid)
        old = _scheduled(c["state"], c["due_ms"], c["last_review_ms"])
        if old is None:
            continue
        s = col.replayed_state(cid, new_opts[c["deck_id"]])
        new = _scheduled(int(s.state), s.due_ms, s.last_review_ms)
        if new is not None:
            before[cid], after[cid] = old, new
    plan.change = summarize_changes(before, after, rollover_hour=col.rollover_hour, tz=tz)
    return plan


def apply_optimization(col, plan: OptimizationPlan, now: datetime | None = None) -> int:
    """Store a plan's fitted parameters in every deck of its scope; the store reschedules each card by
    replaying its history from its baseline, all in one transaction (the review log is untouched).
    Returns the number of cards rescheduled."""
    from dataclasses import replace

    if not plan.fit.fitted:
        raise FlashcardsError("nothing to store: " + plan.fit.message)
    n = 0
    with col.db.atomic():  # one transaction over all decks (each deck's own write nests inside)
        for d in plan.deck_ids:
            opts = replace(col.deck_options(d), fsrs_parameters=list(plan.fit.parameters))
            n += col.set_deck_options(d, opts, now)
    return n


def deck_retention_advice(col, deck: str, *, days: int = 365, retentions: Sequence[float] = RETENTION_GRID,
                          seeds: Sequence[int] = (1, 2, 3)) -> RetentionAdvice:
    """:func:`advise_retention` for a deck as it is: its parameters, its size (with subdecks), its new
    cards per day (at least 1) and its learners' own answer mix. Slow (seconds): run it off the UI thread."""
    did = col.deck_id(deck)
    opts = col.deck_options(did)
    _deck_ids, card_ids, reviews = deck_reviews(col, deck)
    return advise_retention(opts.parameters(), deck_size=max(1, len(card_ids)), new_per_day=max(1, opts.new_per_day),
                            days=days, reviews=reviews, retentions=retentions, seeds=seeds)
