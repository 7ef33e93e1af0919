"""The audit page's filters, declared once."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from coenforce.enums import SubjectType
from coenforce.schemas import Id, OptionalField, Query

# Entries are numbered by a 64-bit sequence.
Seq = Annotated[int, Field(ge=0, le=2**63 - 1)]


class AuditFilter(Query):
    person: OptionalField(Id)
    record_type: OptionalField(SubjectType)
    record_id: OptionalField(Id)
    first_day: OptionalField(date) = Field(default=None, alias="from")
    last_day: OptionalField(date) = Field(default=None, alias="to")
    # Pages go by sequence number: entries older than `before`, or newer than `after`.
    before: OptionalField(Seq)
    after: OptionalField(Seq)
