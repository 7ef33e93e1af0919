"""Server-side sessions: the cookie carries a random token, the database row
decides. Logout, a password change, a disabled account or an admin ends a
session at once; a session also ends after idle and absolute timeouts."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, g
from flask import session as cookie
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from coenforce import clock
from coenforce.partners.models import User
from coenforce.security.models import UserSession

COOKIE_KEY = "sid"
# Writing last_seen_at on every request would serialize reads; a minute is precise enough.
TOUCH_EVERY = timedelta(seconds=60)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(db_session: Session, user: User, verified: bool) -> UserSession:
    """A new session for `user` under a new id; nothing from the old cookie carries over."""
    now = clock.now()
    token = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id, token_digest=_digest(token), created_at=now, last_seen_at=now,
        expires_at=now + timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"]),
        verified_at=now if verified else None,
    )
    db_session.add(row)
    db_session.flush()
    cookie.clear()
    cookie[COOKIE_KEY] = token
    cookie.permanent = True
    return row


def current(db_session: Session) -> UserSession | None:
    """The live session named by the cookie (verified or still awaiting a code), or None."""
    if "user_session" in g:
        return g.user_session
    token = cookie.get(COOKIE_KEY)
    row = None
    if isinstance(token, str) and len(token) < 100:
        row = db_session.scalar(select(UserSession).where(UserSession.token_digest == _digest(token)))
    now = clock.now()
    if row is not None and not _alive(row, now):
        if row.ended_at is None:
            end(db_session, row, "timeout")
            db_session.commit()
        row = None
    if row is not None and now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        db_session.commit()
    g.user_session = row
    return row


def _alive(row: UserSession, now: datetime) -> bool:
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    return (row.ended_at is None and row.user.active and now < row.expires_at
            and now < row.last_seen_at + idle)


def mark_verified(db_session: Session, row: UserSession) -> None:
    row.verified_at = clock.now()
    db_session.flush()


def end(db_session: Session, row: UserSession, reason: str) -> None:
    row.ended_at = clock.now()
    row.ended_reason = reason
    db_session.flush()


def end_all(db_session: Session, user_id: int, reason: str) -> int:
    """End every live session of a user; returns how many."""
    result = db_session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=clock.now(), ended_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def live_counts(db_session: Session, user_ids: list[int]) -> dict[int, int]:
    """How many live sessions each user has, in one query."""
    now = clock.now()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    rows = db_session.execute(
        select(UserSession.user_id, func.count()).where(
            UserSession.user_id.in_(user_ids), UserSession.ended_at.is_(None), UserSession.expires_at > now,
            UserSession.last_seen_at > now - idle)
        .group_by(UserSession.user_id)).tuples()
    return {user_id: 0 for user_id in user_ids} | dict(rows.all())
