"""Deadlines and the record of each rung a tick fired or skipped."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from coenforce.db import Base, UTCDateTime


class Deadline(Base):
    __tablename__ = "deadlines"
    __table_args__ = (
        UniqueConstraint("subject_type", "subject_id", "kind", name="uq_deadlines_subject_kind"),
        # A tick reads only what is due: this partial index holds running
        # clocks with a rung still to come, whatever the size of the history.
        Index(
            "ix_deadlines_due", "next_rung_at",
            postgresql_where=text("stopped_at IS NULL AND next_rung_at IS NOT NULL"),
            sqlite_where=text("stopped_at IS NULL AND next_rung_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(64))
    # What a notice may show of the subject: its reference and the path of its page.
    reference: Mapped[str] = mapped_column(String(40))
    path: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Entries of the ladder's schedule already handled (fired or skipped).
    position: Mapped[int] = mapped_column(Integer, default=0)
    next_rung_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def state(self, now: datetime) -> str:
        """running, met or breached."""
        if self.stopped_at is not None:
            return "met" if self.stopped_at <= self.due_at else "breached"
        return "running" if now < self.due_at else "breached"


class EscalationStep(Base):
    """One handled entry of a deadline's ladder: fired (with its notice count) or skipped."""

    __tablename__ = "escalation_steps"
    __table_args__ = (UniqueConstraint("deadline_id", "position", name="uq_escalation_steps_deadline_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    rung: Mapped[str] = mapped_column(String(40))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16))  # fired | skipped
    notices: Mapped[int] = mapped_column(Integer, default=0)
