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


# What only signing in uses: an API call never loads it (nothing to read, and
# secrets not read are not in memory); touched anyway, it loads then.
_SIGN_IN_ONLY = (User.password_hash, User.row_key, User.totp_secret_enc, User.totp_enabled_at, User.totp_last_step,
                 User.failed_logins, User.locked_until, User.password_changed_at)

# One query: the token's user (with its organization, joined by the model). Built
# once: every API call runs it, and a statement object reused is not analysed again.
_USER_OF_DIGEST = select(User).join(ApiToken, ApiToken.user_id == User.id).where(
    ApiToken.token_digest == bindparam("digest", required=True), ApiToken.revoked_at.is_(None),
    User.active.is_(True)).options(*(defer(column) for column in _SIGN_IN_ONLY))


def user_for_token(session: Session, token: str) -> User | None:
    """The active user owning a valid, unrevoked token."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    return session.scalar(_USER_OF_DIGEST, {"digest": _digest(token)})
