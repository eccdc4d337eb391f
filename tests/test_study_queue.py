"""The study queue and study actions: order, limits and subdecks, siblings, leeches, undo, day rollover."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from core_helpers import NOW, add_basic, card_ids, stored_state
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashcards import scheduling
from flashcards.collection import Collection
from flashcards.drafts import ReviewKind
from flashcards.errors import FlashcardsError
from flashcards.options import DeckOptions
from flashcards.timeutil import DAY_MS, from_ms, to_ms

MIN = timedelta(minutes=1)


def set_opts(col, deck: str, **kw) -> int:
    did = col.deck_id(deck, create=True)
    col.set_deck_options(did, DeckOptions.from_dict({**col.deck_options(did).to_dict(), **kw}))
    return did


def ids_in_order(session, now: datetime, limit: int = 1000) -> list[int]:
    """Card ids the session shows, answering each Good at ``now`` (advancing 1 s per answer)."""
    out = []
    t = now
    for _ in range(limit):
        c = session.next_card(t)
        if c is None:
            break
        out.append(c.card_id)
        session.answer(c.card_id, 3, t)
        t += timedelta(seconds=1)
    return out


def queue_ids(col, deck: str, now: datetime) -> list[int]:
    """The queue's main part without answering: gathered card ids in order."""
    from flashcards.study import gather

    g = gather(col, col.deck_id(deck), now)
    out = []
    while g.main:  # drained: a lazy queue reads its rows only as they are taken
        out.append(g.main.popleft()[1])
    return out


# ---------------------------------------------------------------- order


def test_new_cards_in_the_order_they_were_added(col, now):
    notes = [add_basic(col, f"q{i}", deck="D") for i in range(5)]
    s = col.study(col.deck_id("D"))
    first = [card_ids(col, n)[0] for n in notes]
    assert s.counts(now) == (5, 0, 0)
    assert s.next_card(now).card_id == first[0]
    assert queue_ids(col, "D", now) == first


def test_learning_due_first_then_main_then_learn_ahead(col, now):
    set_opts(col, "D", learning_steps=[10.0], new_per_day=3)
    a, b, c = (card_ids(col, add_basic(col, f"q{i}", deck="D"))[0] for i in range(3))
    s = col.study(col.deck_id("D"))
    assert s.next_card(now).card_id == a
    s.answer(a, 1, now)  # due in 10 min
    assert s.next_card(now).card_id == b
    s.answer(b, 1, now + MIN)  # due at +11 min
    t = now + 10 * MIN
    assert s.next_card(t).card_id == a  # a learning card due now comes before new cards
    s.answer(a, 1, t)  # due at +20
    assert s.next_card(t + MIN).card_id == b  # due at +11
    s.answer(b, 3, t + MIN)  # graduates (one step): review, due days later
    assert s.next_card(t + 2 * MIN).card_id == c  # a is due at +20: the new card comes first
    s.answer(c, 4, t + 2 * MIN)
    # Nothing due now but a (due in 8 minutes): learn-ahead shows it.
    assert s.counts(t + 2 * MIN) == (0, 1, 0)
    assert s.next_card(t + 2 * MIN).card_id == a


def test_learn_ahead_is_limited_to_20_minutes(col, now):
    set_opts(col, "D", learning_steps=[30.0])
    a = card_ids(col, add_basic(col, "q", deck="D"))[0]
    s = col.study(col.deck_id("D"))
    s.answer(a, 1, now)  # due in 30 minutes
    assert s.next_card(now + MIN) is None
    assert s.counts(now + MIN) == (0, 0, 0)
    assert s.next_due(now + MIN) == now + 30 * MIN
    assert s.next_card(now + 10 * MIN + timedelta(seconds=1)).card_id == a


def test_never_the_card_just_answered_if_another_exists(col, now):
    set_opts(col, "D", learning_steps=[1.0, 10.0])
    a, b = (card_ids(col, add_basic(col, f"q{i}", deck="D"))[0] for i in range(2))
    s = col.study(col.deck_id("D"))
    s.answer(a, 1, now)  # due +1 min
    s.answer(b, 1, now)  # due +1 min as well
    # Both due; b was answered last; at +2 min a comes, then b, never b twice in a row.
    t = now + 2 * MIN
    assert s.next_card(t).card_id == a
    s.answer(a, 1, t)  # a due again at t+1m
    t2 = t + 5 * MIN  # a and b both due; a just answered
    assert s.next_card(t2).card_id == b
    s.answer(b, 1, t2)
    assert s.next_card(t2).card_id == a
    # The only card left: shown even though it was just answered (learn-ahead).
    s.suspend(b, t2)
    s.answer(a, 1, t2)
    assert s.next_card(t2).card_id == a


def test_just_answered_learning_card_waits_behind_new_cards(col, now):
    set_opts(col, "D", learning_steps=[1.0])
    a, b = (card_ids(col, add_basic(col, f"q{i}", deck="D"))[0] for i in range(2))
    s = col.study(col.deck_id("D"))
    s.answer(a, 1, now)
    # Two minutes later a is due, but it was just answered and b is waiting.
    assert s.next_card(now + 2 * MIN).card_id == b


