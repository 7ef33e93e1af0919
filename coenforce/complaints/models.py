"""Retaliation complaints, their response actions, sharing and damages.

There is deliberately no field for immigration status, citizenship, SSN or
date or place of birth: labor enforcement does not need them (checklist item 2).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coenforce.db import Base, UTCDateTime
from coenforce.partners.models import Organization, User


class Complaint(Base):
    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # Who filed it: the agency itself, or a partner on a worker's behalf.
    filed_by_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    filed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    employer_name: Mapped[str] = mapped_column(String(200), index=True)
    worksite_address: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    labor_dispute: Mapped[str | None] = mapped_column(Text)
    # The language the complainant is served in (an ISO code).
    language: Mapped[str] = mapped_column(String(8))
    workers_affected: Mapped[int] = mapped_column(Integer, default=1)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    attorney_list_provided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attorney_list_language: Mapped[str | None] = mapped_column(String(8))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closing_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    agency: Mapped[Organization] = relationship(foreign_keys=[agency_id], lazy="joined")
    filed_by_org: Mapped[Organization] = relationship(foreign_keys=[filed_by_org_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    retaliation: Mapped[list["ComplaintRetaliation"]] = relationship(
        cascade="all, delete-orphan", order_by="ComplaintRetaliation.type", lazy="selectin")
    shares: Mapped[list["ComplaintShare"]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    actions: Mapped[list["ResponseAction"]] = relationship(
        cascade="all, delete-orphan", order_by="ResponseAction.taken_at")
    damages: Mapped[list["DamageItem"]] = relationship(cascade="all, delete-orphan", order_by="DamageItem.id")

    @property
    def reference(self) -> str:
        return f"RC-{self.id:06d}"

    @property
    def retaliation_types(self) -> list[str]:
        return [r.type for r in self.retaliation]

    @property
    def shared_with(self) -> list[int]:
        return sorted(s.partner_id for s in self.shares)


class ComplaintRetaliation(Base):
    __tablename__ = "complaint_retaliation_types"

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), primary_key=True)
    type: Mapped[str] = mapped_column(String(32), primary_key=True)


class ComplaintShare(Base):
    """A complaint shared with a partner organization: its liaisons can follow it."""

    __tablename__ = "complaint_shares"

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True, index=True)
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ResponseAction(Base):
    __tablename__ = "response_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    # Whether the action counted toward the clock when it was recorded.
    qualifying: Mapped[bool] = mapped_column(Boolean)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    # For the attorney list: the language it was handed over in.
    language: Mapped[str | None] = mapped_column(String(8))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    recorded_by: Mapped[User] = relationship(lazy="joined")


class DamageItem(Base):
    """Damages for one violation basis: what the law allows beside what was
    claimed, assessed and recovered, so the gap to "the fullest extent" shows.
    Amounts are in cents."""

    __tablename__ = "damage_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    basis: Mapped[str] = mapped_column(String(200))
    workers: Mapped[int] = mapped_column(Integer, default=1)
    violations: Mapped[int] = mapped_column(Integer, default=1)
    claimed_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    statutory_max_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    assessed_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    recovered_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
