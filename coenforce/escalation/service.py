"""Opening and stopping deadlines, and the tick that walks their ladders.

Concurrency: a tick selects due deadlines (PostgreSQL: FOR UPDATE SKIP LOCKED;
SQLite: every transaction is BEGIN IMMEDIATE), advances each with a
compare-and-set, and inserts notices with a unique dedupe key, all in one
transaction. Two ticks at once, or one tick run twice, create no duplicate.
"""
from __future__ import annotations

import json
import logging
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, NamedTuple
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy import Engine, bindparam, column, insert, or_, select, table, text, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from config import ConfigError
from coenforce import clock, notify
from coenforce.db import db, insert_loaded, write_at_commit
from coenforce.escalation import calendar
from coenforce.escalation.ladder import Entry, Ladder, LadderError, Rung, Step, parse_ladder
from coenforce.escalation.models import Deadline, EscalationStep, Holiday

log = logging.getLogger(__name__)


class DueDeadline(NamedTuple):
    """What the engine reads of a deadline to act on it: the tick reads these
    columns of each due deadline (not ORM objects: building 10,000 Deadline
    objects after an outage was a tenth of the tick), and a tuple's fields read
    ten times faster than a Row's attributes, some twenty times per deadline."""

    id: int
    kind: str
    position: int
    starts_at: datetime
    due_at: datetime
    organization_id: int
    subject_type: str
    subject_id: int
    reference: str
    path: str


# Given (deadline, rung) pairs, the ids of the people each rung tells, in the
# same order. The module that owns the deadline kind knows who they are.
Recipients = Callable[[Session, list[tuple[DueDeadline, Rung]]], list[list[int]]]


@dataclass(frozen=True)
class DeadlineKind:
    """What the engine needs to know of one kind of deadline, given by its module."""

    name: str
    recipients: Recipients
    groups: frozenset[str]
    conditions: frozenset[str] = frozenset()
    # Urgent kinds (a detained worker) fire the rungs already due when the clock
    # opens in the opening transaction: everyone is told at once. Other kinds'
    # first rungs are fired by the tick, which the scheduler runs as soon as it
    # sees a clock due, in batches with the other clocks due: the request that
    # opens the clock does not fan out, which was a fifth of a filing's cost.
    urgent: bool = False


@dataclass
class Registry:
    """The deadline kinds an app's modules registered, with their parsed ladders."""

    kinds: dict[str, DeadlineKind]
    ladders: dict[str, Ladder]


def _registry(app: Flask) -> Registry:
    return app.extensions.setdefault("coenforce.escalation", Registry({}, {}))


def register_kind(app: Flask, kind: DeadlineKind) -> None:
    """Declare a deadline kind (from a module's init_app) and check its configured ladder."""
    rungs = app.config["ESCALATION_LADDERS"].get(kind.name)
    if rungs is None:
        raise ConfigError(f"ESCALATION_LADDERS has no ladder for the deadline kind {kind.name!r}")
    try:
        ladder = parse_ladder(rungs)
    except LadderError as exc:
        raise ConfigError(f"ESCALATION_LADDERS[{kind.name!r}]: {exc}") from None
    for rung in ladder.rungs:
        unknown = set(rung.to) - kind.groups
        if unknown:
            raise ConfigError(f"ESCALATION_LADDERS[{kind.name!r}], rung {rung.name!r}: "
                              f"unknown recipient groups {sorted(unknown)}")
        if rung.only_if and rung.only_if not in kind.conditions:
            raise ConfigError(f"ESCALATION_LADDERS[{kind.name!r}], rung {rung.name!r}: "
                              f"unknown condition {rung.only_if!r}")
    registry = _registry(app)
    registry.kinds[kind.name] = kind
    registry.ladders[kind.name] = ladder


def check_ladders(app: Flask) -> None:
    """After every module registered: a configured ladder no module uses is a mistake."""
    unused = set(app.config["ESCALATION_LADDERS"]) - set(_registry(app).kinds)
    if unused:
        raise ConfigError(f"ESCALATION_LADDERS names {sorted(unused)}, which no module registers")


def ladder_for(kind: str) -> Ladder:
    return _registry(current_app).ladders[kind]


