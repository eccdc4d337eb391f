"""Read-only figures for the stats screen and ``flashcards stats`` (SQL, no writes)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flashcards.timeutil import day_bounds, day_start, local_tz, require_utc, study_day, to_ms

MATURE_DAYS = 21


def summary(col, now: datetime) -> dict:
    """The ``stats --json`` object: notes, cards, reviews, reviews_today, due_today, decks,
    media_files, suspended, plus counts by state and today's study time."""
    now = require_utc(now)
    q = col._sql
    start, end = day_bounds(now, col.rollover_hour, local_tz())
    today = col.today(now)
    counts = card_counts(col)
    reviews_today, seconds_today = today_reviews(col, now)
    due_today = q("SELECT COUNT(*) FROM card WHERE state != 0 AND suspended = 0 AND buried_until <= ? "
                  "AND due_ms < ?", (today, to_ms(end))).fetchone()[0]
    return {
        "notes": q("SELECT COUNT(*) FROM note").fetchone()[0],
        "cards": q("SELECT COUNT(*) FROM card").fetchone()[0],
        "reviews": q("SELECT COUNT(*) FROM review").fetchone()[0],
        "reviews_today": reviews_today,
        "study_seconds_today": seconds_today,
        "due_today": due_today,
        "decks": q("SELECT COUNT(*) FROM deck").fetchone()[0],
        "media_files": col.media_count(),
        "suspended": counts["suspended"],
        "new": counts["new"],
        "learning": counts["learning"],
        "review": counts["review"],
        "relearning": counts["relearning"],
    }


def today_reviews(col, now: datetime) -> tuple[int, int]:
    """(answers given today, seconds spent on them)."""
    start, _ = day_bounds(require_utc(now), col.rollover_hour, local_tz())
    n, ms = col._sql("SELECT COUNT(*), COALESCE(SUM(duration_ms), 0) FROM review WHERE id >= ? "
                     "AND kind IN (0, 1, 2, 3) AND rating > 0", (to_ms(start) << 20,)).fetchone()
    return n, ms // 1000


def card_counts(col) -> dict:
    """Cards by state (new, learning, review, relearning) plus suspended and total."""
    out = {"new": 0, "learning": 0, "review": 0, "relearning": 0}
    names = {0: "new", 1: "learning", 2: "review", 3: "relearning"}
    for st, n in col._sql("SELECT state, COUNT(*) FROM card WHERE suspended = 0 GROUP BY state"):
        out[names[st]] = n
    out["suspended"] = col._sql("SELECT COUNT(*) FROM card WHERE suspended = 1").fetchone()[0]
    out["total"] = sum(out.values())
    return out


#: Every time zone's offset from UTC is a multiple of 15 minutes, and so is every study day's start
#: (a whole rollover hour, local time): times counted in 15-minute slots from a day's start fall into
#: days exactly. SQL counts the slots (a few thousand at most); Python adds them up by day.
SLOT_MS = 15 * 60_000


def forecast(col, now: datetime, days: int = 30) -> list[int]:
    """Cards due on each of the next ``days`` study days (index 0 = today, overdue included)."""
    import bisect

    now = require_utc(now)
    tz = local_tz()
    rollover = col.rollover_hour
    first = study_day(now, rollover, tz)
    base = to_ms(day_start(first, rollover, tz))
    bounds = [to_ms(day_start(first + timedelta(days=i), rollover, tz)) for i in range(1, days + 1)]
    out = [0] * days
    # (Division truncates towards zero: overdue cards get slot 0 or below, today either way.)
    for slot, n in col._sql(f"SELECT (due_ms - ?) / {SLOT_MS}, COUNT(*) FROM card WHERE state != 0 "
                            f"AND suspended = 0 AND due_ms < ? GROUP BY 1", (base, bounds[-1])):
        out[bisect.bisect_right(bounds, base + max(slot, 0) * SLOT_MS)] += n
    return out


def heatmap(col, now: datetime, days: int = 365) -> dict[date, int]:
    """Answers per study day over the last ``days`` days (days without reviews omitted)."""
    now = require_utc(now)
    tz = local_tz()
    rollover = col.rollover_hour
    first = study_day(now, rollover, tz) - timedelta(days=days - 1)
    starts = [to_ms(day_start(first + timedelta(days=i), rollover, tz)) for i in range(days + 1)]
    out: dict[date, int] = {}
    # One count per day over the day's range of review ids (an id starts with its time in ms): the
    # rows are counted by SQLite, none is converted to a local date in Python.
    count = "SELECT COUNT(*) FROM review WHERE id >= ? AND id < ? AND kind IN (0, 1, 2, 3) AND rating > 0"
    conn = col.db.connection()
    for i in range(days):
        n = conn.execute(count, (starts[i] << 20, starts[i + 1] << 20)).fetchone()[0]
        if n:
            out[first + timedelta(days=i)] = n
    return out


def retention(col, now: datetime, days: int = 30) -> dict:
    """True retention over the last ``days`` days: share of review-state answers not rated Again,
    split by young (interval < 21 days before the answer) and mature cards."""
    now = require_utc(now)
    since = to_ms(now) - days * 86_400_000
    young = [0, 0]
    mature = [0, 0]
    # The answers of the window only; each one's previous answer found through the card's index.
    for rating, gap in col._sql(
            "SELECT r.rating, r.time_ms - (SELECT p.time_ms FROM review p WHERE p.card_id = r.card_id "
            "AND p.id < r.id AND p.kind IN (0, 1, 2, 3) AND p.rating > 0 ORDER BY p.id DESC LIMIT 1) "
            "FROM review r WHERE r.id >= ? AND r.time_ms >= ? AND r.kind = 1 AND r.rating > 0",
            (since << 20, since)):
        if gap is None:
            continue
        bucket = mature if gap >= MATURE_DAYS * 86_400_000 else young
        bucket[0] += 1
        bucket[1] += rating > 1
    return {
        "young": (young[1] / young[0]) if young[0] else None, "young_count": young[0],
        "mature": (mature[1] / mature[0]) if mature[0] else None, "mature_count": mature[0],
    }
