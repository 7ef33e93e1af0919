"""The errors services raise, shared by pages, the JSON API and the CLI, and
the one limit on row ids.

A service raises `ValidationError` with one message per field before it
writes anything, so a failed request never leaves a half-written record.
Field checks themselves are declared in each module's `schemas.py`.
"""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

# Row ids are 32-bit integers in PostgreSQL: a larger number cannot name a row.
MAX_ID = 2**31 - 1


class ValidationError(Exception):
    """One or more fields are invalid; `fields` maps each to its message."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = {k: str(v) for k, v in fields.items()}


class NotAllowed(Exception):
    """The user's role may not do this (403)."""


class NotFound(Exception):
    """No such record within the user's scope (404): another tenant's looks the same."""


class Conflict(Exception):
    """The record's state forbids this change (409)."""

    def __init__(self, message=""):
        super().__init__(str(message))
        self.message = message


class IdConverter(IntegerConverter):
    """`<id:name>` in routes: 1 to MAX_ID, anything else is simply not found."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)
