"""The one source of time for the whole application.

Everything that needs "now" calls `now()`; tests replace it with `freeze()`
and move it explicitly. SQL `now()` is never used, so the database and the
Python code can never disagree about the time.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

_source: Callable[[], datetime] | None = None


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    if _source is not None:
        return _source()
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """`value` converted to UTC; a naive value is refused rather than guessed."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: a time must carry its offset")
    return value.astimezone(timezone.utc)


class FrozenClock:
    """A clock that stands still until told to move (tests and `--now`)."""

    def __init__(self, at: datetime):
        self.at = as_utc(at)

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = as_utc(at)

    def advance(self, delta: timedelta | None = None, **kwargs) -> datetime:
        self.at = self.at + (delta or timedelta(**kwargs))
        return self.at


def freeze(at: datetime) -> FrozenClock:
    """Make `now()` return `at` until `unfreeze()`; returns the clock to move it."""
    global _source
    clock = FrozenClock(at)
    _source = clock
    return clock


def unfreeze() -> None:
    global _source
    _source = None


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 time that must carry an offset ('Z' allowed)."""
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 string")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    try:
        return as_utc(parsed)
    except OverflowError:  # e.g. 0001-01-01T01:00+03:00 has no UTC equivalent
        raise ValueError("time out of range") from None


def iso(value: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z, or None."""
    if value is None:
        return None
    return as_utc(value).isoformat().replace("+00:00", "Z")
