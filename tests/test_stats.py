"""flashcards.stats: the summary (``stats --json``), today's reviews across the rollover, forecast,
heatmap and true retention."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from core_helpers import add_basic, card_ids

from flashcards import stats
from flashcards.options import DeckOptions

KEYS = ("notes", "cards", "reviews", "reviews_today", "due_today", "decks", "media_files", "suspended")


def no_steps(col, deck="D") -> int:
    did = col.deck_id(deck, create=True)
    col.set_deck_options(did, DeckOptions(learning_steps=[], relearning_steps=[]))
    return did


def test_summary_of_an_empty_collection(col, now):
    s = stats.summary(col, now)
    assert {k: s[k] for k in KEYS} == dict.fromkeys(KEYS, 0)


def test_summary_counts(col, now):
    did = no_steps(col)
    cards = [card_ids(col, add_basic(col, f"q{i}", deck="D"))[0] for i in range(4)]
    rev = card_ids(col, add_basic(col, "rev", deck="D", notetype="Basic (and reversed card)"))
    (col.media_dir / "a.png").write_bytes(b"1")
    (col.media_dir / "b.mp3").write_bytes(b"2")
    s = col.study(did)
    yesterday = now - timedelta(days=1)
    s.answer(cards[0], 3, yesterday - timedelta(days=1))  # due in 2 days: today (-2 + 2)
    s.answer(cards[1], 3, yesterday)  # due tomorrow
    s.answer(cards[2], 2, now, duration_ms=7000)  # Hard: review, due in a day or so
    s.answer(cards[3], 3, now, duration_ms=90_000)  # capped at 60 s
    col.set_suspended([rev[1]], True)
    out = stats.summary(col, now)
    assert {k: out[k] for k in KEYS} == {
        "notes": 5, "cards": 6, "reviews": 4, "reviews_today": 2, "due_today": 1, "decks": 1,
        "media_files": 2, "suspended": 1}
    assert out["study_seconds_today"] == 67
    assert (out["new"], out["review"], out["learning"], out["relearning"]) == (1, 4, 0, 0)


def test_reviews_today_follow_the_local_study_day(col, set_tz):
    set_tz("Europe/Berlin")
    did = no_steps(col)
    cards = [card_ids(col, add_basic(col, f"q{i}", deck="D"))[0] for i in range(3)]
    s = col.study(did)
    # Study day of 28 March 2026 (Berlin, 4:00 rollover): 03:00 UTC to 02:00 UTC on the 29th (23 h).
    s.answer(cards[0], 3, datetime(2026, 3, 28, 2, 59, tzinfo=UTC))  # 03:59 CET: the 27th's day
    s.answer(cards[1], 3, datetime(2026, 3, 28, 3, 0, tzinfo=UTC))  # 04:00 CET: the 28th
    s.answer(cards[2], 3, datetime(2026, 3, 29, 1, 59, tzinfo=UTC))  # 03:59 CEST: still the 28th
    after = datetime(2026, 3, 29, 1, 59, 30, tzinfo=UTC)  # 03:59:30 CEST, after all three answers
    assert stats.today_reviews(col, after)[0] == 2
    assert stats.summary(col, after)["reviews_today"] == 2
    assert stats.today_reviews(col, datetime(2026, 3, 29, 2, 0, tzinfo=UTC))[0] == 0  # 04:00 CEST: the 29th
    col.set_setting("rollover_hour", 0)
    assert stats.today_reviews(col, after)[0] == 1  # the 29th began at 00:00 CET (23:00 UTC)
    heat = stats.heatmap(col, datetime(2026, 3, 29, 12, tzinfo=UTC), days=7)
    assert heat == {date(2026, 3, 28): 2, date(2026, 3, 29): 1}
    col.set_setting("rollover_hour", 4)
    heat = stats.heatmap(col, datetime(2026, 3, 29, 12, tzinfo=UTC), days=7)
    assert heat == {date(2026, 3, 27): 1, date(2026, 3, 28): 2}


def test_forecast(col, now, set_tz):
    set_tz("America/New_York")
    did = no_steps(col)
    cards = [card_ids(col, add_basic(col, f"q{i}", deck="D"))[0] for i in range(3)]
    s = col.study(did)
    s.answer(cards[0], 3, now - timedelta(days=5))  # overdue: today
    s.answer(cards[1], 3, now)  # due in 2 days
    s.answer(cards[2], 1, now)  # Again without steps: review, due tomorrow
    f = stats.forecast(col, now, days=5)
    assert len(f) == 5 and sum(f) == 3
    assert f[0] == 1 and f[2] == 1 and f[1] == 1


def test_card_counts(col, now):
    did = no_steps(col)
    cards = [card_ids(col, add_basic(col, f"q{i}", deck="D"))[0] for i in range(3)]
    col.study(did).answer(cards[0], 3, now)
    col.set_suspended([cards[1]], True)
    assert stats.card_counts(col) == {"new": 1, "learning": 0, "review": 1, "relearning": 0, "suspended": 1,
                                      "total": 3}


def test_true_retention_young_and_mature(col, now):
    did = no_steps(col)
    a, b = (card_ids(col, add_basic(col, f"q{i}", deck="D"))[0] for i in range(2))
    s = col.study(did)
    t0 = now - timedelta(days=29)
    s.answer(a, 3, t0)  # learn (not counted)
    s.answer(a, 3, t0 + timedelta(days=2))  # young review, passed
    s.answer(a, 1, t0 + timedelta(days=4))  # young review, failed
    s.answer(b, 3, now - timedelta(days=60))  # learn, outside the window
    s.answer(b, 3, now - timedelta(days=1))  # mature (59 days since the last answer), passed
    r = stats.retention(col, now, days=30)
    assert r == {"young": 0.5, "young_count": 2, "mature": 1.0, "mature_count": 1}


# ------------------------------------------------- the SQL-side counting against a plain reference


def _reference_forecast(col, now, days):
    """Each due card placed in its local study day one by one (what forecast() computes in SQL)."""
    from flashcards.timeutil import local_tz, study_day

    tz, rollover = local_tz(), col.rollover_hour
    first = study_day(now, rollover, tz)
    out = [0] * days
    for (due,) in col._sql("SELECT due_ms FROM card WHERE state != 0 AND suspended = 0"):
        i = max(0, (study_day(datetime.fromtimestamp(due / 1000, UTC), rollover, tz) - first).days)
        if i < days:
            out[i] += 1
    return out


def _reference_heatmap(col, now, days):
    from flashcards.timeutil import local_tz, study_day

    tz, rollover = local_tz(), col.rollover_hour
    last = study_day(now, rollover, tz)
    out: dict = {}
    for (t,) in col._sql("SELECT time_ms FROM review WHERE kind IN (0, 1, 2, 3) AND rating > 0"):
        d = study_day(datetime.fromtimestamp(t / 1000, UTC), rollover, tz)
        if 0 <= (last - d).days < days:
            out[d] = out.get(d, 0) + 1
    return out


def _reference_retention(col, now, days):
    since = int(now.timestamp() * 1000) - days * 86_400_000
    young, mature, prev = [0, 0], [0, 0], {}
    for cid, t, rating, kind in col._sql("SELECT card_id, time_ms, rating, kind FROM review "
                                         "WHERE kind IN (0, 1, 2, 3) AND rating > 0 ORDER BY card_id, id"):
        last, prev[cid] = prev.get(cid), t
        if kind == 1 and t >= since and last is not None:
            bucket = mature if t - last >= 21 * 86_400_000 else young
            bucket[0] += 1
            bucket[1] += rating > 1
    return {"young": young[1] / young[0] if young[0] else None, "young_count": young[0],
            "mature": mature[1] / mature[0] if mature[0] else None, "mature_count": mature[0]}



@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
                                  "UTC"])
def test_forecast_heatmap_and_retention_equal_a_row_by_row_count(col, set_tz, zone):
    """Random due times and review times over more than a year, across DST changes (Lord Howe moves
    by 30 minutes, Kolkata is UTC+5:30), with rollover hours 0, 4 and 23: the SQL-side counts equal
    placing every row in its local study day one by one."""
    import random

    from flashcards.drafts import review_id

    set_tz(zone)
    rng = random.Random(zone)
    did = col.deck_id("D", create=True)
    # The forecast's 30 days hold Lord Howe's change (4 October) from the first now, Berlin's and New
    # York's (25 October, 1 November) from the second.
    first_now, now = datetime(2026, 9, 25, 15, 7, tzinfo=UTC), datetime(2026, 10, 20, 15, 7, tzinfo=UTC)
    now_ms = int(now.timestamp() * 1000)
    cards = [card_ids(col, add_basic(col, f"q{i}", deck="D"))[0] for i in range(300)]
    rows = []
    for cid in cards:
        state = rng.choice([0, 1, 2, 2, 2, 3])
        due = now_ms + rng.randrange(-45 * 86_400_000, 40 * 86_400_000)
        col._sql("UPDATE card SET state = ?, due_ms = ?, suspended = ? WHERE id = ?",
                 (state, due, int(rng.random() < 0.1), cid))
        t = now_ms - rng.randrange(0, 420 * 86_400_000)
        for _ in range(rng.randrange(0, 8)):
            kind = rng.choice([0, 1, 1, 1, 2, 4])
            rating = 0 if kind == 4 else rng.randrange(1, 5)
            rows.append((review_id(t), cid, "g", 0, did, t, rating, kind, 2, 1000, 0, "{}"))
            t = min(now_ms, t + rng.randrange(60_000, 60 * 86_400_000))
    col.db.connection().executemany(
        "INSERT OR IGNORE INTO review (id, card_id, note_guid, ord, deck_id, time_ms, rating, kind, state_before, "
        "duration_ms, interval_s, undo) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    for rollover in (0, 4, 23):
        col.set_setting("rollover_hour", rollover)
        for t in (first_now, now):
            assert stats.forecast(col, t, days=30) == _reference_forecast(col, t, 30), (rollover, t)
        assert stats.heatmap(col, now, days=365) == _reference_heatmap(col, now, 365), rollover
        assert stats.retention(col, now, days=30) == _reference_retention(col, now, 30)
    assert sum(stats.heatmap(col, now, days=365).values()) > 100
