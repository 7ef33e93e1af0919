"""Each immigration-protection operation's input and output, declared once.

No field asks for immigration status, citizenship, SSN or birth data: who
asked for a certification is an office, and "in removal proceedings" is a
yes/no that only sets the legal deadline."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from coenforce import clock
from coenforce.protections.types import CertificationDecision, CertificationForm
from coenforce.schemas import Input, OptionalField, OptionalText, Output, PastTime, Text, WithDefault, invalid


def _date(value: Any) -> Any:
    """A calendar date from ISO text (2026-03-07) or a date; a time is refused."""
    if isinstance(value, datetime):
        raise invalid("date_format")
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise invalid("date_format")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise invalid("date_format") from None


def _not_future(value: date) -> date:
    if value > clock.now().date():
        raise invalid("time_in_future")
    return value


def _not_too_early(value: date) -> date:
    if value.year < 1970:
        raise invalid("time_too_early")
    return value


Day = Annotated[date, AfterValidator(_not_too_early), BeforeValidator(_date)]
PastDay = Annotated[date, AfterValidator(_not_future), AfterValidator(_not_too_early), BeforeValidator(_date)]
Days = Annotated[int, Field(ge=1, le=365)]
BusinessDays = Annotated[int, Field(ge=1, le=120)]


# ----------------------------------------------------------------- certification

class CertificationIn(Input):
    """A T or U visa certification request as it reached the agency."""

    certification_form: CertificationForm
    requested_by: Text(200)                       # the requesting attorney's office
    requested_at: OptionalField(PastTime)         # when the request was received; now if left out
    removal_proceedings: WithDefault(bool, False)


class CertificationDecisionIn(Input):
    decision: CertificationDecision
    note: OptionalText(2_000, multiline=True)     # required to decline


# ----------------------------------------------------------------- Statement of Interest

class LetterIn(Input):
    requested_by: Text(200)
    requested_at: OptionalField(PastTime)
    note: OptionalText(2_000, multiline=True)


class LetterSentIn(Input):
    sent_to: Text(200)
    sent_at: OptionalField(PastTime)
    note: OptionalText(2_000, multiline=True)


# ----------------------------------------------------------------- deferred action

class GrantIn(Input):
    """A labor-based deferred action grant that exists: its dates, from the approval notice."""

    granted_on: PastDay
    expires_on: Day
    note: OptionalText(2_000, multiline=True)


# ----------------------------------------------------------------- agency settings and holidays

class SettingsIn(Input):
    certification_days: Days
    removal_business_days: BusinessDays
    letter_business_days: BusinessDays


class HolidayIn(Input):
    date: Day
    name: Text(100)


class HolidayOut(Output):
    id: int
    date: date
    name: str