def open_deadline(session: Session, *, kind: str, subject_type: str, subject_id: int, organization_id: int,
                  reference: str, path: str, starts_at: datetime, due_at: datetime) -> Deadline:
    """Start a clock. Its first rung (the intake notice) is the tick's to fire:
    the scheduler looks for due clocks every DISPATCH_POLL_SECONDS. An urgent
    kind's rungs already due fire in this transaction."""
    now = clock.now()
    ladder = ladder_for(kind)
    if not _registry(current_app).kinds[kind].urgent:
        first = ladder.step(0, starts_at, due_at, _BEFORE_ANY_RUNG)
        step = None
    else:
        # The rungs already due are planned before the row is written, so it goes
        # in at its next position: nobody else can see it yet, so there is
        # nothing to compare-and-set.
        first = step = ladder.step(0, starts_at, due_at, now)
    [deadline] = insert_loaded(session, Deadline, [dict(
        organization_id=organization_id, subject_type=subject_type, subject_id=subject_id, kind=kind,
        reference=reference, path=path, starts_at=starts_at, due_at=due_at, stopped_at=None,
        position=first.next_position, next_rung_at=first.next_at, created_at=now,
    )])
    if step is not None:
        _act(session, [(_due(deadline), step)], now, Counter())
    return deadline


# Planned at this time, a ladder has nothing due and names its first rung as the next.
_BEFORE_ANY_RUNG = datetime.min.replace(tzinfo=timezone.utc)


