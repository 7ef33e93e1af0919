"""Field validation shared by forms, the JSON API and the CLI.

A service raises `ValidationError` with one message per field before it
writes anything, so a failed request never leaves a half-written record.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from coenforce import clock

# Control characters other than tab, newline and carriage return. PostgreSQL
# refuses NUL in text; SQLite would store it, so both refuse it here.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Times before this are typing mistakes, and near year 1 they do not convert to UTC.
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


# Row ids are 32-bit integers in PostgreSQL: a larger number cannot name a row.
MAX_ID = 2**31 - 1
_ID = re.compile(r"[0-9]{1,10}")


def parse_id(value) -> int | None:
    """A row id from text (a query argument, a form field), or None if it cannot be one."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


class ValidationError(Exception):
    """One or more fields are invalid; `fields` maps each to its message."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = {k: str(v) for k, v in fields.items()}


class Fields:
    """Collects per-field errors while a service checks its input."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, field: str, message) -> None:
        self.errors.setdefault(field, str(message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)

    def text(self, data: dict, field: str, *, required: bool = False, max_length: int = 200,
             multiline: bool = False) -> str | None:
        """A cleaned text value: stripped, no control characters, within length."""
        value = data.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(field, _l("This field is required."))
            return None
        if not isinstance(value, str):
            self.fail(field, _l("Must be text."))
            return None
        if not multiline:
            value = value.replace("\r", " ").replace("\n", " ")
        if _CONTROL.search(value):
            self.fail(field, _l("Contains characters that are not allowed."))
            return None
        value = value.strip()
        if len(value) > max_length:
            self.fail(field, _l("Must be at most %(n)s characters.", n=max_length))
            return None
        return value

    def integer(self, data: dict, field: str, *, required: bool = False, minimum: int = 0,
                maximum: int = 1_000_000) -> int | None:
        value = data.get(field)
        if value is None or value == "":
            if required:
                self.fail(field, _l("This field is required."))
            return None
        if isinstance(value, bool):
            self.fail(field, _l("Must be a whole number."))
            return None
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                self.fail(field, _l("Must be a whole number."))
                return None
        if not isinstance(value, int):
            self.fail(field, _l("Must be a whole number."))
            return None
        if not minimum <= value <= maximum:
            self.fail(field, _l("Must be between %(lo)s and %(hi)s.", lo=minimum, hi=maximum))
            return None
        return value

    def choices(self, data: dict, field: str, allowed, *, required: bool = False) -> list[str]:
        """A list of distinct values, each one of `allowed`."""
        value = data.get(field)
        if value is None or value == [] or value == "":
            if required:
                self.fail(field, _l("Choose at least one."))
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(field, _l("Must be a list of values."))
            return []
        unknown = [v for v in value if v not in allowed]
        if unknown:
            self.fail(field, _l("Unknown value: %(value)s", value=", ".join(sorted(set(unknown)))[:100]))
            return []
        return list(dict.fromkeys(value))

    def choice(self, data: dict, field: str, allowed, *, required: bool = False,
               default: str | None = None) -> str | None:
        value = data.get(field)
        if value is None or value == "":
            if required:
                self.fail(field, _l("This field is required."))
            return default
        if not isinstance(value, str) or value not in allowed:
            self.fail(field, _l("Choose one of the listed values."))
            return None
        return value

    def time(self, data: dict, field: str, *, required: bool = False, not_after_now: bool = True,
             default: datetime | None = None) -> datetime | None:
        """A timezone-aware time; a time in the future is refused by default."""
        value = data.get(field)
        if value is None or value == "":
            if required:
                self.fail(field, _l("This field is required."))
            return default
        if isinstance(value, datetime):
            if value.tzinfo is None:
                self.fail(field, _l("A time must include its UTC offset."))
                return None
            try:
                parsed = clock.as_utc(value)
            except OverflowError:
                self.fail(field, _l("Cannot be before 1970."))
                return None
        else:
            try:
                parsed = clock.parse_iso(value)
            except (ValueError, TypeError):
                self.fail(field, _l("Must be an ISO 8601 time with its offset, e.g. 2026-03-07T10:00:00-08:00."))
                return None
        if not_after_now and parsed > clock.now():
            self.fail(field, _l("Cannot be in the future."))
            return None
        if parsed < EARLIEST:
            self.fail(field, _l("Cannot be before 1970."))
            return None
        return parsed

    def email(self, data: dict, field: str, *, required: bool = True) -> str | None:
        value = self.text(data, field, required=required, max_length=254)
        if value is not None and not _EMAIL.match(value):
            self.fail(field, _l("Must be an email address."))
            return None
        return value.lower() if value else value

    def timezone(self, data: dict, field: str, *, default: str) -> str | None:
        value = data.get(field) or default
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(field, _l("Unknown time zone."))
            return None
        if value not in available_timezones():
            self.fail(field, _l("Unknown time zone."))
            return None
        return value


class NotAllowed(Exception):
    """The user's role may not do this (403)."""


class Conflict(Exception):
    """The record's state forbids this change (409)."""

    def __init__(self, message=""):
        super().__init__(str(message))
        self.message = message


class IdConverter(IntegerConverter):
    """`<id:name>` in routes: 1 to MAX_ID, anything else is simply not found."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)
