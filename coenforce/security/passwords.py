"""Password hashing with argon2id."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MAX_LENGTH = 128
MIN_LENGTH = 12

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


def password_problem(password: str) -> str | None:
    """Why a new password is unacceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"at most {MAX_LENGTH} characters"
    return None