def test_reviews_due_by_the_end_of_the_study_day(col, set_tz):
    set_tz("America/New_York")
    did = set_opts(col, "D", learning_steps=[], relearning_steps=[])
    s = col.study(did)
    # Review cards: Good on a new card gives 2 days (fuzz does not apply below 2.5 days).
    t0 = datetime(2026, 3, 8, 16, 0, tzinfo=UTC)  # Sunday noon in New York (EDT)
    early = card_ids(col, add_basic(col, "early", deck="D", now=t0))[0]
    s.answer(early, 3, t0)  # due 2026-03-10 16:00 UTC
    assert from_ms(stored_state(col, early).due_ms) == datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
    # On the 9th at 05:00 local (09:00 UTC) the study day of the 9th runs to the 10th 04:00 local:
    # the card (due 10th 12:00 local) is not due yet; on the 10th at 04:00 local it is.
    s2 = col.study(did)
    assert s2.counts(datetime(2026, 3, 9, 9, 0, tzinfo=UTC)) == (0, 0, 0)
    assert s2.counts(datetime(2026, 3, 10, 7, 59, tzinfo=UTC)) == (0, 0, 0)  # 03:59 local: still the 9th
    assert s2.counts(datetime(2026, 3, 10, 8, 0, tzinfo=UTC)) == (0, 0, 1)  # 04:00 local: the 10th


def test_configurable_rollover_hour_moves_the_day(col, set_tz):
    set_tz("Europe/Berlin")
    did = set_opts(col, "D", learning_steps=[], relearning_steps=[])
    s = col.study(did)
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    c = card_ids(col, add_basic(col, "q", deck="D", now=t0))[0]
    s.answer(c, 3, t0)  # due 3 March 12:00 UTC (13:00 Berlin)
    at = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # 3 March 00:30 Berlin
    assert col.study(did).counts(at) == (0, 0, 0)  # rollover 4:00: still 2 March's study day
    col.set_setting("rollover_hour", 0)
    assert col.study(did).counts(at) == (0, 0, 1)  # rollover 0:00: 3 March, card due today
    assert col.today(at) == datetime(2026, 3, 3).date().toordinal()
    with pytest.raises(Exception, match="rollover hour"):
        col.set_setting("rollover_hour", 24)


def test_session_rebuilds_when_the_study_day_changes(col, set_tz):
    set_tz("America/New_York")
    did = set_opts(col, "D", new_per_day=2)
    for i in range(5):
        add_basic(col, f"q{i}", deck="D")
    s = col.study(did)
    t = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 11:00 local
    assert s.counts(t) == (2, 0, 0)
    assert len(ids_in_order(s, t, limit=2)) == 2
    assert s.counts(t + timedelta(minutes=30))[0] == 0
    # Next study day (04:00 local = 08:00 UTC on the 11th): two more new cards.
    assert s.counts(datetime(2026, 3, 11, 7, 59, tzinfo=UTC))[0] == 0
    assert s.counts(datetime(2026, 3, 11, 8, 0, tzinfo=UTC))[0] == 2


# ---------------------------------------------------------------- limits and subdecks


def _fill(col, deck: str, n: int, prefix: str = "") -> list[int]:
    return [card_ids(col, add_basic(col, f"{prefix}{deck} {i}", deck=deck))[0] for i in range(n)]


def test_new_limit_of_the_deck(col, now):
    did = set_opts(col, "D", new_per_day=3)
    cards = _fill(col, "D", 10)
    s = col.study(did)
    assert s.counts(now) == (3, 0, 0)
    assert queue_ids(col, "D", now) == cards[:3]


def test_subdeck_limits_capped_by_the_studied_parent(col, now):
    set_opts(col, "P", new_per_day=5)
    set_opts(col, "P::A", new_per_day=3)
    set_opts(col, "P::B", new_per_day=10)
    a = _fill(col, "P::A", 10)
    b = _fill(col, "P::B", 10)
    # Studying P: A gives its own 3, B what is left of P's 5.
    assert queue_ids(col, "P", now) == a[:3] + b[:2]
    assert col.study(col.deck_id("P")).counts(now) == (5, 0, 0)
    # Studying a subdeck: its own limit; the parent's does not apply.
    assert col.study(col.deck_id("P::B")).counts(now) == (10, 0, 0)
    assert col.study(col.deck_id("P::A")).counts(now) == (3, 0, 0)
    rows = {r.name: r for r in col.deck_tree(now)}
    assert (rows["P"].new, rows["P::A"].new, rows["P::B"].new) == (5, 3, 10)
    assert (rows["P"].cards, rows["P::A"].cards) == (20, 10)


def test_review_limit_and_subdecks(col, now):
    set_opts(col, "P", reviews_per_day=4, learning_steps=[], relearning_steps=[])
    set_opts(col, "P::A", reviews_per_day=3, learning_steps=[], relearning_steps=[])
    set_opts(col, "P::B", reviews_per_day=100, learning_steps=[], relearning_steps=[])
    past = now - timedelta(days=5)
    for deck in ("P::A", "P::B"):
        s = col.study(col.deck_id(deck))
        for cid in _fill(col, deck, 5):
            s.answer(cid, 3, past)  # review, due in 2 days (overdue now)
    p = col.study(col.deck_id("P"))
    assert p.counts(now) == (0, 0, 4)
    assert col.study(col.deck_id("P::A")).counts(now) == (0, 0, 3)
    assert col.study(col.deck_id("P::B")).counts(now) == (0, 0, 5)


def test_limits_count_what_was_studied_today(col, now):
    did = set_opts(col, "D", new_per_day=4)
    _fill(col, "D", 10)
    s = col.study(did)
    for _ in range(3):
        c = s.next_card(now)
        s.answer(c.card_id, 4, now)
    # A new session (e.g. after restarting the app) sees the one new card left for today.
    assert col.study(did).counts(now) == (1, 0, 0)
    assert col.study(did).counts(now + timedelta(days=1))[0] == 4


