"""The outbox: one row per message to one person, created in the same
transaction as the change that caused it."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coenforce.db import Base, UTCDateTime
from coenforce.enums import EnumText, LabeledEnum, SubjectType
from coenforce.partners.models import User


class NoticeStatus(LabeledEnum):
    PENDING = "pending", _l("Waiting to be sent")
    SENDING = "sending", _l("Sending")
    SENT = "sent", _l("Sent")
    FAILED = "failed", _l("Failed")
    DEAD = "dead", _l("Dead after retries")
    CANCELLED = "cancelled", _l("Cancelled")

# Notices an admin may send again: they will not leave by themselves.
REQUEUEABLE = frozenset({NoticeStatus.DEAD, NoticeStatus.FAILED})
# Kept for code that imports the old name.
NOTICE_STATUSES = tuple(NoticeStatus)


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The organization whose record caused the notice; its admins see it in the outbox.
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id"), index=True)
    subject_type: Mapped[SubjectType] = mapped_column(EnumText(SubjectType, 32))
    subject_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(64))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    # What the message may say: a reference, a due time, a link. Never a worker's
    # name, an A-Number or complaint text.
    context: Mapped[dict] = mapped_column(JSON)
    status: Mapped[NoticeStatus] = mapped_column(EnumText(NoticeStatus, 16), default=NoticeStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(500))
    provider_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    recipient: Mapped[User] = relationship(lazy="joined")

    @property
    def recipient_email(self) -> str:
        return self.recipient.email


Index("ix_notices_subject", Notice.subject_type, Notice.subject_id)
