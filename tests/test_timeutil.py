"""flashcards.timeutil: ms conversions, the study day with a rollover hour, DST (23/25-hour days)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashcards import timeutil as T

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*a) -> datetime:
    return datetime(*a, tzinfo=UTC)


def test_ms_round_trip_and_truncation():
    dt = utc(2026, 3, 10, 12, 0, 0, 123_987)
    assert T.truncate_ms(dt) == utc(2026, 3, 10, 12, 0, 0, 123_000)
    assert T.require_utc(dt) == utc(2026, 3, 10, 12, 0, 0, 123_000)
    ms = T.to_ms(T.require_utc(dt))
    assert ms == 1773144000123
    assert T.from_ms(ms) == utc(2026, 3, 10, 12, 0, 0, 123_000)
    assert T.from_ms(ms).tzinfo is UTC  # fsrs accepts only datetime.timezone.utc


def test_require_utc_refuses_naive_and_converts_other_zones():
    with pytest.raises(ValueError):
        T.require_utc(datetime(2026, 3, 10, 12))
    with pytest.raises(ValueError):
        T.to_ms(datetime(2026, 3, 10, 12))
    berlin = datetime(2026, 3, 10, 13, 0, tzinfo=BERLIN)
    assert T.require_utc(berlin) == utc(2026, 3, 10, 12) and T.require_utc(berlin).tzinfo is UTC
    assert T.utc_now().tzinfo is UTC and T.utc_now().microsecond % 1000 == 0


def test_study_day_rollover_hour():
    tz = NEW_YORK
    # 03:59 local on 11 March (EDT, UTC-4) still belongs to 10 March with the default 4:00 rollover.
    assert T.study_day(utc(2026, 3, 11, 7, 59), 4, tz) == date(2026, 3, 10)
    assert T.study_day(utc(2026, 3, 11, 8, 0), 4, tz) == date(2026, 3, 11)
    assert T.study_day(utc(2026, 3, 11, 7, 59), 0, tz) == date(2026, 3, 11)
    assert T.study_day(utc(2026, 3, 11, 11, 59), 8, tz) == date(2026, 3, 10)
    start, end = T.day_bounds(utc(2026, 3, 11, 12), 4, tz)
    assert (start, end) == (utc(2026, 3, 11, 8), utc(2026, 3, 12, 8))


@pytest.mark.parametrize("tz,day,hours", [
    (BERLIN, date(2026, 3, 28), 23),  # 29 March 02:00 -> 03:00 falls inside the study day of the 28th
    (BERLIN, date(2026, 3, 29), 24),
    (BERLIN, date(2026, 10, 24), 25),  # 25 October 03:00 -> 02:00
    (NEW_YORK, date(2026, 3, 7), 23),  # 8 March 02:00 -> 03:00
    (NEW_YORK, date(2026, 10, 31), 25),  # 1 November 02:00 -> 01:00
    (NEW_YORK, date(2026, 7, 1), 24),
])
def test_study_day_lengths_across_dst(tz, day, hours):
    start = T.day_start(day, 4, tz)
    end = T.day_start(day + timedelta(days=1), 4, tz)
    assert end - start == timedelta(hours=hours)
    assert start.astimezone(tz).hour == 4 and end.astimezone(tz).hour == 4
    mid = start + (end - start) / 2
    assert T.day_bounds(mid, 4, tz) == (start, end)
    assert T.study_day(end - timedelta(milliseconds=1), 4, tz) == day
    assert T.study_day(end, 4, tz) == day + timedelta(days=1)


def test_berlin_literal_boundaries():
    # The study day of 28 March 2026 (4:00 rollover) runs 03:00 UTC (CET) to 02:00 UTC next day (CEST).
    assert T.day_bounds(utc(2026, 3, 28, 20), 4, BERLIN) == (utc(2026, 3, 28, 3), utc(2026, 3, 29, 2))
    assert T.day_bounds(utc(2026, 10, 25, 1), 4, BERLIN) == (utc(2026, 10, 24, 2), utc(2026, 10, 25, 3))


def test_rollover_inside_the_skipped_or_repeated_hour():
    # Rollover at 2:00 in Berlin: on 29 March 2:00 does not exist; the day starts at the change (01:00 UTC).
    assert T.day_start(date(2026, 3, 29), 2, BERLIN) == utc(2026, 3, 29, 1)
    assert T.study_day(utc(2026, 3, 29, 0, 59), 2, BERLIN) == date(2026, 3, 28)
    assert T.study_day(utc(2026, 3, 29, 1, 0), 2, BERLIN) == date(2026, 3, 29)
    # On 25 October 2:00 happens twice: the day starts at the first one.
    assert T.day_start(date(2026, 10, 25), 2, BERLIN) == utc(2026, 10, 25, 0)


ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "America/Santiago",
         "Asia/Kolkata", "UTC"]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)  # deterministic
@given(
    zone=st.sampled_from(ZONES),
    hour=st.integers(0, 23),
    instant=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31),
                         timezones=st.just(UTC)),
)
def test_every_instant_lies_in_its_study_day(zone, hour, instant):
    tz = ZoneInfo(zone)
    instant = T.truncate_ms(instant)
    start, end = T.day_bounds(instant, hour, tz)
    assert start <= instant < end
    assert timedelta(hours=22) <= end - start <= timedelta(hours=26)
    assert T.study_day(start, hour, tz) == T.study_day(instant, hour, tz)
    assert T.study_day(end, hour, tz) == T.study_day(instant, hour, tz) + timedelta(days=1)


def test_local_tz_follows_TZ_with_its_dst_rules(set_tz):
    set_tz("Europe/Berlin")
    tz = T.local_tz()
    # Not a fixed offset: winter and summer offsets both come out right whatever today's date is.
    assert datetime(2026, 1, 15, 12, tzinfo=tz).utcoffset() == timedelta(hours=1)
    assert datetime(2026, 7, 15, 12, tzinfo=tz).utcoffset() == timedelta(hours=2)
    assert T.day_bounds(utc(2026, 3, 28, 20), 4) == (utc(2026, 3, 28, 3), utc(2026, 3, 29, 2))
    set_tz("America/New_York")
    assert T.study_day(utc(2026, 3, 11, 7, 59)) == date(2026, 3, 10)
    set_tz("UTC")
    assert T.local_tz().utcoffset(datetime(2026, 7, 1)) == timedelta(0)


def test_local_tz_unknown_name_falls_back_to_an_offset(set_tz):
    set_tz("Nowhere/Atlantis")
    assert isinstance(T.local_tz().utcoffset(datetime(2026, 1, 1)), timedelta)
    assert isinstance(T.local_tz(), (timezone, ZoneInfo))