def test_parent_limit_counts_what_was_studied_in_subdecks_today(col, now):
    set_opts(col, "P", new_per_day=5)
    set_opts(col, "P::A", new_per_day=10)
    a = _fill(col, "P::A", 12)
    s = col.study(col.deck_id("P"))
    assert s.counts(now) == (5, 0, 0)
    for cid in a[:5]:
        s.answer(cid, 4, now)
    # P's 5 new cards for today are used up, whichever subdeck they came from; a fresh session
    # (or a rebuilt queue) must not offer five more.
    assert col.study(col.deck_id("P")).counts(now) == (0, 0, 0)
    assert col.study(col.deck_id("P::A")).counts(now) == (5, 0, 0)


def test_undo_gives_the_new_card_back_to_the_limit(col, now):
    did = set_opts(col, "D", new_per_day=2)
    cards = _fill(col, "D", 5)
    s = col.study(did)
    s.answer(cards[0], 4, now)
    s.answer(cards[1], 4, now)
    assert s.counts(now) == (0, 0, 0)
    assert s.undo() == cards[1]
    assert s.next_card(now).card_id == cards[1]
    assert col.study(did).counts(now) == (1, 0, 0)


def test_each_card_uses_its_own_decks_parameters(col, now):
    set_opts(col, "P", learning_steps=[1.0])
    set_opts(col, "P::A", learning_steps=[7.0])
    p = card_ids(col, add_basic(col, "p", deck="P"))[0]
    a = card_ids(col, add_basic(col, "a", deck="P::A"))[0]
    s = col.study(col.deck_id("P"))
    assert s.intervals(p, now)[1] == 60
    assert s.intervals(a, now)[1] == 7 * 60
    s.answer(a, 1, now)
    assert stored_state(col, a).due_ms - to_ms(now) == 7 * 60_000


def test_suspended_and_buried_cards_are_not_studied(col, now):
    cards = _fill(col, "D", 3)
    col.set_suspended([cards[0]], True)
    col.set_card_columns(cards[1], buried_until=col.today(now) + 1)
    assert queue_ids(col, "D", now) == [cards[2]]
    assert queue_ids(col, "D", now + timedelta(days=1)) == cards[1:]


# ---------------------------------------------------------------- siblings


def test_reversed_sibling_buried_until_the_next_study_day(col, now, set_tz):
    set_tz("Europe/Berlin")
    did = col.deck_id("D", create=True)
    nid = add_basic(col, "front", deck="D", notetype="Basic (and reversed card)")
    c1, c2 = card_ids(col, nid)
    s = col.study(did)
    # With burying on, only one card of a note is gathered at a time.
    assert s.counts(now) == (1, 0, 0)
    assert s.next_card(now).card_id == c1
    s.answer(c1, 3, now)
    today = col.today(now)
    assert col.card_columns(c2)["buried_until"] == today + 1
    assert s.next_card(now + 10 * MIN).card_id == c1  # the learning card, not its buried sibling
    s.answer(c1, 3, now + 10 * MIN)
    assert s.next_card(now + 11 * MIN) is None
    # NOW is 13:00 in Berlin; the next study day starts at 04:00 local = 03:00 UTC.
    nxt = datetime(2026, 3, 11, 3, 0, tzinfo=UTC)
    assert col.study(did).next_card(nxt - timedelta(milliseconds=1)) is None
    assert col.study(did).next_card(nxt).card_id == c2


def test_cloze_siblings_buried(col, now):
    did = col.deck_id("D", create=True)
    nid = col.add_note("Cloze", ["{{c1::a}} {{c2::b}} {{c3::c}}", ""], deck_id=did, now=now)
    c1, c2, c3 = card_ids(col, nid)
    other = card_ids(col, add_basic(col, "other", deck="D"))[0]
    s = col.study(did)
    assert s.counts(now) == (2, 0, 0)
    s.answer(c1, 4, now)
    today = col.today(now)
    assert [col.card_columns(c)["buried_until"] for c in (c2, c3)] == [today + 1, today + 1]
    assert s.next_card(now).card_id == other
    # Undo un-buries them.
    s.undo()
    assert [col.card_columns(c)["buried_until"] for c in (c2, c3)] == [0, 0]


def test_no_burying_when_the_deck_says_so(col, now):
    did = set_opts(col, "D", bury_siblings=False)
    nid = add_basic(col, "front", deck="D", notetype="Basic (and reversed card)")
    c1, c2 = card_ids(col, nid)
    s = col.study(did)
    assert s.counts(now) == (2, 0, 0)
    s.answer(c1, 3, now)
    assert col.card_columns(c2)["buried_until"] == 0
    assert s.next_card(now).card_id == c2


# ---------------------------------------------------------------- leeches


def _lapse(session, cid: int, t: datetime) -> datetime:
    """Answer Good (to review) then Again (a lapse); returns the time after."""
    session.answer(cid, 4, t)
    due = from_ms(stored_state(session.col, cid).due_ms)
    session.answer(cid, 1, due)
    return due + timedelta(days=1)


