"""The rules of signing in: password checks with per-account throttling,
password changes, and turning accounts off. Sessions and TOTP live beside."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from coenforce import clock
from coenforce.partners.models import User
from coenforce.security import policy, sessions
from coenforce.security.passwords import hash_password, password_problem, verify_password
from coenforce.validation import NotFound, ValidationError


def find_user(db_session: Session, email: str) -> User | None:
    return db_session.scalar(select(User).where(User.email == (email or "").strip().lower()[:254]))


def is_locked(user: User | None) -> bool:
    return user is not None and user.locked_until is not None and user.locked_until > clock.now()


def check_password(db_session: Session, email: str, password: str) -> User | None:
    """The user if the password is right and the account may sign in; failures
    count against the account, and a locked account is refused without a check."""
    user = find_user(db_session, email)
    if is_locked(user):
        verify_password(None, password)  # same cost as a real check: the lock is not revealed by timing
        return None
    # Always verify, even for an unknown email, so timing tells nothing.
    matches = verify_password(user.password_hash if user else None, password)
    if user is None:
        return None
    if matches and user.active:
        user.failed_logins = 0
        user.locked_until = None
        return user
    record_failure(user)
    return None


def record_failure(user: User) -> None:
    """Count a failed password or code; past the threshold the account waits, doubling each time."""
    user.failed_logins = (user.failed_logins or 0) + 1
    over = user.failed_logins - current_app.config["LOGIN_LOCK_AFTER"]
    if over >= 0:
        minutes = min(2 ** over, current_app.config["LOGIN_LOCK_MAX_MINUTES"])
        user.locked_until = clock.now() + timedelta(minutes=minutes)


def record_success(user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None


def change_password(db_session: Session, user: User, current: str, new: str, confirm: str) -> None:
    """Set a new password and end every session of the user."""
    errors = {}
    if not verify_password(user.password_hash, current or ""):
        errors["current_password"] = _l("That is not your current password.")
    problem = password_problem(new or "", user.email)
    if problem:
        errors["new_password"] = problem
    elif new != confirm:
        errors["confirm_password"] = _l("The two new passwords differ.")
    if errors:
        raise ValidationError(errors)
    user.password_hash = hash_password(new)
    user.password_changed_at = clock.now()
    sessions.end_all(db_session, user.id, "password_changed")


def colleagues(db_session: Session, admin: User) -> list[tuple[User, int]]:
    """The people of the admin's organization, each with their live sessions."""
    people = list(db_session.scalars(select(User).where(policy.colleague_scope(admin)).order_by(User.name)))
    live = sessions.live_counts(db_session, [person.id for person in people])
    return [(person, live[person.id]) for person in people]


def _colleague(db_session: Session, admin: User, user_id: int) -> User:
    user = db_session.scalar(select(User).where(User.id == user_id, policy.colleague_scope(admin)))
    if user is None:
        raise NotFound()
    return user


def set_active(db_session: Session, admin: User, user_id: int, active: bool) -> User:
    """An agency admin turns an account of their organization on or off; off ends its sessions."""
    user = _colleague(db_session, admin, user_id)
    if user.id == admin.id and not active:
        raise ValidationError({"user": _l("You cannot turn off your own account.")})
    user.active = active
    if not active:
        sessions.end_all(db_session, user.id, "disabled")
    return user


def end_sessions(db_session: Session, admin: User, user_id: int) -> User:
    """An agency admin ends every session of a person of their organization."""
    user = _colleague(db_session, admin, user_id)
    sessions.end_all(db_session, user.id, "ended_by_admin")
    return user
