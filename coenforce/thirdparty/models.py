"""Third-party complaints: an organization, the agency or a member of the public
reports an employer without naming any worker (checklist item 5).

There is no field for a worker's name or contact, nor for the reporter's: a
public report is answered through its receipt code, whose digest alone is kept.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from coenforce.db import Base, UTCDateTime
from coenforce.enums import EnumText, SubjectType
from coenforce.escalation import Deadline
from coenforce.partners.models import Organization
from coenforce.thirdparty.types import Decision, Industry, ReportStatus, Source, ViolationType

ACK_CLOCK = "third_party_ack"
DECISION_CLOCK = "third_party_decision"


def _clock(kind: str):
    return relationship(
        primaryjoin=lambda: (foreign(Deadline.subject_id) == ThirdPartyReport.id)
        & (Deadline.subject_type == SubjectType.THIRD_PARTY_COMPLAINT) & (Deadline.kind == kind),
        viewonly=True, uselist=False, lazy="joined", innerjoin=True)


class ThirdPartyReport(Base):
    __tablename__ = "third_party_complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    source: Mapped[Source] = mapped_column(EnumText(Source, 16))
    # The filing organization and person; none for a public report.
    filed_by_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    filed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    employer_name: Mapped[str] = mapped_column(String(200))
    # employers.employer_key(employer_name): one employer's spellings group together.
    employer_key: Mapped[str] = mapped_column(String(200), index=True)
    worksite_address: Mapped[str | None] = mapped_column(String(300))
    # City or county, for the strategic-enforcement queue's filter.
    area: Mapped[str | None] = mapped_column(String(100), index=True)
    industry: Mapped[Industry] = mapped_column(EnumText(Industry, 32), index=True)
    workers_affected: Mapped[int | None] = mapped_column(Integer)
    # What the reporter knows and how they know it.
    description: Mapped[str] = mapped_column(Text)
    can_connect_workers: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[ReportStatus] = mapped_column(EnumText(ReportStatus, 16), default=ReportStatus.RECEIVED)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[Decision | None] = mapped_column(EnumText(Decision, 16))
    # Shown to the filing partner (and, for a decline, required).
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The agency's own case number for an investigation, and a linked complaint if any.
    case_reference: Mapped[str | None] = mapped_column(String(100))
    linked_complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    # What a public reporter reads with the receipt code.
    public_reply: Mapped[str | None] = mapped_column(Text)
    receipt_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    agency: Mapped[Organization] = relationship(foreign_keys=[agency_id], lazy="joined")
    filed_by_org: Mapped[Organization | None] = relationship(foreign_keys=[filed_by_org_id])
    violations: Mapped[list["ReportViolation"]] = relationship(
        cascade="all, delete-orphan", order_by="ReportViolation.type", lazy="selectin")
    ack_deadline: Mapped[Deadline] = _clock(ACK_CLOCK)
    decision_deadline: Mapped[Deadline] = _clock(DECISION_CLOCK)

    @property
    def reference(self) -> str:
        return f"TP-{self.id:06d}"

    @property
    def violation_types(self) -> list[ViolationType]:
        return sorted(v.type for v in self.violations)

    @property
    def clock(self):
        """The clock that matters now: acknowledgement until acknowledged, then the decision."""
        deadline = self.ack_deadline if self.acknowledged_at is None else self.decision_deadline
        return deadline.reading()

    @property
    def clocks(self) -> dict:
        return {"acknowledgement": self.ack_deadline.reading(), "decision": self.decision_deadline.reading()}

    @property
    def is_decided(self) -> bool:
        return self.decision is not None


class EmployerEvidence(Base):
    """What the app holds about one employer of one agency, kept current as
    reports and complaints arrive, so the strategic queue ranks without
    aggregating every report on each page. The score (`queue.py`) is
    computed from these counts when the queue is read."""

    __tablename__ = "employer_evidence"
    __table_args__ = (UniqueConstraint("agency_id", "employer_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    employer_key: Mapped[str] = mapped_column(String(200))
    # The latest spelling, industry and area reported.
    employer_name: Mapped[str] = mapped_column(String(200))
    industry: Mapped[Industry] = mapped_column(EnumText(Industry, 32), index=True)
    area: Mapped[str | None] = mapped_column(String(100))
    reports: Mapped[int] = mapped_column(Integer, default=0)          # third-party reports not declined
    partners: Mapped[int] = mapped_column(Integer, default=0)         # distinct organizations reporting
    complaints: Mapped[int] = mapped_column(Integer, default=0)       # retaliation complaints
    workers: Mapped[int] = mapped_column(Integer, default=0)          # the largest estimate of workers affected
    last_evidence_at: Mapped[datetime] = mapped_column(UTCDateTime())
    investigation_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    investigation_opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    case_reference: Mapped[str | None] = mapped_column(String(100))


class ReportViolation(Base):
    __tablename__ = "third_party_violation_types"

    report_id: Mapped[int] = mapped_column(ForeignKey("third_party_complaints.id", ondelete="CASCADE"),
                                           primary_key=True)
    type: Mapped[ViolationType] = mapped_column(EnumText(ViolationType, 32), primary_key=True)