def test_leech_tagged_at_the_threshold_and_undo(col, now):
    did = set_opts(col, "D", leech_threshold=3, learning_steps=[], relearning_steps=[])
    nid = add_basic(col, "hard", deck="D")
    cid = card_ids(col, nid)[0]
    s = col.study(did)
    t = now
    for _ in range(2):
        t = _lapse(s, cid, t)
    assert stored_state(col, cid).lapses == 2 and "leech" not in col.note(nid).tags
    t = _lapse(s, cid, t)
    assert stored_state(col, cid).lapses == 3
    assert "leech" in col.note(nid).tags
    assert not col.card_columns(cid)["suspended"]  # action "tag": not suspended
    s.undo()
    assert stored_state(col, cid).lapses == 2 and "leech" not in col.note(nid).tags
    assert stored_state(col, cid) == col.replayed_state(cid)


def test_leech_suspended_when_the_deck_says_so(col, now):
    did = set_opts(col, "D", leech_threshold=2, leech_action="suspend", learning_steps=[], relearning_steps=[])
    nid = add_basic(col, "hard", deck="D", tags=["keep"])
    cid = card_ids(col, nid)[0]
    other = card_ids(col, add_basic(col, "other", deck="D"))[0]
    s = col.study(did)
    t = _lapse(s, cid, now)
    assert not col.card_columns(cid)["suspended"]
    s.answer(cid, 4, t)
    due = from_ms(stored_state(col, cid).due_ms)
    s.answer(cid, 1, due)
    assert col.card_columns(cid)["suspended"] == 1
    assert col.note(nid).tags == ["keep", "leech"]
    assert s.next_card(due).card_id == other  # the suspended leech left the queue
    assert s.undo() == cid
    assert col.card_columns(cid)["suspended"] == 0 and col.note(nid).tags == ["keep"]
    assert s.next_card(due).card_id == cid


# ---------------------------------------------------------------- undo


def test_undo_answer_restores_card_and_log_exactly(col, now):
    did = col.deck_id("D", create=True)
    cid = card_ids(col, add_basic(col, "q", deck="D"))[0]
    s = col.study(did)
    before_cols = col.card_columns(cid)
    s.answer(cid, 3, now, duration_ms=123_456)
    row = col._sql("SELECT rating, kind, state_before, duration_ms, interval_s, time_ms FROM review").fetchall()
    assert row == [(3, int(ReviewKind.LEARN), 0, 60_000, 600, to_ms(now))]  # duration capped at 60 s
    assert s.can_undo()
    assert s.undo() == cid
    assert col.card_columns(cid) == before_cols
    assert col._sql("SELECT COUNT(*) FROM review").fetchone()[0] == 0
    assert not s.can_undo() and s.undo() is None


def test_undo_is_repeatable_across_action_kinds(col, now):
    did = col.deck_id("D", create=True)
    a, b, c = _fill(col, "D", 3)
    s = col.study(did)
    snapshot = {x: col.card_columns(x) for x in (a, b, c)}
    s.answer(a, 3, now)
    s.set_flag(a, 2)
    s.bury(b, now)
    s.suspend(c, now)
    s.answer(a, 3, now + 10 * MIN)
    assert col.card_columns(a)["flag"] == 2 and col.card_columns(b)["buried_until"] == col.today(now) + 1
    assert col.card_columns(c)["suspended"] == 1
    assert s.next_card(now + 10 * MIN) is None
    assert [s.undo() for _ in range(5)] == [a, c, b, a, a]
    assert {x: col.card_columns(x) for x in (a, b, c)} == snapshot
    assert col._sql("SELECT COUNT(*) FROM review").fetchone()[0] == 0
    assert s.undo() is None


def test_undone_card_is_shown_next(col, now):
    did = col.deck_id("D", create=True)
    a, b, c = _fill(col, "D", 3)
    s = col.study(did)
    s.answer(a, 4, now)
    s.answer(b, 4, now)
    assert s.next_card(now).card_id == c
    s.undo()
    assert s.next_card(now).card_id == b
    s.undo()
    assert s.next_card(now).card_id == a
    assert s.counts(now) == (3, 0, 0)


def test_bad_rating_and_flag_refused(col, now):
    did = col.deck_id("D", create=True)
    cid = card_ids(col, add_basic(col, "q", deck="D"))[0]
    s = col.study(did)
    with pytest.raises(ValueError):
        s.answer(cid, 5, now)
    with pytest.raises(ValueError):
        s.set_flag(cid, 8)
    assert col._sql("SELECT COUNT(*) FROM review").fetchone()[0] == 0


# ---------------------------------------------------------------- intervals and the cache (properties)


def test_button_intervals_are_what_answer_applies(col, now):
    did = col.deck_id("D", create=True)
    cards = _fill(col, "D", 30)
    s = col.study(did)
    t = now
    for i, cid in enumerate(cards):
        rating = 1 + i % 4
        shown = s.intervals(cid, t)
        after = s.answer(cid, rating, t)
        assert shown[rating] == (after.due_ms - to_ms(t)) // 1000
        t += timedelta(seconds=7)
    # And for review cards (where fuzz applies), days later.
    later = t + timedelta(days=30)
    for i, cid in enumerate(cards):
        rating = 1 + (i * 3) % 4
        shown = s.intervals(cid, later)
        after = s.answer(cid, rating, later)
        assert shown[rating] == (after.due_ms - to_ms(later)) // 1000
        later += timedelta(seconds=3)


def _tmp_collection() -> tuple[Collection, Path]:
    d = Path(tempfile.mkdtemp(prefix="fc-prop-"))
    col = Collection.open(d)
    # Durability is not under test here; skip the fsyncs to keep the property tests fast.
    col._sql("PRAGMA synchronous = OFF")
    return col, d


