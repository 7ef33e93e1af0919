"""API tokens: issued once, stored as a digest, checked on every API call."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, defer

from coenforce import clock
from coenforce.partners.models import User
from coenforce.security.models import ApiToken

PREFIX = "coe_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User) -> str:
    """A new token for `user`; the caller shows it once, it is never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_digest=_digest(token), created_at=clock.now()))
    session.flush()
    return token


# One query: the token's user (with its organization, joined by the model). Built
# once: every API call runs it, and a statement object reused is not analysed again.
# What only signing in uses (the password hash, the TOTP secret, the lockout
# counters) is not loaded: an API call has no use for it, and secrets that are
# not read are not in memory.
_USER_OF_DIGEST = select(User).join(ApiToken, ApiToken.user_id == User.id).where(
    ApiToken.token_digest == bindparam("digest", required=True), ApiToken.revoked_at.is_(None),
    User.active.is_(True)).options(defer(User.password_hash), defer(User.row_key), defer(User.totp_secret_enc),
                                   defer(User.totp_enabled_at), defer(User.totp_last_step),
                                   defer(User.failed_logins), defer(User.locked_until),
                                   defer(User.password_changed_at))


def user_for_token(session: Session, token: str) -> User | None:
    """The active user owning a valid, unrevoked token."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    return session.scalar(_USER_OF_DIGEST, {"digest": _digest(token)})
