"""The dispatcher: claim due notices, send them, record what happened.

Claiming is one guarded statement that sets status 'sending', a lease and
the claimer's token, committed before anything is sent. A row is finished
only while the claim still holds, so a dispatcher whose lease ran out (it
crashed or hung) cannot overwrite the work of the one that took the row over.
"""
from __future__ import annotations

import logging
import uuid
from collections import Counter
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from coenforce import clock
from coenforce.notify.models import Notice
from coenforce.notify.render import render
from coenforce.notify.senders import Result, sender_for

log = logging.getLogger("coenforce.notify")

_MAX_PROVIDER_WAIT = 3600.0


def _claimable(now: datetime):
    return or_(
        and_(Notice.status == "pending", Notice.next_attempt_at <= now),
        # A claim whose lease expired belongs to a dispatcher that died.
        and_(Notice.status == "sending", Notice.lease_expires_at <= now),
    )


def claim(session: Session, now: datetime, limit: int, token: str) -> list[int]:
    """Claim up to `limit` due notices for `token` and commit; returns their ids."""
    query = select(Notice.id).where(_claimable(now)).order_by(Notice.next_attempt_at, Notice.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if ids:
        lease = timedelta(seconds=current_app.config["DISPATCH_LEASE_SECONDS"])
        session.execute(
            update(Notice)
            .where(Notice.id.in_(ids), _claimable(now))
            .values(status="sending", claimed_by=token, lease_expires_at=now + lease, attempts=Notice.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    session.commit()
    return list(session.scalars(
        select(Notice.id).where(Notice.claimed_by == token, Notice.status == "sending").order_by(Notice.id)))


def dispatch(session: Session, now: datetime | None = None, sender=None, limit: int | None = None) -> dict:
    """One pass: claim what is due at `now`, send it, record each outcome."""
    now = now or clock.now()
    config = current_app.config
    sender = sender or sender_for(config)
    token = uuid.uuid4().hex
    counts: Counter = Counter()
    for notice_id in claim(session, now, limit or config["DISPATCH_BATCH_SIZE"], token):
        notice = session.get(Notice, notice_id, populate_existing=True)
        counts["claimed"] += 1
        try:
            result = sender.send(render(notice, notice.recipient))
        except Exception as exc:  # a bug in rendering must not lose the notice
            log.exception("notice %s could not be sent", notice_id)
            result = Result("retry", error=f"internal: {type(exc).__name__}")
        session.commit()  # end the read transaction before the guarded finish
        counts[_finish(session, notice_id, token, result, now, config["DISPATCH_RETRY_SCHEDULE"])] += 1
    return {key: counts.get(key, 0) for key in ("claimed", "sent", "retry", "failed", "dead", "lost")}


def _finish(session: Session, notice_id: int, token: str, result: Result, now: datetime,
            schedule: list[int]) -> str:
    notice = session.get(Notice, notice_id)
    values: dict = {"claimed_by": None, "lease_expires_at": None, "provider_status": result.status,
                    "last_error": result.error}
    if result.outcome == "sent":
        values.update(status="sent", sent_at=now)
        outcome = "sent"
    elif result.outcome == "retry" and notice.attempts <= len(schedule):
        wait = schedule[notice.attempts - 1]
        if result.retry_at:
            # Wait for the provider's reset, but no more than an hour on its word.
            wait = max(wait, min((result.retry_at - now).total_seconds(), _MAX_PROVIDER_WAIT))
        values.update(status="pending", next_attempt_at=now + timedelta(seconds=wait))
        outcome = "retry"
    elif result.outcome == "retry":
        values.update(status="dead")
        log.error("notice %s is dead after %s attempts: %s", notice_id, notice.attempts, result.error)
        outcome = "dead"
    else:
        values.update(status="failed")
        log.error("notice %s failed permanently: %s", notice_id, result.error)
        outcome = "failed"
    finished = session.execute(
        update(Notice)
        .where(Notice.id == notice_id, Notice.claimed_by == token, Notice.status == "sending")
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if finished != 1:
        # Our lease ran out and another dispatcher holds the row now.
        log.warning("notice %s: claim lost before it was finished", notice_id)
        return "lost"
    return outcome
