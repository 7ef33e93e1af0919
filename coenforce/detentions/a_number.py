"""Alien Registration Numbers: how a typed A-Number is normalised, so that
every way of writing one finds the same blind index."""
from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-.]+")


def normalize_a_number(value: str) -> str:
    """Nine digits: separators and a leading 'A' or '#' dropped, 8 digits padded (DOMAIN.md)."""
    digits = _SEPARATORS.sub("", value).upper().lstrip("A#")
    if not digits.isascii() or not digits.isdigit() or len(digits) not in (8, 9):
        raise ValueError("an A-Number has 8 or 9 digits")  # the value itself stays out of messages
    return digits.zfill(9)


def mask_a_number(value: str | None) -> str | None:
    """What a page or the API shows of an A-Number: its last three digits."""
    if not value:
        return None
    return "A-•••-••" + value[-3:]
