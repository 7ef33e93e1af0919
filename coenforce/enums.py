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

_LABELS: dict[type, dict] = {}


class LabeledEnum(StrEnum):
    """A StrEnum whose members have translated labels (see `set_labels`)."""

    @property
    def label(self):
        return _LABELS[type(self)][self]

    @classmethod
    def labels(cls) -> dict:
        """{member: label}, in declaration order (for filters and select boxes)."""
        return {member: member.label for member in cls}


def set_labels(enum: type[LabeledEnum], labels: dict) -> None:
    """Give every member of `enum` its label; a missing one fails at import."""
    missing = set(enum) - set(labels)
    if missing:
        raise ValueError(f"{enum.__name__}: no label for {sorted(missing)}")
    _LABELS[enum] = dict(labels)


class EnumText(TypeDecorator):
    """A string column holding an enum's values; loaded values come back as members."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int = 32):
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value, dialect):
        return None if value is None else self.enum(value).value

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum(value)


class SubjectType(LabeledEnum):
    """What a deadline, a notice or an audit entry is about (CONTRACT.md)."""

    COMPLAINT = "complaint"
    THIRD_PARTY_COMPLAINT = "third_party_complaint"
    DETENTION = "detention"
    RAID = "raid"
    RAID_TASK = "raid_task"


set_labels(SubjectType, {
    SubjectType.COMPLAINT: _l("Complaint"),
    SubjectType.THIRD_PARTY_COMPLAINT: _l("Third-party complaint"),
    SubjectType.DETENTION: _l("Detained-worker alert"),
    SubjectType.RAID: _l("Raid"),
    SubjectType.RAID_TASK: _l("Raid task"),
})
