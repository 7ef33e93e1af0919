"""Two-factor login with TOTP (pyotp): enrollment with a QR code drawn by the
app itself, single-use codes, and hashed one-time recovery codes."""
from __future__ import annotations

import secrets

import pyotp
import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from coenforce import clock
from coenforce.partners.models import User
from coenforce.security.models import RecoveryCode
from coenforce.security.passwords import hash_password, verify_password

ISSUER = "coenforce"
RECOVERY_CODES = 10
STEP = 30


def begin_enrollment(user: User) -> str:
    """A new secret for `user`, not active until a code from it is confirmed."""
    user.totp_secret = pyotp.random_base32()
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_data_uri(user: User) -> str:
    """The enrollment QR code as an inline SVG image: no outside service sees the secret."""
    return segno.make(provisioning_uri(user), error="m").svg_data_uri(scale=5, border=2)


def _matching_step(user: User, code: str) -> int | None:
    """The time step whose code matches (one step of drift either way), if any."""
    if not user.totp_secret or not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(user.totp_secret)
    now_step = int(clock.now().timestamp()) // STEP
    for step in (now_step, now_step - 1, now_step + 1):
        if secrets.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def check_code(user: User, code: str) -> bool:
    """Accept a TOTP code once: a step at or before the last used one is refused."""
    step = _matching_step(user, code.strip().replace(" ", ""))
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def confirm_enrollment(db_session: Session, user: User, code: str) -> list[str] | None:
    """Turn TOTP on if `code` matches the pending secret; returns new recovery codes."""
    if user.totp_secret is None or not check_code(user, code):
        return None
    user.totp_enabled_at = clock.now()
    return new_recovery_codes(db_session, user)


def new_recovery_codes(db_session: Session, user: User) -> list[str]:
    """Replace the user's recovery codes; the plain codes are shown once and never stored."""
    for old in db_session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db_session.delete(old)
    codes = ["-".join(secrets.token_hex(3) for _ in range(3)) for _ in range(RECOVERY_CODES)]
    now = clock.now()
    for code in codes:
        db_session.add(RecoveryCode(user_id=user.id, code_hash=hash_password(code), created_at=now))
    db_session.flush()
    return codes


def use_recovery_code(db_session: Session, user: User, code: str) -> bool:
    code = code.strip().lower()
    if len(code) > 40:
        return False
    for row in db_session.scalars(select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))):
        if verify_password(row.code_hash, code):
            row.used_at = clock.now()
            db_session.flush()
            return True
    return False


def remaining_recovery_codes(db_session: Session, user: User) -> int:
    return len(db_session.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all())


def disable(db_session: Session, user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    for row in db_session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db_session.delete(row)
    db_session.flush()