def stop_deadline(session: Session, deadline: Deadline, at: datetime) -> bool:
    """Stop a clock at `at` and cancel its unsent notices.

    A clock stops at its earliest stopping time: a response recorded late but
    dated before the current stop moves the stop back. False if nothing changed.
    """
    result = session.execute(
        update(Deadline)
        .where(Deadline.id == deadline.id, or_(Deadline.stopped_at.is_(None), Deadline.stopped_at > at))
        .values(stopped_at=at, next_rung_at=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    deadline.stopped_at = at
    deadline.next_rung_at = None
    notify.cancel_pending(session, deadline.id)
    return True


def anything_due(session: Session, now: datetime) -> bool:
    """Whether any clock has a rung due at `now`: a read on the due index, which
    the scheduler makes every DISPATCH_POLL_SECONDS to know when to tick."""
    return session.execute(select(Deadline.id).where(*_due_at(now)).limit(1)).first() is not None


def _due_at(now: datetime) -> tuple:
    """The conditions of a clock with a rung due at `now` (those of the due index, and the time)."""
    return Deadline.stopped_at.is_(None), Deadline.next_rung_at.is_not(None), Deadline.next_rung_at <= now


def tick(session: Session, now: datetime | None = None) -> dict:
    """Walk every due deadline's ladder at `now`; returns counts of what was done.

    On PostgreSQL a backlog (a first batch that came back full) is shared with
    helper threads on connections of their own (ESCALATION_TICK_WORKERS in all):
    SKIP LOCKED hands each its own batches, and the compare-and-set and dedupe
    keys that make two ticks safe make the helpers safe. The process builds one
    batch while the database writes another's, where alone it waits. SQLite
    holds one write lock, so a helper would only wait: one worker there."""
    now = now or clock.now()
    app = current_app._get_current_object()
    bind = session.get_bind()
    workers = app.config["ESCALATION_TICK_WORKERS"] if bind.dialect.name == "postgresql" else 1
    helpers: list[threading.Thread] = []
    results: list[Counter] = []
    errors: list[BaseException] = []
    failed = threading.Event()  # a worker that fails stops the others after their batch

    def helper() -> None:
        counts: Counter = Counter()
        try:
            with app.app_context():
                own = db.new_session(app)
                try:
                    _drain(own, now, counts, failed)
                finally:
                    own.close()
        except BaseException as exc:  # re-raised by tick once every worker has stopped
            errors.append(exc)
            failed.set()
        results.append(counts)

    def backlog() -> None:
        if not helpers and isinstance(bind, Engine):  # a session on one connection keeps it to itself
            helpers.extend(threading.Thread(target=helper, name=f"tick-helper-{n}") for n in range(workers - 1))
            for thread in helpers:
                thread.start()

    counts: Counter = Counter()
    try:
        _drain(session, now, counts, failed, backlog if workers > 1 else None)
    except BaseException:
        failed.set()
        raise
    finally:
        for thread in helpers:
            thread.join()
    if errors:
        raise errors[0]
    for more in results:
        counts.update(more)
    return {key: counts.get(key, 0) for key in ("deadlines", "fired", "skipped", "notices", "held")}


def _drain(session: Session, now: datetime, counts: Counter, failed: threading.Event,
           on_full_batch: Callable[[], None] | None = None) -> None:
    """Advance due deadlines batch by batch, a transaction each, until none is left
    that another process does not hold (or another worker of this tick failed)."""
    batch_size = current_app.config["ESCALATION_BATCH_SIZE"]
    is_postgres = session.get_bind().dialect.name == "postgresql"
    while not failed.is_set():
        query = (
            select(*_DUE_COLUMNS)
            .where(*_due_at(now))
            .order_by(Deadline.next_rung_at)
            .limit(batch_size)
        )
        if is_postgres:
            query = query.with_for_update(skip_locked=True)
        deadlines = [DueDeadline._make(row) for row in session.execute(query).all()]
        if not deadlines:
            session.commit()
            break
        if on_full_batch is not None and len(deadlines) == batch_size:
            on_full_batch()
        try:
            advanced = [deadline for deadline, _step in _advance_committed(session, deadlines, now, counts)]
        except _DATABASE_UNAVAILABLE:
            raise  # not a deadline's fault: the tick fails, and the next one tries again
        except Exception:
            session.rollback()
            advanced = _advance_one_at_a_time(session, deadlines, now, counts)
        if not advanced:
            break  # every row was taken by another process


# A deadline its kind cannot act on (its recipients or its wording fail on it) waits
# this long before the next try, so that it neither holds back the clocks due
# with it nor makes every tick fail; each try that fails is logged.
HOLD_AFTER_FAILURE = timedelta(minutes=1)
# A lost connection, a lock or a deadlock says nothing about the deadlines.
_DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def _advance_one_at_a_time(session: Session, deadlines: list[DueDeadline], now: datetime,
                           counts: Counter) -> list[DueDeadline]:
    """After a batch failed: each of its deadlines in a transaction of its own.
    One that fails alone is held for HOLD_AFTER_FAILURE (compare-and-set on its
    position, as an advance); returns the deadlines moved or held."""
    handled = []
    for deadline in deadlines:
        try:
            handled += [moved for moved, _step in _advance_committed(session, [deadline], now, counts)]
        except _DATABASE_UNAVAILABLE:
            raise
        except Exception:
            session.rollback()
            log.exception("deadline %s (%s, position %s) could not be advanced; next try in %s",
                          deadline.id, deadline.kind, deadline.position, HOLD_AFTER_FAILURE)
            held = session.execute(_HOLD, {"deadline_id": deadline.id, "old_position": deadline.position,
                                           "now": now, "until": now + HOLD_AFTER_FAILURE}).rowcount == 1
            session.commit()
            if held:  # (not held: another worker moved or held it first)
                counts["held"] += 1
                handled.append(deadline)
    return handled


def _advance_committed(session: Session, deadlines: list[DueDeadline], now: datetime,
                       counts: Counter) -> list[tuple[DueDeadline, Step]]:
    """_advance_batch and the commit; `counts` takes what it did only once committed."""
    done: Counter = Counter()
    moved = _advance_batch(session, deadlines, now, done)
    session.commit()
    counts.update(done)
    return moved


_deadlines = Deadline.__table__
_DUE_COLUMNS = tuple(getattr(Deadline, field) for field in DueDeadline._fields)
# Held once, whichever worker of the tick gets there first: still at its position and still due.
_HOLD = (update(_deadlines)
         .where(_deadlines.c.id == bindparam("deadline_id"), _deadlines.c.position == bindparam("old_position"),
                _deadlines.c.stopped_at.is_(None), _deadlines.c.next_rung_at <= bindparam("now"))
         .values(next_rung_at=bindparam("until")))


def _due(deadline: Deadline) -> DueDeadline:
    return DueDeadline._make(getattr(deadline, field) for field in DueDeadline._fields)


def _advance_batch(session: Session, deadlines: list[DueDeadline], now: datetime,
                   counts: Counter) -> list[tuple[DueDeadline, Step]]:
    """Apply one step to each deadline: advance them all with one compare-and-set,
    then notify for the whole batch at once (one recipients call per kind, one
    insert of notices). Returns the deadlines this process moved, with their step."""
    ladders = _registry(current_app).ladders
    planned = [(d, ladders[d.kind].step(d.position, d.starts_at, d.due_at, now)) for d in deadlines]
    won = _compare_and_set(session, planned)
    # A deadline not won was advanced (or stopped) by another tick first; the
    # winner of the update sends its notices.
    moved = [(d, step) for d, step in planned if d.id in won]
    _act(session, moved, now, counts)
    return moved


def _act(session: Session, moved: list[tuple[DueDeadline, Step]], now: datetime, counts: Counter) -> None:
    """Notify for the steps of deadlines this process moved (one recipients call
    per kind, one insert of notices) and record the steps."""
    fires = [(d, step.fire) for d, step in moved if step.fire is not None]
    sent = _notify(session, fires)
    steps: list[dict] = []
    for deadline, step in moved:
        counts["deadlines"] += 1
        if step.fire is None:
            continue
        counts["fired"] += 1
        counts["skipped"] += len(step.skipped)
        counts["notices"] += sent[deadline.id]
        steps.append(_step_record(deadline, step, sent[deadline.id]))
    _record_steps(session, steps, now)


# PostgreSQL: every step of a batch in one statement of constant text (see _ADVANCE_MANY).
_INSERT_STEPS = text("""
    INSERT INTO escalation_steps (deadline_id, position, rung, scheduled_at, handled_at, notices, skipped)
    SELECT v.deadline_id, v.position, v.rung, v.scheduled_at, :handled_at, v.notices, v.skipped
    FROM json_to_recordset(CAST(:rows AS json))
         AS v(deadline_id integer, position integer, rung text, scheduled_at timestamptz, notices integer,
              skipped json)
""")


_INSERT_STEP = insert(EscalationStep.__table__).inline()  # inline: it does not return the new id


def _record_steps(session: Session, steps: list[dict], now: datetime) -> None:
    """Record the steps taken; nothing reads them back in this transaction, so
    they are written with its commit (db.write_at_commit)."""
    if not steps:
        return
    # A batch on PostgreSQL goes as one JSON document; one step (a filing's intake
    # rung) as a plain INSERT, which costs the server less than reading a JSON
    # document of one row (about 95 against 155 us).
    if len(steps) > 1 and session.get_bind().dialect.name == "postgresql":
        write_at_commit(session, _INSERT_STEPS, {"rows": json.dumps(steps, default=clock.iso), "handled_at": now})
    else:
        write_at_commit(session, _INSERT_STEP, [dict(step, handled_at=now) for step in steps])


# PostgreSQL: the whole batch in one statement whose text never changes (so the
# server parses it once per connection), its rows passed as one JSON document
# (encoded and decoded in C, not value by value); each row still moves only
# from the position this tick read (compare-and-set), and RETURNING names the winners.
_ADVANCE_MANY = text("""
    UPDATE deadlines AS d SET position = v.next_position, next_rung_at = v.next_at
    FROM json_to_recordset(CAST(:rows AS json))
         AS v(id integer, old_position integer, next_position integer, next_at timestamptz)
    WHERE d.id = v.id AND d.position = v.old_position AND d.stopped_at IS NULL
    RETURNING d.id
""")


def _compare_and_set(session: Session, planned: list[tuple[DueDeadline, Step]]) -> set[int]:
    """Move each deadline to its next position unless another process moved it
    first; returns the ids this process moved."""
    if not planned:
        return set()
    if session.get_bind().dialect.name == "postgresql":
        rows = [{"id": d.id, "old_position": d.position, "next_position": s.next_position,
                 "next_at": clock.iso(s.next_at)} for d, s in planned]
        return set(session.execute(_ADVANCE_MANY, {"rows": json.dumps(rows)}).scalars())
    # SQLite runs in the process and every write transaction holds the lock:
    # one short statement per row costs microseconds.
    won = set()
    for deadline, step in planned:
        result = session.execute(_ADVANCE_ONE, {"deadline_id": deadline.id, "old_position": deadline.position,
                                                "next_position": step.next_position, "next_at": step.next_at})
        if result.rowcount == 1:
            won.add(deadline.id)
    return won


# SQLite's compare-and-set of one deadline, built once.
_ADVANCE_ONE = (update(_deadlines)
                .where(_deadlines.c.id == bindparam("deadline_id"), _deadlines.c.position == bindparam("old_position"),
                       _deadlines.c.stopped_at.is_(None))
                .values(position=bindparam("next_position"), next_rung_at=bindparam("next_at")))


def _notify(session: Session, fires: list[tuple[DueDeadline, Entry]]) -> Counter:
    """Queue the notices of every fired entry; returns how many went in per deadline."""
    by_kind: dict[str, list[tuple[DueDeadline, Entry]]] = defaultdict(list)
    for deadline, entry in fires:
        by_kind[deadline.kind].append((deadline, entry))
    kinds = _registry(current_app).kinds
    messages: list[dict] = []
    for kind, items in by_kind.items():
        people = kinds[kind].recipients(session, [(d, e.rung) for d, e in items])
        for (deadline, entry), user_ids in zip(items, people):
            if not user_ids:
                continue
            messages.append(dict(
                organization_id=deadline.organization_id, deadline_id=deadline.id,
                subject_type=deadline.subject_type, subject_id=deadline.subject_id,
                kind=f"{kind}.{entry.rung.name}", recipient_ids=list(dict.fromkeys(user_ids)),
                dedupe_prefix=f"deadline:{deadline.id}:rung:{entry.position}:to:",
                context={"reference": deadline.reference, "path": deadline.path,
                         "due_at": clock.iso(deadline.due_at), "rung": entry.rung.name}))
    inserted = notify.enqueue_to_each(session, messages)
    return Counter({message["deadline_id"]: n for message, n in zip(messages, inserted)})


def _step_record(deadline: DueDeadline, step: Step, notices: int) -> dict:
    """The row of a fired entry; the entries skipped before it go in the same row
    (one write per deadline and tick, however long the outage)."""
    entry = step.fire
    skipped = [{"position": e.position, "rung": e.rung.name, "scheduled_at": clock.iso(e.at)}
               for e in step.skipped] or None
    return dict(deadline_id=deadline.id, position=entry.position, rung=entry.rung.name,
                scheduled_at=entry.at, notices=notices, skipped=skipped)


def deadline_for(session: Session, subject_type: str, subject_id: int, kind: str) -> Deadline | None:
    return session.scalar(select(Deadline).where(
        Deadline.subject_type == subject_type, Deadline.subject_id == subject_id, Deadline.kind == kind))


# ---------------------------------------------------------------- business days and moving a due time

# The engine knows no domain module: an organization's time zone is read from its table by name.
_organizations = table("organizations", column("id"), column("timezone"))


def business_days_after(session: Session, organization_id: int, start: datetime, days: int) -> datetime:
    """The end (23:59:59 local) of the `days`-th business day after `start`'s
    local date in the organization's time zone, skipping weekends and the
    organization's holidays; in UTC."""
    zone = ZoneInfo(session.scalar(select(_organizations.c.timezone).where(_organizations.c.id == organization_id)))
    first = calendar.local_date(start, zone)
    span = calendar.span_for(days)
    while True:
        last = first + timedelta(days=span)
        holidays = set(session.scalars(select(Holiday.date).where(
            Holiday.organization_id == organization_id, Holiday.date > first, Holiday.date <= last)))
        day = calendar.nth_business_day(first, days, holidays)
        if day <= last:
            return calendar.end_of_day(day, zone)
        span *= 2  # more holidays than the window allowed for: read a wider one


def calendar_days_after(session: Session, organization_id: int, start: datetime, days: int) -> datetime:
    """The end (23:59:59 local) of the `days`-th calendar day after `start`'s local date; in UTC."""
    zone = ZoneInfo(session.scalar(select(_organizations.c.timezone).where(_organizations.c.id == organization_id)))
    return calendar.add_calendar_days(start, days, zone)


def reschedule(session: Session, deadline: Deadline, due_at: datetime) -> None:
    """Move a running clock's due time. Rungs already fired (or skipped) stay
    handled; the next rung's time is recomputed from the new due time, and a
    rung that now lies in the past fires at the next tick (after several, the
    newest fires and the others are recorded as skipped, as after an outage).

    The row is locked (PostgreSQL: FOR UPDATE; SQLite: the write transaction)
    so a tick cannot advance it in between; the caller commits. A ladder's
    order of rungs is assumed not to change with the due time (true of ladders
    whose rungs all hang from the due time, or whose start rungs come first)."""
    current = session.execute(
        select(Deadline.position, Deadline.stopped_at).where(Deadline.id == deadline.id).with_for_update()).one()
    if current.stopped_at is not None:
        raise ValueError("a stopped clock cannot be rescheduled")
    next_at = ladder_for(deadline.kind).time_of(current.position, deadline.starts_at, due_at)
    session.execute(update(_deadlines).where(_deadlines.c.id == deadline.id)
                    .values(due_at=due_at, next_rung_at=next_at))
    set_committed_value(deadline, "position", current.position)
    set_committed_value(deadline, "due_at", due_at)
    set_committed_value(deadline, "next_rung_at", next_at)