actions = st.lists(
    st.one_of(
        st.tuples(st.just("answer"), st.integers(0, 5), st.integers(1, 4), st.integers(0, 10 * DAY_MS)),
        st.tuples(st.just("next"), st.integers(1, 4), st.integers(0, 3 * DAY_MS)),
        st.tuples(st.just("undo")),
        st.tuples(st.just("bury"), st.integers(0, 5)),
        st.tuples(st.just("suspend"), st.integers(0, 5)),
        st.tuples(st.just("flag"), st.integers(0, 5), st.integers(0, 7)),
    ),
    min_size=1, max_size=30,
)


@settings(max_examples=40, deadline=None, derandomize=True, database=None,  # deterministic
          suppress_health_check=[HealthCheck.too_slow])
@given(actions=actions, leech=st.integers(1, 3), bury=st.booleans())
def test_cache_equals_replay_after_any_answers_and_undos(actions, leech, bury):
    col, d = _tmp_collection()
    try:
        did = col.deck_id("D", create=True, now_ms=to_ms(NOW))
        col.set_deck_options(did, DeckOptions(leech_threshold=leech, leech_action="suspend", bury_siblings=bury,
                                              learning_steps=[1.0], relearning_steps=[5.0]))
        cards = []
        for i in range(3):
            nid = col.add_note("Basic (and reversed card)", [f"q{i}", f"a{i}"], deck_id=did, now=NOW)
            cards += card_ids(col, nid)
        s = col.study(did)
        t = NOW
        for act in actions:
            if act[0] == "answer":
                _, k, rating, gap = act
                t += timedelta(milliseconds=gap)
                cid = cards[k]
                shown = s.intervals(cid, t)
                after = s.answer(cid, rating, t)
                assert shown[rating] == (after.due_ms - to_ms(t)) // 1000
                assert after == stored_state(col, cid)
            elif act[0] == "next":
                _, rating, gap = act
                t += timedelta(milliseconds=gap)
                c = s.next_card(t)
                if c is not None:
                    shown = s.intervals(c.card_id, t)
                    after = s.answer(c.card_id, rating, t)
                    assert shown[rating] == (after.due_ms - to_ms(t)) // 1000
            elif act[0] == "undo":
                s.undo()
            elif act[0] == "bury":
                s.bury(cards[act[1]], t)
            elif act[0] == "suspend":
                s.suspend(cards[act[1]], t)
            else:
                s.set_flag(cards[act[1]], act[2])
            for cid in cards:
                assert stored_state(col, cid) == col.replayed_state(cid)
        # Undo everything: back to six new cards and an empty log.
        while s.undo() is not None:
            pass
        for cid in cards:
            cc = col.card_columns(cid)
            assert (cc["state"], cc["reps"], cc["lapses"], cc["suspended"], cc["buried_until"], cc["flag"]) == (
                0, 0, 0, 0, 0, 0)
        assert col._sql("SELECT COUNT(*) FROM review").fetchone()[0] == 0
        assert all(" leech " not in r[0] for r in col._sql("SELECT tags FROM note"))
        assert col.check()["cards_repaired"] == 0
    finally:
        col.close()
        shutil.rmtree(d, ignore_errors=True)


def test_changing_deck_options_reschedules_from_the_log(col, now):
    did = set_opts(col, "D", learning_steps=[], relearning_steps=[])
    cards = _fill(col, "D", 4)
    s = col.study(did)
    for cid in cards:
        s.answer(cid, 3, now)
        s.answer(cid, 3, now + timedelta(days=2))
    before = {c: stored_state(col, c) for c in cards}
    n = col.set_deck_options(did, DeckOptions.from_dict({**col.deck_options(did).to_dict(),
                                                         "desired_retention": 0.8}))
    assert n == 4
    for c in cards:
        after = stored_state(col, c)
        assert after == col.replayed_state(c)
        assert after.due_ms > before[c].due_ms  # lower retention: longer intervals
    assert col._sql("SELECT COUNT(*) FROM review").fetchone()[0] == 8


def test_check_repairs_a_tampered_cache(col, now):
    did = col.deck_id("D", create=True)
    cid = _fill(col, "D", 1)[0]
    s = col.study(did)
    s.answer(cid, 3, now)
    good = stored_state(col, cid)
    col._sql("UPDATE card SET due_ms = 1, stability = 99 WHERE id = ?", (cid,))
    report = col.check()
    assert report == {"integrity": ["ok"], "foreign_key_problems": 0, "cards_repaired": 1}
    assert stored_state(col, cid) == good


def test_answers_of_one_card_are_strictly_time_ordered(col, now):
    did = col.deck_id("D", create=True)
    cid = _fill(col, "D", 1)[0]
    s = col.study(did)
    s.answer(cid, 1, now)
    s.answer(cid, 1, now - timedelta(hours=1))  # a clock that went backwards
    times = [r[0] for r in col._sql("SELECT time_ms FROM review ORDER BY id")]
    assert times == [to_ms(now), to_ms(now) + 1]
    assert stored_state(col, cid) == col.replayed_state(cid)


def test_answer_is_one_commit_visible_to_another_connection(col, now):
    import sqlite3

    did = col.deck_id("D", create=True)
    cid = _fill(col, "D", 1)[0]
    col.study(did).answer(cid, 3, now)
    other = sqlite3.connect(col.db_path)
    try:
        assert other.execute("SELECT COUNT(*) FROM review").fetchone()[0] == 1
        assert other.execute("SELECT state, reps FROM card WHERE id = ?", (cid,)).fetchone() == (1, 1)
    finally:
        other.close()


