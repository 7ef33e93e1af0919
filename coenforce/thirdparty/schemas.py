"""Each third-party complaint operation's input and output, declared once."""
from __future__ import annotations

from datetime import datetime

from coenforce.complaints.schemas import ClockOut
from coenforce.escalation import ClockState
from coenforce.schemas import (
    Count, Cursor, Id, Input, OptionalField, OptionalText, Output, PageQuery, Query, Text, UniqueList, WithDefault,
)
from coenforce.thirdparty.types import Decision, Industry, ReportStatus, Source, ViolationType


class ReportIn(Input):
    """An employer reported without naming any worker. `agency_id` may be left
    out when the reporter works with one agency only."""

    agency_id: OptionalField(Id)
    employer_name: Text(200)
    worksite_address: OptionalText(300)
    area: OptionalText(100)
    industry: WithDefault(Industry, Industry.OTHER)
    violation_types: UniqueList(ViolationType, min_length=1)
    workers_affected: OptionalField(Count())
    description: Text(10_000, multiline=True)
    can_connect_workers: WithDefault(bool, False)


class PublicReportIn(ReportIn):
    """The same, from the public page: nothing about who reports."""


class DecisionIn(Input):
    decision: Decision
    # Required to decline: the filing partner reads it.
    reason: OptionalText(5_000, multiline=True)
    # To open an investigation: the agency's case number, or a complaint of this agency.
    case_reference: OptionalText(100)
    linked_complaint_id: OptionalField(Id)
    # What a public reporter reads with the receipt code.
    public_reply: OptionalText(2_000, multiline=True)


class ReceiptIn(Input):
    code: Text(40)


class ReportFilter(Query):
    status: OptionalField(ReportStatus)
    industry: OptionalField(Industry)
    state: OptionalField(ClockState)


class ReportListQuery(ReportFilter, PageQuery):
    """Newest first, a page at a time."""

    after: OptionalField(Cursor(int))


class ClocksOut(Output):
    acknowledgement: ClockOut
    decision: ClockOut


class ReportOut(Output):
    id: int
    reference: str
    agency_id: int
    source: Source
    filed_by_org_id: int | None
    employer_name: str
    worksite_address: str | None
    area: str | None
    industry: Industry
    violation_types: list[ViolationType]
    workers_affected: int | None
    description: str
    can_connect_workers: bool
    status: ReportStatus
    received_at: datetime
    acknowledged_at: datetime | None
    decision: Decision | None
    decision_reason: str | None
    decided_at: datetime | None
    case_reference: str | None
    linked_complaint_id: int | None
    # The clock that matters now (acknowledgement, then decision), and both.
    clock: ClockOut
    clocks: ClocksOut


class QueueFilter(Query):
    industry: OptionalField(Industry)
    area: OptionalText(100)
    include_investigated: WithDefault(bool, False)


class InvestigateIn(Input):
    """Open an investigation of an employer from the strategic queue."""

    employer_key: Text(200)
    case_reference: Text(100)
