"""Detained-worker alerts, the partners involved, acknowledgements and tasks.

The worker's name, A-Number (with a blind index, so a roster can be matched),
country of citizenship (for the consulate), family contact and notes are
sealed with the encrypted column type; nothing else identifies the worker.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coenforce.db import Base, UTCDateTime
from coenforce.detentions.a_number import normalize_a_number
from coenforce.detentions.types import AlertStatus, DetainedWhere, Intervention, Outcome, TaskKind
from coenforce.enums import EnumText
from coenforce.partners.models import Organization
from coenforce.security.crypto.columns import EncryptedField, blind_index_column, encrypted_column, row_key_column

ACK_CLOCK = "detention_ack"


def task_clock(kind: TaskKind | str) -> str:
    """The deadline kind of one response task ("detention_consulate", ...)."""
    return f"detention_{TaskKind(kind).value}"


class DetentionAlert(Base):
    __tablename__ = "detentions"

    id: Mapped[int] = mapped_column(primary_key=True)
    row_key: Mapped[str] = row_key_column()
    agency_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    raised_by_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    raised_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The co-enforcement case the worker belongs to, if any.
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"), index=True)

    worker_name_enc: Mapped[str | None] = encrypted_column()
    worker_name = EncryptedField("worker_name_enc")
    a_number_enc: Mapped[str | None] = encrypted_column()
    a_number_bidx: Mapped[str | None] = blind_index_column()
    a_number = EncryptedField("a_number_enc", index="a_number_bidx", purpose="a_number",
                              normalize=normalize_a_number)
    # ISO 3166 code of the worker's country of citizenship: the consulate to call.
    country_enc: Mapped[str | None] = encrypted_column()
    country = EncryptedField("country_enc")
    family_contact_enc: Mapped[str | None] = encrypted_column()
    family_contact = EncryptedField("family_contact_enc")
    notes_enc: Mapped[str | None] = encrypted_column()
    notes = EncryptedField("notes_enc")

    facility: Mapped[str | None] = mapped_column(String(200))
    detained_at: Mapped[datetime] = mapped_column(UTCDateTime())
    detained_where: Mapped[DetainedWhere] = mapped_column(EnumText(DetainedWhere, 16))
    status: Mapped[AlertStatus] = mapped_column(EnumText(AlertStatus, 16), default=AlertStatus.OPEN)
    outcome: Mapped[Outcome | None] = mapped_column(EnumText(Outcome, 16))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # When the retention job cleared the sealed fields (the outcome stays).
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    agency: Mapped[Organization] = relationship(foreign_keys=[agency_id], lazy="joined")
    partners: Mapped[list["AlertPartner"]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                          order_by="AlertPartner.partner_id")
    acknowledgements: Mapped[list["Acknowledgement"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Acknowledgement.at")
    tasks: Mapped[list["AlertTask"]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                    order_by="AlertTask.due_at")

    @property
    def reference(self) -> str:
        return f"DA-{self.id:06d}"

    @property
    def partner_ids(self) -> list[int]:
        return [p.partner_id for p in self.partners]

    @property
    def is_closed(self) -> bool:
        return self.status == AlertStatus.CLOSED


class AlertPartner(Base):
    """A partner organization involved in an alert: its people see it and its
    point of contact is told."""

    __tablename__ = "detention_partners"

    alert_id: Mapped[int] = mapped_column(ForeignKey("detentions.id", ondelete="CASCADE"), primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True, index=True)


class Acknowledgement(Base):
    __tablename__ = "detention_acknowledgements"
    __table_args__ = (UniqueConstraint("alert_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("detentions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class AlertTask(Base):
    """One response task, with its deadline on the engine and who did it when."""

    __tablename__ = "detention_tasks"
    __table_args__ = (UniqueConstraint("alert_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    row_key: Mapped[str] = row_key_column()
    alert_id: Mapped[int] = mapped_column(ForeignKey("detentions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TaskKind] = mapped_column(EnumText(TaskKind, 16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # What was done: a note (say which consulate office, who was told), the
    # intervention chosen and why, the attorney from the legal directory.
    # Sealed: a note may name the family or the worker.
    note_enc: Mapped[str | None] = encrypted_column()
    note = EncryptedField("note_enc")
    intervention: Mapped[Intervention | None] = mapped_column(EnumText(Intervention, 32))
    attorney_provider_id: Mapped[int | None] = mapped_column(ForeignKey("legal_providers.id"))
