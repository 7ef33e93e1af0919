"""Passwords: argon2id hashes and the rules for new passwords.

Long passwords are welcome (up to 128 characters); anything longer is refused
before hashing, so an absurd input costs nothing. Common passwords, and common
passwords with digits or symbols tacked on, are refused.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l

MAX_LENGTH = 128
MIN_LENGTH = 12
_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")

# argon2id with the library's recommended parameters; `configure` may change
# them (the test configuration makes them cheap, never production).
_hasher = PasswordHasher()
_dummy_hash: str | None = None


def configure(time_cost: int | None, memory_cost: int | None) -> None:
    global _hasher, _dummy_hash
    if time_cost and memory_cost:
        _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
    else:
        _hasher = PasswordHasher()
    _dummy_hash = None


def _dummy() -> str:
    """A hash to verify against for unknown emails, so they take as long as real ones."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("not-a-real-password-for-timing")
    return _dummy_hash


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if `password` matches; an absurdly long password is refused before hashing."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash or _dummy(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def password_problem(password: str, email: str | None = None):
    """Why a new password is unacceptable (a lazy string), or None."""
    if len(password) < MIN_LENGTH:
        return _l("Use at least %(n)s characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("Use at most %(n)s characters.", n=MAX_LENGTH)
    lowered = password.lower()
    stripped = re.sub(r"[\d\W_]+$", "", lowered)
    common = common_passwords()
    if lowered in common or stripped in common or len(set(lowered)) <= 2:
        return _l("This password is too common. Try a few unrelated words.")
    name = (email or "").split("@")[0].lower()
    if len(name) >= 4 and name in lowered:
        return _l("Do not use your email address in your password.")
    return None