def test_scheduling_module_values_through_the_session(col, now):
    """A new card's buttons through the whole stack, fuzz on: 1 m, 5.5 m, 10 m and fuzzed 8 days."""
    did = col.deck_id("D", create=True)
    cid = _fill(col, "D", 1)[0]
    ivl = col.study(did).intervals(cid, now)
    assert (ivl[1], ivl[2], ivl[3]) == (60, 330, 600)
    fuzzed = scheduling.answer(scheduling.SchedState(), 4, to_ms(now), DeckOptions(), cid).due_ms - to_ms(now)
    assert ivl[4] == fuzzed // 1000 and ivl[4] % 86400 == 0 and 6 <= ivl[4] // 86400 <= 10


def test_new_limit_reached_with_many_cloze_siblings(col, now):
    did = set_opts(col, "D", new_per_day=3)
    firsts = []
    for n in range(5):
        text = " ".join(f"{{{{c{i}::w{n}x{i}}}}}" for i in range(1, 13))
        firsts.append(card_ids(col, col.add_note("Cloze", [text, ""], deck_id=did, now=now))[0])
    # One card per note (siblings are buried), and still the deck's three new cards.
    assert queue_ids(col, "D", now) == firsts[:3]
    set_opts(col, "D", bury_siblings=False)
    assert len(queue_ids(col, "D", now)) == 3


def test_new_cards_are_spread_among_reviews(col, now):
    did = set_opts(col, "D", learning_steps=[], relearning_steps=[])
    s = col.study(did)
    reviews = _fill(col, "D", 3)
    for cid in reviews:
        s.answer(cid, 3, now - timedelta(days=3))  # review cards, due yesterday
    news = _fill(col, "D", 3, prefix="new ")
    assert queue_ids(col, "D", now) == [news[0], reviews[0], news[1], reviews[1], news[2], reviews[2]]


def test_an_undone_card_deleted_or_suspended_elsewhere_is_not_shown(col, now):
    did = col.deck_id("D", create=True)
    a, b, c = _fill(col, "D", 3)
    s = col.study(did)
    s.answer(a, 4, now)
    assert s.undo() == a
    col.set_suspended([a], True)  # e.g. from the browser while the study screen waits
    assert s.next_card(now).card_id == b
    s.answer(b, 4, now)
    assert s.undo() == b
    col.delete_notes([col.card_columns(b)["note_id"]])  # e.g. deleted in the editor
    assert s.next_card(now).card_id == c


def test_changing_the_rollover_hour_applies_to_an_open_session(col, set_tz):
    set_tz("Europe/Berlin")
    did = col.deck_id("D", create=True)
    c1, c2 = card_ids(col, add_basic(col, "f", deck="D", notetype="Basic (and reversed card)"))
    s = col.study(did)
    at = datetime(2026, 3, 11, 2, 30, tzinfo=UTC)  # 03:30 CET: still 10 March's study day
    assert s.counts(at) == (1, 0, 0)
    col.set_setting("rollover_hour", 3)  # now it is 11 March's
    s.answer(c1, 3, at)
    assert col.card_columns(c2)["buried_until"] == datetime(2026, 3, 12).toordinal()
    assert s.next_card(at + 10 * MIN).card_id == c1


@pytest.mark.parametrize("zone,bury_at,next_day_starts", [
    # Spring forward in Berlin (29 March 2026): the study day of the 28th is 23 hours long.
    ("Europe/Berlin", datetime(2026, 3, 28, 20, 0, tzinfo=UTC), datetime(2026, 3, 29, 2, 0, tzinfo=UTC)),
    # Fall back in Berlin (25 October 2026): 25 hours.
    ("Europe/Berlin", datetime(2026, 10, 24, 20, 0, tzinfo=UTC), datetime(2026, 10, 25, 3, 0, tzinfo=UTC)),
    # New York: 8 March 2026 (23 h) and 1 November 2026 (25 h).
    ("America/New_York", datetime(2026, 3, 7, 20, 0, tzinfo=UTC), datetime(2026, 3, 8, 8, 0, tzinfo=UTC)),
    ("America/New_York", datetime(2026, 10, 31, 20, 0, tzinfo=UTC), datetime(2026, 11, 1, 9, 0, tzinfo=UTC)),
])
def test_buried_card_returns_at_the_next_local_rollover_across_dst(col, set_tz, zone, bury_at, next_day_starts):
    set_tz(zone)
    did = col.deck_id("D", create=True)
    c1, c2 = card_ids(col, add_basic(col, "f", deck="D", notetype="Basic (and reversed card)", now=bury_at))
    s = col.study(did)
    s.answer(c1, 4, bury_at)  # Easy: c1 is a review card days away; c2 is buried
    before = next_day_starts - timedelta(milliseconds=1)
    assert col.study(did).next_card(before) is None
    assert s.next_card(before) is None
    assert col.study(did).next_card(next_day_starts).card_id == c2
    assert s.next_card(next_day_starts).card_id == c2  # the open session rolls over too


