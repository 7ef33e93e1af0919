"""Value lists as enums: each list exists once, with its labels, and is stored
in the database as the same strings it always was.

`LabeledEnum` members are plain strings (`StrEnum`), so comparisons with
stored values, JSON and templates need no conversion; `EnumText` is the column
type that hands members back when rows are loaded.
"""
from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

class LabeledEnum(StrEnum):
    """A StrEnum whose members carry a translated label:

        OPEN = "open", _l("Open: awaiting first response")
    """

    def __new__(cls, value: str, label):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict:
        """{member: label}, in declaration order (for filters and select boxes)."""
        return {member: member.label for member in cls}


class EnumText(TypeDecorator):
    """A string column holding an enum's values; loaded values come back as members."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int = 32):
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value, dialect):
        return None if value is None else self.enum(value).value

    def result_processor(self, dialect, coltype):
        # Loaded values become members by a dictionary lookup (lists load many).
        return {None: None, **{member.value: member for member in self.enum}}.__getitem__


class SubjectType(LabeledEnum):
    """What a deadline, a notice or an audit entry is about (CONTRACT.md)."""

    COMPLAINT = "complaint", _l("Complaint")
    THIRD_PARTY_COMPLAINT = "third_party_complaint", _l("Third-party complaint")
    DETENTION = "detention", _l("Detained-worker alert")
    RAID = "raid", _l("Raid")
    RAID_TASK = "raid_task", _l("Raid task")
    CERTIFICATION = "certification_request", _l("T or U visa certification request")
    INTEREST_LETTER = "interest_letter", _l("Statement of Interest letter")
    DEFERRED_ACTION = "deferred_action_grant", _l("Labor-based deferred action grant")
