"""Immigration protections on a case: T and U visa certification requests,
Statement of Interest letters and labor-based deferred action grants, each on
a deadline of the escalation engine; and each agency's legal targets.

There is no field for immigration status, citizenship, SSN or birth data.
`removal_proceedings` is a yes/no that only sets the legal deadline; who asked
for a certification is an office (the requesting attorney's), never the
worker's details. Free-text notes are sealed with the encrypted column type.
"""
from __future__ import annotations

import datetime as dt
from datetime import datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from coenforce.db import Base, UTCDateTime
from coenforce.enums import EnumText, SubjectType
from coenforce.escalation import Deadline
from coenforce.protections.types import CertificationDecision, CertificationForm
from coenforce.security.crypto.columns import EncryptedField, encrypted_column, row_key_column

CERTIFICATION_CLOCK = "protection_certification"
LETTER_CLOCK = "protection_interest_letter"
RENEWAL_CLOCK = "protection_deferred_action"


def _clock(subject_type: SubjectType, kind: str, model: str):
    return relationship(
        primaryjoin=lambda: (foreign(Deadline.subject_id) == _MODELS[model].id)
        & (Deadline.subject_type == subject_type) & (Deadline.kind == kind),
        viewonly=True, uselist=False, lazy="selectin")


class ProtectionSettings(Base):
    """An agency's legal targets where they differ from the defaults in
    config.py (California's: 90 days, 14 business days in removal proceedings)."""

    __tablename__ = "protection_settings"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    certification_days: Mapped[int] = mapped_column(Integer)
    removal_business_days: Mapped[int] = mapped_column(Integer)
    letter_business_days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CertificationRequest(Base):
    """A request that the agency sign a T or U visa certification (I-914 or I-918 Supplement B)."""

    __tablename__ = "certification_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    row_key: Mapped[str] = row_key_column()
    agency_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    certification_form: Mapped[CertificationForm] = mapped_column(EnumText(CertificationForm, 8))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The office that asked (the requesting attorney's), never the worker's details.
    requested_by: Mapped[str] = mapped_column(String(200))
    # Only sets the legal deadline (14 business days instead of 90 days).
    removal_proceedings: Mapped[bool] = mapped_column(Boolean, default=False)
    removal_proceedings_noted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision: Mapped[CertificationDecision | None] = mapped_column(EnumText(CertificationDecision, 16))
    decision_note_enc: Mapped[str | None] = encrypted_column()
    decision_note = EncryptedField("decision_note_enc")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    deadline: Mapped[Deadline] = _clock(SubjectType.CERTIFICATION, CERTIFICATION_CLOCK, "certification")

    @property
    def reference(self) -> str:
        return f"CR-{self.id:06d}"

    @property
    def is_decided(self) -> bool:
        return self.decision is not None


class InterestLetter(Base):
    """A Statement of Interest about a labor dispute, which a worker uses to ask DHS for deferred action."""

    __tablename__ = "interest_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    row_key: Mapped[str] = row_key_column()
    agency_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Who asked for it: a worker center, union or attorney's office.
    requested_by: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # To whom it went (an office: the requesting attorney, DHS).
    sent_to: Mapped[str | None] = mapped_column(String(200))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note_enc: Mapped[str | None] = encrypted_column()
    note = EncryptedField("note_enc")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    deadline: Mapped[Deadline] = _clock(SubjectType.INTEREST_LETTER, LETTER_CLOCK, "letter")

    @property
    def reference(self) -> str:
        return f"SOI-{self.id:06d}"


class DeferredActionGrant(Base):
    """A labor-based deferred action grant that exists, with its expiry (renewal reminders)."""

    __tablename__ = "deferred_action_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    row_key: Mapped[str] = row_key_column()
    agency_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    granted_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    # When the renewal was filed (with the agency's new letter): the reminders stop.
    renewal_filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    renewal_filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note_enc: Mapped[str | None] = encrypted_column()
    note = EncryptedField("note_enc")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    deadline: Mapped[Deadline] = _clock(SubjectType.DEFERRED_ACTION, RENEWAL_CLOCK, "grant")

    @property
    def reference(self) -> str:
        return f"DAG-{self.id:06d}"


_MODELS = {"certification": CertificationRequest, "letter": InterestLetter, "grant": DeferredActionGrant}