def test_burying_or_suspending_the_card_put_back_by_undo(col, now):
    did = col.deck_id("D", create=True)
    a, b, c = _fill(col, "D", 3)
    s = col.study(did)
    s.answer(a, 4, now)
    assert s.undo() == a
    assert s.next_card(now).card_id == a
    s.bury(a, now)
    assert s.next_card(now).card_id == b
    s.suspend(b, now)
    assert s.next_card(now).card_id == c
    assert s.counts(now) == (1, 0, 0)
    assert [s.undo(), s.undo()] == [b, a]
    assert s.next_card(now).card_id == a


def test_undo_after_the_answer_vanished_in_a_restore(col, now):
    did = col.deck_id("D", create=True)
    a, b = _fill(col, "D", 2)
    path = col.backup(now)
    s = col.study(did)
    s.answer(a, 3, now)
    from flashcards.backup import restore

    restore(col, path, now + timedelta(seconds=1))
    assert s.undo() is None  # nothing of this session is left to undo
    assert stored_state(col, a) == col.replayed_state(a) and col.card_columns(a)["state"] == 0
    assert s.next_card(now + timedelta(seconds=2)).card_id == a


DECK_TREE = ["P", "P::A", "P::B", "P::A::X"]


@settings(max_examples=25, deadline=None, derandomize=True, database=None,  # deterministic
          suppress_health_check=[HealthCheck.too_slow])
@given(limits=st.lists(st.integers(0, 6), min_size=4, max_size=4),
       sizes=st.lists(st.integers(0, 6), min_size=4, max_size=4),
       fresh_sessions=st.booleans(), studied=st.sampled_from(DECK_TREE))
def test_new_limits_hold_for_every_deck_in_the_studied_tree(limits, sizes, fresh_sessions, studied):
    col, d = _tmp_collection()
    try:
        for name, limit, size in zip(DECK_TREE, limits, sizes, strict=True):
            did = col.deck_id(name, create=True, now_ms=to_ms(NOW))
            col.set_deck_options(did, DeckOptions(new_per_day=limit, learning_steps=[], relearning_steps=[]))
            for i in range(size):
                col.add_note("Basic", [f"{name} {i}", "x"], deck_id=did, now=NOW)
        root = col.deck_id(studied)
        s = col.study(root)
        t = NOW
        shown = 0
        while True:
            if fresh_sessions:
                s = col.study(root)  # e.g. the app restarted between answers
            c = s.next_card(t)
            if c is None:
                break
            s.answer(c.card_id, 4, t)  # Easy: a review card days away, so each card is seen once
            shown += 1
            t += timedelta(seconds=1)
            assert shown <= 50
        names = col.deck_names()
        per_deck = dict(col._sql("SELECT deck_id, COUNT(*) FROM review GROUP BY deck_id").fetchall())
        for name in names.values():
            if name == studied or name.startswith(studied + "::"):
                in_tree = sum(n for x, n in per_deck.items() if names[x] == name or names[x].startswith(name + "::"))
                assert in_tree <= limits[DECK_TREE.index(name)], (name, in_tree)
            elif not studied.startswith(name + "::"):
                assert not any(names[x] == name for x in per_deck)  # decks outside the tree untouched
        # Nothing new is left that every limit on its path would still allow.
        rem = {n: limits[DECK_TREE.index(n)] - sum(
            v for x, v in per_deck.items() if names[x] == n or names[x].startswith(n + "::")) for n in DECK_TREE}
        for did, name in names.items():
            if not (name == studied or name.startswith(studied + "::")):
                continue
            path = [p for p in DECK_TREE if (name == p or name.startswith(p + "::"))
                    and (p == studied or p.startswith(studied + "::"))]
            left = col._sql("SELECT COUNT(*) FROM card WHERE deck_id = ? AND state = 0", (did,)).fetchone()[0]
            assert left == 0 or min(rem[p] for p in path) <= 0, (name, left, rem)
    finally:
        col.close()
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- lazy queue = eager queue

LAZY_TREE = ["L", "L::A", "L::B"]
card_spec = st.tuples(st.integers(0, 2),  # deck
                      st.sampled_from(["new", "due", "overdue", "later", "learning", "suspended", "buried"]),
                      st.integers(0, 5),  # due offset (days or minutes)
                      st.booleans())  # reversed note (two cards)


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(cards=st.lists(card_spec, max_size=14), new_limits=st.lists(st.integers(0, 5), min_size=3, max_size=3),
       rev_limits=st.lists(st.integers(0, 5), min_size=3, max_size=3), bury=st.booleans(),
       studied=st.sampled_from(LAZY_TREE), ratings=st.lists(st.integers(1, 4), max_size=12))
