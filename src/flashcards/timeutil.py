"""Time helpers: UTC instants as epoch milliseconds, and the study day with a local rollover hour.

The core works in UTC; "today" is the only local notion and is computed here, in one place. A study
day starts at ``rollover_hour`` local time (Anki's default 4:00) and may last 23 or 25 hours across a
DST change: day boundaries are computed in local wall-clock time, then converted to UTC.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

DAY_MS = 86_400_000


def utc_now() -> datetime:
    """The current time, UTC, truncated to milliseconds (so stored and live values replay alike)."""
    return truncate_ms(datetime.now(UTC))


def require_utc(now: datetime) -> datetime:
    """``now`` as a UTC datetime truncated to ms; refuses naive datetimes."""
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass a timezone-aware UTC time")
    if now.tzinfo is not UTC:
        now = now.astimezone(UTC)
    return truncate_ms(now)


def truncate_ms(dt: datetime) -> datetime:
    """Drop sub-millisecond precision."""
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def to_ms(dt: datetime) -> int:
    """Epoch milliseconds of a tz-aware datetime."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime: pass a timezone-aware UTC time")
    return int(round(dt.timestamp() * 1000))


def from_ms(ms: int) -> datetime:
    """UTC datetime for epoch milliseconds (``timezone.utc``, which fsrs requires)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def local_tz() -> tzinfo:
    """The machine's local time zone, with its DST rules (``$TZ`` or ``/etc/localtime`` as a ZoneInfo).

    Not ``datetime.now().astimezone().tzinfo``: that is today's fixed UTC offset, which would make study
    days across a DST change 24 hours long and put their boundaries an hour off. Falls back to the
    current offset only where the system names no zone (e.g. Android without ``$TZ``).
    """
    zone = _named_zone(os.environ.get("TZ"))
    return zone if zone is not None else (datetime.now().astimezone().tzinfo or UTC)


@lru_cache(maxsize=8)
def _named_zone(tz_env: str | None) -> tzinfo | None:
    try:
        if tz_env:
            return ZoneInfo(tz_env.removeprefix(":"))
        with open("/etc/localtime", "rb") as f:
            return ZoneInfo.from_file(f, key="localtime")
    except (OSError, ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return None


def study_day(now: datetime, rollover_hour: int = 4, tz: tzinfo | None = None) -> date:
    """The study day ``now`` belongs to: the local date, counting hours before rollover as yesterday."""
    local = now.astimezone(tz or local_tz())
    d = local.date()
    if local.hour < rollover_hour:
        d -= timedelta(days=1)
    return d


def day_start(day: date, rollover_hour: int = 4, tz: tzinfo | None = None) -> datetime:
    """The UTC instant a study day begins (rollover hour, local wall clock, DST-aware)."""
    tz = tz or local_tz()
    # fold=0 picks the first of an ambiguous hour; a non-existent one (spring forward) maps to a real
    # instant an hour later, so a study day is 23 or 25 hours long across a DST change.
    return datetime.combine(day, time(hour=rollover_hour), tzinfo=tz).astimezone(UTC)


def day_bounds(now: datetime, rollover_hour: int = 4, tz: tzinfo | None = None) -> tuple[datetime, datetime]:
    """UTC start and end of the study day containing ``now``."""
    d = study_day(now, rollover_hour, tz)
    return day_start(d, rollover_hour, tz), day_start(d + timedelta(days=1), rollover_hour, tz)
