"""Deadlines and the record of each rung a tick fired, with the ones it skipped."""
from __future__ import annotations

from typing import TypedDict
import datetime as dt
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint, and_, case, text
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column

from coenforce import clock
from coenforce.db import Base, UTCDateTime
from coenforce.enums import EnumText, LabeledEnum, SubjectType


class ClockState(LabeledEnum):
    RUNNING = "running", _l("Running")
    MET = "met", _l("Met")
    BREACHED = "breached", _l("Breached")


class ClockReading(TypedDict):
    """A deadline as pages and the API show it at one moment (a dict: lists make
    one per row, and write it as it is)."""

    started_at: datetime
    due_at: datetime
    stopped_at: datetime | None
    state: ClockState
    target_hours: float
    remaining_seconds: int | None  # None once stopped; negative when overdue
    elapsed_seconds: int


def clock_state(due_at: datetime, stopped_at: datetime | None, now: datetime) -> ClockState:
    """The state of a clock due at `due_at` (Deadline.state_at in Python)."""
    if stopped_at is not None:
        return ClockState.MET if stopped_at <= due_at else ClockState.BREACHED
    return ClockState.RUNNING if now < due_at else ClockState.BREACHED


def clock_reading(starts_at: datetime, due_at: datetime, stopped_at: datetime | None, now: datetime) -> ClockReading:
    """A clock as pages and the API show it at `now`, from its three times
    (lists read them as columns, without loading deadline objects)."""
    end = stopped_at or now
    return {
        "started_at": starts_at, "due_at": due_at, "stopped_at": stopped_at,
        "state": clock_state(due_at, stopped_at, now), "target_hours": round((due_at - starts_at) / _HOUR, 2),
        "remaining_seconds": int((due_at - now).total_seconds()) if stopped_at is None else None,
        "elapsed_seconds": int((end - starts_at).total_seconds())}


_HOUR = timedelta(hours=1)


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
        # Lists walk one kind of clock in due order and stop at the end of the page,
        # instead of sorting every clock of the kind for each page.
        Index("ix_deadlines_due_order", "subject_type", "kind", "due_at", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    subject_type: Mapped[SubjectType] = mapped_column(EnumText(SubjectType, 32))
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

    @hybrid_method
    def state_at(self, now: datetime) -> ClockState:
        """Running until due; met if stopped by then; breached otherwise.
        The same rule in SQL below, for filters and counts."""
        return clock_state(self.due_at, self.stopped_at, now)

    @state_at.expression
    def state_at(cls, now: datetime):
        return case(
            (and_(cls.stopped_at.is_(None), cls.due_at > now), ClockState.RUNNING.value),
            (and_(cls.stopped_at.is_not(None), cls.stopped_at <= cls.due_at), ClockState.MET.value),
            else_=ClockState.BREACHED.value,
        )

    def reading(self, now: datetime | None = None) -> ClockReading:
        return clock_reading(self.starts_at, self.due_at, self.stopped_at, now or clock.now())


class EscalationStep(Base):
    """One rung a tick fired (with its notice count), and the older entries that
    were past due at the same tick and were passed over (after an outage or a
    reschedule): one row per deadline and tick, however many were skipped."""

    __tablename__ = "escalation_steps"
    __table_args__ = (UniqueConstraint("deadline_id", "position", name="uq_escalation_steps_deadline_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    rung: Mapped[str] = mapped_column(String(40))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    notices: Mapped[int] = mapped_column(Integer, default=0)
    # The entries skipped just before this one, oldest first, each
    # {"position", "rung", "scheduled_at"}; None when nothing was skipped.
    skipped: Mapped[list[dict] | None] = mapped_column(JSON(none_as_null=True))


class Holiday(Base):
    """A day an organization does not work: business-day deadlines skip it."""

    __tablename__ = "holidays"
    __table_args__ = (UniqueConstraint("organization_id", "date", name="uq_holidays_organization_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
