"""The outbox's inputs and outputs, declared once for the API, the page and the OpenAPI document."""
from __future__ import annotations

from datetime import datetime

from pydantic import Field

from coenforce.enums import SubjectType
from coenforce.notify.models import NoticeStatus
from coenforce.schemas import Cursor, Id, OptionalField, Output, PageNumber, PageQuery


class NoticeFilter(PageQuery):
    """Newest first, a page at a time."""

    status: OptionalField(NoticeStatus)
    subject_type: OptionalField(SubjectType)
    subject_id: OptionalField(Id)
    after: OptionalField(Cursor(int))


class OutboxPage(PageNumber):
    status: OptionalField(NoticeStatus)


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
