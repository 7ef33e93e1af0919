"""Business days: the pure arithmetic at its edges (a Friday start, a holiday
on Monday, daylight-saving changes, a start after hours), then the engine's
business_days_after on the organization's zone and holiday calendar."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from coenforce import escalation
from coenforce.escalation.calendar import add_business_days, add_calendar_days, nth_business_day
from coenforce.escalation.models import Holiday

LA = ZoneInfo("America/Los_Angeles")


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def local(*args):
    return datetime(*args, tzinfo=LA)


def test_a_friday_start_counts_from_monday():
    assert add_business_days(local(2026, 2, 6, 10), 1, LA) == utc(2026, 2, 10, 7, 59, 59)  # Mon 23:59:59 PST
    assert add_business_days(local(2026, 2, 6, 10), 5, LA) == utc(2026, 2, 14, 7, 59, 59)  # Fri next week


def test_a_holiday_on_monday_is_skipped():
    presidents_day = {date(2026, 2, 16)}
    assert add_business_days(local(2026, 2, 13, 10), 1, LA, presidents_day) == utc(2026, 2, 18, 7, 59, 59)  # Tue
    assert add_business_days(local(2026, 2, 13, 10), 1, LA) == utc(2026, 2, 17, 7, 59, 59)  # Mon without it


def test_the_end_of_day_keeps_local_time_across_daylight_saving_changes():
    # Spring forward on Sunday 2026-03-08: Friday is PST (-8), the due Monday PDT (-7).
    assert add_business_days(local(2026, 3, 6, 10), 1, LA) == utc(2026, 3, 10, 6, 59, 59)
    # 14 business days across it end on Thursday 2026-03-26, 23:59:59 PDT.
    assert add_business_days(local(2026, 3, 6, 10), 14, LA) == utc(2026, 3, 27, 6, 59, 59)
    # Fall back on Sunday 2026-11-01: Friday is PDT, the due Monday PST.
    assert add_business_days(local(2026, 10, 30, 10), 1, LA) == utc(2026, 11, 3, 7, 59, 59)
    assert add_calendar_days(local(2026, 10, 30, 10), 3, LA) == utc(2026, 11, 3, 7, 59, 59)


def test_a_start_after_hours_counts_by_its_local_date_not_its_utc_date():
    friday_evening = local(2026, 2, 6, 22, 30)        # Saturday 06:30 in UTC
    assert friday_evening.astimezone(timezone.utc).weekday() == 5
    assert add_business_days(friday_evening, 1, LA) == utc(2026, 2, 10, 7, 59, 59)  # Monday, not Tuesday
    # A start on the weekend is day 0 as well: Monday is day 1.
    assert add_business_days(local(2026, 2, 7, 12), 1, LA) == utc(2026, 2, 10, 7, 59, 59)
    # The start's own day never counts, even early in the morning.
    assert add_business_days(local(2026, 2, 9, 0, 1), 1, LA) == utc(2026, 2, 11, 7, 59, 59)


def test_zero_days_is_the_end_of_the_start_day_and_bad_input_is_refused():
    assert add_business_days(local(2026, 2, 9, 10), 0, LA) == utc(2026, 2, 10, 7, 59, 59)
    assert nth_business_day(date(2026, 12, 24), 1, {date(2026, 12, 25)}) == date(2026, 12, 28)
    with pytest.raises(ValueError):
        add_business_days(datetime(2026, 2, 9, 10), 1, LA)
    with pytest.raises(ValueError):
        nth_business_day(date(2026, 2, 9), -1, ())


def test_business_days_after_uses_the_organizations_zone_and_its_own_holidays(make_org, session):
    agency = make_org("agency", name="West")
    eastern = make_org("agency", name="East", timezone="America/New_York")
    session.add(Holiday(organization_id=agency.id, date=date(2026, 2, 16), name="Presidents' Day",
                        created_at=utc(2026, 1, 1)))
    session.commit()
    start = utc(2026, 2, 14, 3)  # Friday 19:00 in Los Angeles, Friday 22:00 in New York
    assert escalation.business_days_after(session, agency.id, start, 1) == utc(2026, 2, 18, 7, 59, 59)
    # Another agency's holiday does not count for this one.
    assert escalation.business_days_after(session, eastern.id, start, 1) == utc(2026, 2, 17, 4, 59, 59)


def test_a_calendar_thick_with_holidays_is_read_in_a_wider_window(make_org, session):
    agency = make_org("agency")
    # Every weekday of March and April 2026 is a holiday: the first business day is 1 May.
    day = date(2026, 3, 1)
    while day < date(2026, 5, 1):
        if day.weekday() < 5:
            session.add(Holiday(organization_id=agency.id, date=day, name="Closed", created_at=utc(2026, 1, 1)))
        day = date.fromordinal(day.toordinal() + 1)
    session.commit()
    assert escalation.business_days_after(session, agency.id, utc(2026, 2, 27, 20), 1) == utc(2026, 5, 2, 6, 59, 59)
