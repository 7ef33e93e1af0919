"""Each detained-worker alert operation's input and output, declared once."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator

from coenforce.complaints.schemas import ClockOut
from coenforce.detentions.a_number import normalize_a_number
from coenforce.detentions.types import AlertStatus, DetainedWhere, Intervention, Outcome, TaskKind
from coenforce.schemas import (
    Country, Cursor, Id, Input, OptionalField, OptionalText, Output, PageQuery, PastTime, Text, UniqueList,
    WithDefault, invalid,
)


def _a_number(value: str) -> str:
    try:
        return normalize_a_number(value)
    except ValueError:
        raise invalid("a_number") from None


ANumber = Annotated[Text(20), AfterValidator(_a_number)]


class AlertIn(Input):
    """A detained worker. The agency is the filer's own, or (for a partner) one
    of its active partnerships, which may be left out when there is one."""

    agency_id: OptionalField(Id)
    worker_name: Text(200)
    complaint_id: OptionalField(Id)
    a_number: OptionalField(ANumber)
    country: OptionalField(Country)
    facility: OptionalText(200)
    detained_at: OptionalField(PastTime)
    detained_where: WithDefault(DetainedWhere, DetainedWhere.OTHER)
    family_contact: OptionalText(500, multiline=True)
    notes: OptionalText(5_000, multiline=True)
    # Further partners of the agency to involve (the filer's own is always in).
    partner_ids: UniqueList(Id)


class TaskDoneIn(Input):
    note: OptionalText(2_000, multiline=True)
    # For the intervention task: what the agency decided (a reason is required for none).
    intervention: OptionalField(Intervention)
    # For the attorney task: the provider, from the agency's legal directory.
    attorney_provider_id: OptionalField(Id)


class CloseIn(Input):
    outcome: Outcome
    note: OptionalText(2_000, multiline=True)


class AlertListQuery(PageQuery):
    status: OptionalField(AlertStatus)
    after: OptionalField(Cursor(int))


class AcknowledgementOut(Output):
    user_id: int
    organization_id: int
    at: datetime


class TaskOut(Output):
    id: int
    kind: TaskKind
    due_at: datetime
    done_at: datetime | None
    done_by_id: int | None
    intervention: Intervention | None
    attorney_provider_id: int | None


class AlertOut(Output):
    """An alert as the API shows it: the A-Number masked, the name and the
    family contact only on the page of someone who may see them."""

    id: int
    reference: str
    status: AlertStatus
    agency_id: int
    complaint_id: int | None
    a_number: str | None
    country: str | None
    facility: str | None
    detained_at: datetime
    detained_where: DetainedWhere
    partner_ids: list[int]
    acknowledgements: list[AcknowledgementOut]
    tasks: list[TaskOut]
    clock: ClockOut
    outcome: Outcome | None
    closed_at: datetime | None


class RevealOut(Output):
    id: int
    a_number: str | None
