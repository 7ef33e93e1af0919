"""Each immigration-protection operation's input and output, declared once.

No field asks for immigration status, citizenship, SSN or birth data: who
asked for a certification is an office, and "in removal proceedings" is a
yes/no that only sets the legal deadline."""
from __future__ import annotations

from datetime import date  # noqa: F401 (HolidayOut.date is a date)
from typing import Annotated

from pydantic import Field

from coenforce.protections.types import CertificationDecision, CertificationForm
from coenforce.schemas import Day, Input, OptionalField, OptionalText, Output, PastDay, PastTime, Text, WithDefault

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
