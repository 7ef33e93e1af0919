"""Ladders: when each rung of a deadline falls, and which one is due now.

Pure functions with no database, so every edge (a rung a minute early, an
outage that skipped three rungs, a repeating overdue rung) is tested directly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterator


class LadderError(ValueError):
    """A ladder in the configuration is malformed."""


_AT = re.compile(r"^(start|due)(?:([+-])(\d+)([hm]))?$")
_EVERY = re.compile(r"^(\d+)([hm])$")


def _duration(amount: str, unit: str) -> timedelta:
    return timedelta(hours=int(amount)) if unit == "h" else timedelta(minutes=int(amount))


@dataclass(frozen=True)
class Rung:
    name: str
    anchor: str            # "start" or "due"
    offset: timedelta      # added to the anchor
    to: tuple[str, ...]    # recipient groups, resolved by the deadline's kind
    only_if: str | None = None
    repeat: timedelta | None = None

    def first_time(self, starts_at: datetime, due_at: datetime) -> datetime:
        return (starts_at if self.anchor == "start" else due_at) + self.offset


@dataclass(frozen=True)
class Entry:
    """One place in a deadline's schedule: the n-th notice time."""

    position: int
    at: datetime
    rung: Rung


@dataclass(frozen=True)
class Step:
    """What a tick does to one deadline: fire one entry, record the skipped ones."""

    fire: Entry | None
    skipped: tuple[Entry, ...]
    next_position: int
    next_at: datetime | None


@dataclass(frozen=True)
class Ladder:
    rungs: tuple[Rung, ...] = field(default_factory=tuple)

    def schedule(self, starts_at: datetime, due_at: datetime) -> Iterator[Entry]:
        """Every entry in time order; a repeating rung makes it endless."""
        finite = sorted(
            ((r.first_time(starts_at, due_at), i, r) for i, r in enumerate(self.rungs) if not r.repeat),
            key=lambda t: (t[0], t[1]),
        )
        repeating = next((r for r in self.rungs if r.repeat), None)
        next_repeat = repeating.first_time(starts_at, due_at) if repeating else None
        position = 0
        i = 0
        while i < len(finite) or repeating is not None:
            if i < len(finite) and (next_repeat is None or finite[i][0] <= next_repeat):
                yield Entry(position, finite[i][0], finite[i][2])
                i += 1
            else:
                yield Entry(position, next_repeat, repeating)
                next_repeat = next_repeat + repeating.repeat
            position += 1

    def time_of(self, position: int, starts_at: datetime, due_at: datetime) -> datetime | None:
        for entry in self.schedule(starts_at, due_at):
            if entry.position == position:
                return entry.at
        return None

    def step(self, position: int, starts_at: datetime, due_at: datetime, now: datetime) -> Step:
        """From `position` on, the entries due at `now`: the newest fires, the rest are skipped."""
        due: list[Entry] = []
        next_at = None
        for entry in self.schedule(starts_at, due_at):
            if entry.position < position:
                continue
            if entry.at > now:
                next_at = entry.at
                break
            due.append(entry)
        if not due:
            return Step(None, (), position, next_at)
        return Step(due[-1], tuple(due[:-1]), due[-1].position + 1, next_at)


def parse_ladder(rungs: list[dict]) -> Ladder:
    """Build a Ladder from configuration, naming the rung at fault on error."""
    if not isinstance(rungs, list) or not rungs:
        raise LadderError("a ladder needs at least one rung")
    parsed = []
    names = set()
    for index, raw in enumerate(rungs):
        where = f"rung {index + 1}"
        if not isinstance(raw, dict):
            raise LadderError(f"{where}: must be a mapping")
        unknown = set(raw) - {"name", "at", "to", "only_if", "repeat"}
        if unknown:
            raise LadderError(f"{where}: unknown keys {sorted(unknown)}")
        name = raw.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", name):
            raise LadderError(f"{where}: 'name' must be a short lower-case identifier")
        if name in names:
            raise LadderError(f"{where}: duplicate name {name!r}")
        names.add(name)
        match = _AT.match(str(raw.get("at", "")))
        if not match:
            raise LadderError(f"{where} ({name}): 'at' must look like start, start+4h, due-8h or due+30m")
        anchor, sign, amount, unit = match.groups()
        offset = _duration(amount, unit) if amount else timedelta(0)
        if sign == "-":
            offset = -offset
        to = raw.get("to")
        if not isinstance(to, list) or not to or not all(isinstance(t, str) for t in to):
            raise LadderError(f"{where} ({name}): 'to' must be a non-empty list of recipient groups")
        repeat = None
        if raw.get("repeat") is not None:
            every = _EVERY.match(str(raw["repeat"]))
            if not every or int(every.group(1)) == 0:
                raise LadderError(f"{where} ({name}): 'repeat' must look like 24h or 30m")
            if index != len(rungs) - 1:
                raise LadderError(f"{where} ({name}): only the last rung may repeat")
            repeat = _duration(*every.groups())
        only_if = raw.get("only_if")
        if only_if is not None and not isinstance(only_if, str):
            raise LadderError(f"{where} ({name}): 'only_if' must be a condition name")
        parsed.append(Rung(name, anchor, offset, tuple(to), only_if, repeat))
    return Ladder(tuple(parsed))
