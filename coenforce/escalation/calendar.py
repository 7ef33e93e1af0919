"""Business days: pure date arithmetic, no database.

A due time "N business days after" a start is the end of the N-th business
day (23:59:59 local time) counted from the day after the start's local date:
the day of the start never counts, whatever the hour (a request received on
Friday evening, or Saturday, is day 0; Monday is day 1). Weekends and the
organization's holidays are skipped. The result is converted to UTC with the
zone's rules, so a daylight-saving change in between moves the UTC offset,
never the local end of day.
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

END_OF_DAY = time(23, 59, 59)
SATURDAY = 5


def is_business_day(day: date, holidays: Collection[date]) -> bool:
    return day.weekday() < SATURDAY and day not in holidays


def local_date(at: datetime, zone: ZoneInfo) -> date:
    """The calendar date of an aware time in `zone`."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: a time must carry its offset")
    return at.astimezone(zone).date()


def nth_business_day(after: date, days: int, holidays: Collection[date]) -> date:
    """The `days`-th business day after `after` (`after` itself never counts);
    0 gives `after`."""
    if days < 0:
        raise ValueError("days must be 0 or more")
    day, counted = after, 0
    while counted < days:
        day += timedelta(days=1)
        if is_business_day(day, holidays):
            counted += 1
    return day


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """23:59:59 of `day` in `zone`, in UTC."""
    return datetime.combine(day, END_OF_DAY, tzinfo=zone).astimezone(timezone.utc)


def add_business_days(start: datetime, days: int, zone: ZoneInfo, holidays: Collection[date] = ()) -> datetime:
    """The end of the `days`-th business day after `start`'s local date, in UTC."""
    return end_of_day(nth_business_day(local_date(start, zone), days, holidays), zone)


def add_calendar_days(start: datetime, days: int, zone: ZoneInfo) -> datetime:
    """The end of the `days`-th calendar day after `start`'s local date, in UTC."""
    if days < 0:
        raise ValueError("days must be 0 or more")
    return end_of_day(local_date(start, zone) + timedelta(days=days), zone)


def span_for(days: int) -> int:
    """Calendar days that surely hold `days` business days if there are few
    holidays: a first window to read holidays in (widened when it was short)."""
    return days * 7 // 5 + 14