def test_lazy_queue_reads_what_the_full_read_gives(cards, new_limits, rev_limits, bury, studied, ratings):
    """The queue read page by page (counts from SQL) equals the queue read in full, card for card,
    and stays equal to a fresh full read while cards are answered."""
    from flashcards.study import gather

    col, d = _tmp_collection()
    try:
        now_ms = to_ms(NOW)
        today = col.today(NOW)
        for name, nl, rl in zip(LAZY_TREE, new_limits, rev_limits, strict=True):
            did = col.deck_id(name, create=True, now_ms=now_ms)
            col.set_deck_options(did, DeckOptions(new_per_day=nl, reviews_per_day=rl, bury_siblings=bury,
                                                  learning_steps=[1.0, 10.0], relearning_steps=[10.0]))
        for i, (deck, kind, off, rev) in enumerate(cards):
            nid = col.add_note("Basic (and reversed card)" if rev else "Basic", [f"q{i}", "a"],
                               deck_id=col.deck_id(LAZY_TREE[deck]), now=NOW)
            for cid in card_ids(col, nid):
                if kind in ("due", "overdue", "later"):
                    due = now_ms + {"due": 0, "overdue": -off - 1, "later": off + 2}[kind] * DAY_MS - off * 1000
                    col._sql("UPDATE card SET state = 2, due_ms = ?, stability = 3.0, difficulty = 5.0, "
                             "last_review_ms = ?, reps = 1 WHERE id = ?", (due, due - 3 * DAY_MS, cid))
                elif kind == "learning":
                    col._sql("UPDATE card SET state = 1, step = 0, due_ms = ?, last_review_ms = ?, reps = 1 "
                             "WHERE id = ?", (now_ms + off * 60_000, now_ms - 60_000, cid))
                elif kind == "suspended":
                    col._sql("UPDATE card SET suspended = 1 WHERE id = ?", (cid,))
                elif kind == "buried":
                    col._sql("UPDATE card SET buried_until = ? WHERE id = ?", (today + 1, cid))
        col._touch()
        root = col.deck_id(studied)

        def drained(g) -> list[tuple]:
            out = []
            while g.main:
                out.append(g.main.popleft()[:4])
            return out

        lazy, eager = gather(col, root, NOW), gather(col, root, NOW, lazy=False)
        assert (lazy.new, lazy.review) == (eager.new, eager.review)
        assert drained(lazy) == drained(eager)
        # Answering through a session keeps its counts equal to a fresh full read.
        s = col.study(root)
        t = NOW
        for r in ratings:
            c = s.next_card(t)
            if c is None:
                break
            s.answer(c.card_id, r, t)
            t += timedelta(seconds=30)
            fresh = gather(col, root, t, lazy=False)
            lim = to_ms(t) + 20 * 60_000
            assert s.counts(t) == (fresh.new, sum(1 for x in fresh.learning if x[0] <= lim), fresh.review)
    finally:
        col.close()
        shutil.rmtree(d, ignore_errors=True)


def test_a_failed_answer_writes_nothing_and_the_next_one_works(col, now):
    """An answer is one transaction: if its card update fails, its review row is not kept either."""
    did = col.deck_id("D", create=True)
    a, b = _fill(col, "D", 2)
    s = col.study(did)
    col._sql(f"CREATE TEMP TRIGGER fail_card BEFORE UPDATE OF due_ms ON card WHEN NEW.id = {a} "
             "BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
    with pytest.raises(Exception, match="disk says no"):
        s.answer(a, 3, now)
    assert col._sql("SELECT COUNT(*) FROM review").fetchone()[0] == 0
    assert col.card_columns(a)["state"] == 0 and not col.db.in_transaction()
    s.answer(b, 3, now)  # the connection is usable: no transaction was left open
    assert [r[0] for r in col._sql("SELECT card_id FROM review")] == [b]


def test_answering_a_card_that_is_gone_changes_nothing(col, now):
    """The card is read inside the answer's write transaction: a card deleted meanwhile (by another
    process, say) gives a clear error, no review row, and no transaction left open."""
    did = col.deck_id("D", create=True)
    a, b = _fill(col, "D", 2)
    s = col.study(did)
    s.counts(now)
    col._sql("DELETE FROM card WHERE id = ?", (a,))
    with pytest.raises(FlashcardsError, match=f"no card with id {a}"):
        s.answer(a, 3, now)
    assert not col.db.connection().in_transaction
    assert col._sql("SELECT COUNT(*) FROM review").fetchone()[0] == 0
    s.answer(b, 3, now)
    assert [r[0] for r in col._sql("SELECT card_id FROM review")] == [b]


def test_a_card_due_again_within_a_25_hour_day_is_not_shown_twice(col, set_tz, monkeypatch):
    """On the study day that ends with a DST fall-back (25 hours), a one-day interval given in the
    day's first hour ends before the day does: the open session still shows that card only once,
    and the card due later that day keeps its place (the queue is read one row per page here)."""
    from flashcards import study

    monkeypatch.setattr(study, "_FIRST_PAGE", 1)
    monkeypatch.setattr(study, "_PAGE", 1)
    set_tz("Europe/Berlin")
    did = set_opts(col, "D", maximum_interval=1, learning_steps=[], relearning_steps=[])
    start = datetime(2026, 10, 24, 2, 0, tzinfo=UTC)  # 04:00 CEST: this study day ends 04:00 CET, 25 h later
    a, b, c = _fill(col, "D", 3)
    for cid, due in ((a, start - timedelta(days=2)), (b, start - timedelta(days=1)),
                     (c, start + timedelta(hours=24, minutes=50))):
        col._sql("UPDATE card SET state = 2, due_ms = ?, stability = 5.0, difficulty = 5.0, last_review_ms = ?, "
                 "reps = 1 WHERE id = ?", (to_ms(due), to_ms(start) - 6 * DAY_MS, cid))
    col._touch()
    s = col.study(did)
    t = start + timedelta(minutes=10)
    assert s.counts(t) == (0, 0, 3)
    shown = []
    for _ in range(4):
        card = s.next_card(t)
        if card is None:
            break
        shown.append(card.card_id)
        s.answer(card.card_id, 3, t)
        if card.card_id == a:  # due again today, before c
            assert to_ms(t) + DAY_MS == col.card_columns(a)["due_ms"] < to_ms(start) + 24 * 3600_000 + 50 * 60_000
        t += timedelta(seconds=10)
    assert shown == [a, b, c]
    assert s.counts(t) == (0, 0, 0)
