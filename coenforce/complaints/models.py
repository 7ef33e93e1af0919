"""Retaliation complaints, their response actions, sharing and damages.

There is deliberately no field for immigration status, citizenship, SSN or
date or place of birth: labor enforcement does not need them (checklist item 2).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from coenforce.complaints.types import ActionType, ComplaintStatus, Language, RetaliationType
from coenforce.db import Base, UTCDateTime
from coenforce.enums import EnumText, SubjectType
from coenforce.escalation import ClockReading, Deadline
from coenforce.partners.models import Organization, User

# The complaint's response clock on the escalation engine.
RESPONSE_CLOCK = "complaint_response"


def reference_of(complaint_id: int) -> str:
    """The case reference people say and notices show: RC-000123."""
    return f"RC-{complaint_id:06d}"


@dataclass(frozen=True)
class AttorneyList:
    provided_at: datetime | None
    language: Language | None


@dataclass(frozen=True)
class Damages:
    items: list["DamageItem"]
    totals_cents: dict[str, int]


class Complaint(Base):
    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # Who filed it: the agency itself, or a partner on a worker's behalf.
    filed_by_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    filed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    employer_name: Mapped[str] = mapped_column(String(200), index=True)
    # employers.employer_key(employer_name): the strategic queue groups one employer's spellings.
    employer_key: Mapped[str] = mapped_column(String(200), index=True, default="")
    worksite_address: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    labor_dispute: Mapped[str | None] = mapped_column(Text)
    # The language the complainant is served in (an ISO code).
    language: Mapped[Language] = mapped_column(EnumText(Language, 8))
    workers_affected: Mapped[int] = mapped_column(Integer, default=1)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[ComplaintStatus] = mapped_column(EnumText(ComplaintStatus, 16), default=ComplaintStatus.OPEN)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    attorney_list_provided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attorney_list_language: Mapped[Language | None] = mapped_column(EnumText(Language, 8))
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
        # Actions taken at the same moment are shown in the order they were recorded.
        cascade="all, delete-orphan", order_by="(ResponseAction.taken_at, ResponseAction.id)")
    damage_items: Mapped[list["DamageItem"]] = relationship(cascade="all, delete-orphan", order_by="DamageItem.id")
    share_events: Mapped[list["ShareEvent"]] = relationship(cascade="all, delete-orphan", order_by="ShareEvent.id")
    deadline: Mapped[Deadline] = relationship(
        primaryjoin=lambda: (foreign(Deadline.subject_id) == Complaint.id)
        & (Deadline.subject_type == SubjectType.COMPLAINT) & (Deadline.kind == RESPONSE_CLOCK),
        viewonly=True, uselist=False, lazy="joined", innerjoin=True)

    @property
    def reference(self) -> str:
        return reference_of(self.id)

    @property
    def assignee_name(self) -> str | None:
        return self.assignee.name if self.assignee is not None else None

    @property
    def is_closed(self) -> bool:
        return self.status == ComplaintStatus.CLOSED

    @property
    def clock(self) -> ClockReading:
        return self.deadline.reading()

    @property
    def attorney_list(self) -> AttorneyList:
        return AttorneyList(self.attorney_list_provided_at, self.attorney_list_language)

    @property
    def damages(self) -> Damages:
        totals = {k: sum(getattr(d, f"{k}_cents") for d in self.damage_items)
                  for k in ("claimed", "statutory_max", "assessed", "recovered")}
        # The gap between what the law allows and what was assessed: the
        # checklist asks for damages "to the fullest extent".
        totals["unassessed"] = max(0, totals["statutory_max"] - totals["assessed"])
        return Damages(list(self.damage_items), totals)

    @property
    def retaliation_types(self) -> list[str]:
        return [r.type for r in self.retaliation]

    @property
    def shared_with(self) -> list[int]:
        return sorted(s.partner_id for s in self.shares)


class ComplaintRetaliation(Base):
    __tablename__ = "complaint_retaliation_types"

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), primary_key=True)
    type: Mapped[RetaliationType] = mapped_column(EnumText(RetaliationType, 32), primary_key=True)


class ComplaintShare(Base):
    """A complaint shared with a partner organization: its liaisons can follow it."""

    __tablename__ = "complaint_shares"

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True, index=True)
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ShareEvent(Base):
    """Who shared a complaint with a partner, or took the sharing back, and when."""

    __tablename__ = "complaint_share_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    shared: Mapped[bool] = mapped_column(Boolean)  # False: revoked
    by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    partner: Mapped[Organization] = relationship(lazy="joined")
    by_user: Mapped[User] = relationship(lazy="joined")


class ResponseAction(Base):
    __tablename__ = "response_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    type: Mapped[ActionType] = mapped_column(EnumText(ActionType, 32))
    # Whether the action counted toward the clock when it was recorded.
    qualifying: Mapped[bool] = mapped_column(Boolean)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    # For the attorney list: the language it was handed over in.
    language: Mapped[Language | None] = mapped_column(EnumText(Language, 8))
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
