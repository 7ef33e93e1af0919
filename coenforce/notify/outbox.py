"""The outbox as an agency's admins see it: listing, counting and sending again.
Every query is scoped to the user's organization through the policy."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coenforce import clock
from coenforce.db import paged
from coenforce.enums import SubjectType
from coenforce.notify.models import REQUEUEABLE, Notice, NoticeStatus
from coenforce.notify.schemas import NoticeFilter
from coenforce.notify.service import wake_dispatcher
from coenforce.partners.models import User
from coenforce.schemas import Page
from coenforce.security import policy
from coenforce.validation import Conflict, NotFound


def requeue(session: Session, user: User, notice_id: int) -> Notice:
    """Give a dead or failed notice of the user's organization another full set of attempts."""
    notice = session.scalar(select(Notice).where(Notice.id == notice_id, policy.notice_scope(user)))
    if notice is None:
        raise NotFound()
    if notice.status not in REQUEUEABLE:
        raise Conflict(_l("Only dead or failed notices can be sent again."))
    notice.status = NoticeStatus.PENDING
    notice.attempts = 0
    notice.next_attempt_at = clock.now()
    notice.claimed_by = None
    notice.lease_expires_at = None
    session.flush()
    wake_dispatcher(session)
    return notice


def _notices(user: User, status: NoticeStatus | None = None, subject_type: SubjectType | None = None,
             subject_id: int | None = None):
    query = select(Notice).where(policy.notice_scope(user))
    if status is not None:
        query = query.where(Notice.status == status)
    if subject_type is not None:
        query = query.where(Notice.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(Notice.subject_id == subject_id)
    return query


def _total(session: Session, query) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery()))


def list_notices(session: Session, user: User, *, status: NoticeStatus | None = None,
                 limit: int = 100, offset: int = 0) -> Page:
    """A page of the organization's notices, newest first, with the number that match."""
    query = _notices(user, status)
    rows = session.scalars(paged(query.order_by(Notice.id.desc()), limit, offset)).all()
    return Page(list(rows), _total(session, query), None)


def page_of_notices(session: Session, user: User, where: NoticeFilter) -> Page:
    """The API's pages, newest first, keyed on the id."""
    query = _notices(user, where.status, where.subject_type, where.subject_id)
    total = _total(session, query)
    if where.after is not None:
        query = query.where(Notice.id < where.after[0])
    rows = list(session.scalars(paged(query.order_by(Notice.id.desc()), where.limit + 1)))
    more = len(rows) > where.limit
    rows = rows[:where.limit]
    return Page(rows, total, (rows[-1].id,) if more else None)


def outbox_counts(session: Session, user: User) -> dict[NoticeStatus, int]:
    """How many of the organization's notices are in each state."""
    rows = session.execute(select(Notice.status, func.count()).where(policy.notice_scope(user))
                           .group_by(Notice.status)).tuples()
    return dict(rows.all())


def provider_refusals(session: Session, user: User) -> int:
    """Notices failed because SendGrid refused the API key (401/403): every
    notice fails until the key is fixed, so the outbox says so loudly."""
    return session.scalar(select(func.count()).where(
        policy.notice_scope(user), Notice.status == NoticeStatus.FAILED, Notice.provider_status.in_((401, 403))))
