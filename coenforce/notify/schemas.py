"""The outbox's inputs and outputs, declared once for the API, the page and the OpenAPI document."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from coenforce.enums import SubjectType
from coenforce.notify.models import NoticeStatus
from coenforce.schemas import Id, OptionalField, Output, Query, WithDefault


class NoticeFilter(Query):
    status: OptionalField(NoticeStatus)
    subject_type: OptionalField(SubjectType)
    subject_id: OptionalField(Id)


class OutboxPage(Query):
    status: OptionalField(NoticeStatus)
    page: WithDefault(Annotated[int, Field(ge=1, le=10_000)], 1)


class NoticeOut(Output):
    id: int
    recipient: str = Field(validation_alias="recipient_email")
    kind: str
    status: NoticeStatus
    subject_type: SubjectType
    subject_id: int
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
