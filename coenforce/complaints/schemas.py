"""Each complaint operation's input and output, declared once: the API, the
pages and the OpenAPI document all use these."""
from __future__ import annotations

from datetime import datetime

from pydantic import AliasChoices, Field

from coenforce.complaints.types import ActionType, ComplaintStatus, Language, RetaliationType
from coenforce.escalation import ClockState
from coenforce.schemas import (
    Cents, Count, Cursor, Id, Input, OptionalField, OptionalText, Output, PageQuery, PastTime, Query, Text, UniqueList,
    WithDefault,
)


# ----------------------------------------------------------------- inputs

class ComplaintIn(Input):
    """A retaliation complaint as filed. `agency_id` may be left out when the
    filer works with one agency only."""

    agency_id: OptionalField(Id)
    employer_name: Text(200)
    worksite_address: OptionalText(300)
    retaliation_types: UniqueList(RetaliationType, min_length=1)
    description: Text(10_000, multiline=True)
    labor_dispute: OptionalText(5_000, multiline=True)
    language: WithDefault(Language, Language.EN)
    workers_affected: WithDefault(Count(), 1)
    # When the agency received it; now if not given.
    received_at: OptionalField(PastTime)
    shared_with: UniqueList(Id)


class ActionIn(Input):
    type: ActionType
    taken_at: OptionalField(PastTime)
    note: OptionalText(5_000, multiline=True)
    # For the attorney list: the language it was given in (the complainant's if not said).
    language: OptionalField(Language)


class AssignIn(Input):
    # None gives the complaint back to nobody.
    assignee_id: OptionalField(Id)


class ShareIn(Input):
    shared_with: UniqueList(Id)


class DamagesIn(Input):
    basis: Text(200)
    workers: WithDefault(Count(), 1)
    violations: WithDefault(Count(), 1)
    claimed: Cents
    statutory_max: Cents
    assessed: Cents
    recovered: Cents


class CloseIn(Input):
    note: Text(5_000, multiline=True)


class ComplaintFilter(Query):
    state: OptionalField(ClockState)
    status: OptionalField(ComplaintStatus)
    assignee_id: OptionalField(Id)
    employer: OptionalText(200)


class ComplaintListQuery(ComplaintFilter, PageQuery):
    """The API's list, in due order (nearest first), a page at a time."""

    after: OptionalField(Cursor(datetime, int))


# ----------------------------------------------------------------- outputs

class ClockOut(Output):
    started_at: datetime
    due_at: datetime
    stopped_at: datetime | None
    state: ClockState
    target_hours: float
    # Seconds until due (negative when overdue); null once the clock stopped.
    remaining_seconds: int | None
    elapsed_seconds: int


class ActionOut(Output):
    id: int
    type: ActionType
    qualifying: bool
    taken_at: datetime
    note: str | None
    language: Language | None
    # Read from an action object's recorded_by_id, or from a list row's recorded_by.
    recorded_by: int = Field(validation_alias=AliasChoices("recorded_by_id", "recorded_by"))
    recorded_at: datetime


class AttorneyListOut(Output):
    provided_at: datetime | None
    language: Language | None


class DamageOut(Output):
    id: int
    basis: str
    workers: int
    violations: int
    claimed_cents: int
    statutory_max_cents: int
    assessed_cents: int
    recovered_cents: int


class DamageTotalsOut(Output):
    claimed: int
    statutory_max: int
    assessed: int
    recovered: int
    # What the law allows beyond what was assessed.
    unassessed: int


class DamagesOut(Output):
    items: list[DamageOut]
    totals_cents: DamageTotalsOut


class ComplaintSummaryOut(Output):
    """A complaint as lists show it."""

    id: int
    reference: str
    agency_id: int
    filed_by_org_id: int
    employer_name: str
    retaliation_types: list[RetaliationType]
    description: str
    labor_dispute: str | None
    worksite_address: str | None
    language: Language
    workers_affected: int
    received_at: datetime
    status: ComplaintStatus
    assignee_id: int | None
    assignee_name: str | None
    shared_with: list[int]
    attorney_list: AttorneyListOut
    closed_at: datetime | None
    clock: ClockOut
    actions: list[ActionOut]


class ComplaintOut(ComplaintSummaryOut):
    """One complaint with its damages."""

    damages: DamagesOut
