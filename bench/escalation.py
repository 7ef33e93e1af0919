"""Benchmark of the escalation engine's tick.

Phase 1 asks whether a tick's cost follows the work due rather than the size
of the history: a database of N complaints (one response clock each, nearly
all stopped long ago or with their next rung in the future) has exactly
`--due` clocks with a rung due, and one tick is timed at each size of
`--sizes`. The goal is a ratio (largest size / smallest) of at most 1.5.

Phase 2 is a scheduler back from an outage: `--outage` running complaints
received 60 hours ago were never ticked, so each has several rungs due; the
tick fires the newest and records the skipped ones. The goal is under 10 s.

The history is bulk-loaded with SQLAlchemy Core (the ORM service would take
hours for a million complaints); the people and organizations are made with
the real services, and the due clocks use the real ladder, so the tick does
its real work: each due clock fires one rung and notices go to real users.

Runs on its own temporary SQLite database, or on COENFORCE_DATABASE_URL,
which must be empty unless --reset is given (then it is wiped first).
Prints progress as it goes and, as its last line, one JSON object of figures.

    .venv/bin/python bench/escalation.py
    .venv/bin/python bench/escalation.py --sizes 1000,10000 --outage 1000
    COENFORCE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/escalation.py --reset
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The testing configuration makes its own throwaway secrets: no instance/ files needed.
os.environ["COENFORCE_ENV"] = "testing"

from sqlalchemy import bindparam, delete, event, func, inspect, select, text, update  # noqa: E402

from coenforce import clock, create_app  # noqa: E402
from coenforce.complaints.models import Complaint, ComplaintRetaliation, ComplaintShare  # noqa: E402
from coenforce.complaints.models import RESPONSE_CLOCK as CLOCK_KIND  # noqa: E402
from coenforce.complaints.types import RetaliationType  # noqa: E402
from coenforce.enums import SubjectType  # noqa: E402
from coenforce.partners.schemas import OrganizationIn, PartnershipIn, UserIn  # noqa: E402
from coenforce.schemas import parse  # noqa: E402
from coenforce.db import db, make_engine  # noqa: E402
from coenforce.escalation import tick  # noqa: E402
from coenforce.escalation.ladder import Ladder  # noqa: E402
from coenforce.escalation.models import Deadline, EscalationStep  # noqa: E402
from coenforce.escalation.service import ladder_for  # noqa: E402
from coenforce.migrate import upgrade  # noqa: E402
from coenforce.models import metadata  # noqa: E402
from coenforce.notify.models import Notice  # noqa: E402
from coenforce.partners import service as partners  # noqa: E402

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
TARGET_HOURS = 48
# A clock counted as "not due" must have its next rung at least this far after NOW.
MARGIN = timedelta(minutes=5)
PASSWORD = "bench-password-not-used-for-login"
EMPLOYERS = [f"{a} {b}" for a in ("Acme", "Valley", "Golden", "Coastal", "Sierra", "Harbor", "Summit", "Pacific")
             for b in ("Packing", "Farms", "Construction", "Cleaning", "Logistics", "Dairy", "Poultry", "Nursery")]
DESCRIPTION = ("The supervisor said he would call immigration after the workers asked about unpaid overtime; "
               "two of them were moved to fewer hours the next week. ")
TYPES = sorted(t.value for t in RetaliationType)


def say(message: str) -> None:
    print(message, flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time the escalation tick against a growing history (phase 1) and after an outage "
                    "(phase 2). Uses a temporary SQLite database unless COENFORCE_DATABASE_URL is set. "
                    "The last line of output is one JSON object of the figures.")
    parser.add_argument("--sizes", default="10000,1000000",
                        help="comma-separated numbers of complaints of history to time a tick at "
                             "(default: 10000,1000000)")
    parser.add_argument("--due", type=int, default=100, help="clocks with a rung due at each tick (default: 100)")
    parser.add_argument("--outage", type=int, default=10000,
                        help="running complaints never ticked for 60 h, for phase 2; 0 skips it (default: 10000)")
    parser.add_argument("--repeats", type=int, default=3, help="ticks timed per measurement; the median is "
                                                               "reported (default: 3)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="uncounted ticks before the timed ones of phase 1, so caches are as warm as "
                             "under a scheduler ticking every 30 s (default: 1)")
    parser.add_argument("--chunk", type=int, default=10000, help="rows per insert batch and transaction "
                                                                 "while loading (default: 10000)")
    parser.add_argument("--seed", type=int, default=20260302, help="random seed of the history (default: fixed)")
    parser.add_argument("--reset", action="store_true",
                        help="wipe the database at COENFORCE_DATABASE_URL first (PostgreSQL: DROP SCHEMA public "
                             "CASCADE; CREATE SCHEMA public). Without it a non-empty database is refused.")
    args = parser.parse_args(argv)
    try:
        args.sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        parser.error("--sizes must be comma-separated integers, e.g. 10000,1000000")
    if not args.sizes or args.sizes[0] < 1:
        parser.error("--sizes needs at least one positive size")
    if args.due < 1 or args.due > args.sizes[0]:
        parser.error("--due must be between 1 and the smallest size")
    if args.outage < 0 or args.warmup < 0 or args.repeats < 1 or args.chunk < 1:
        parser.error("--outage and --warmup must be >= 0, --repeats and --chunk >= 1")
    return args


# ---------------------------------------------------------------- the database

def prepare_database(args) -> tuple[str, object]:
    """The URL to use, and the temporary directory to keep alive (or None)."""
    url = os.environ.get("COENFORCE_DATABASE_URL")
    if not url:
        tmp = tempfile.TemporaryDirectory(prefix="coenforce-bench-")
        url = f"sqlite:///{tmp.name}/bench.db"
        say(f"database: temporary SQLite file {tmp.name}/bench.db")
        return url, tmp
    engine = make_engine(url)
    shown = engine.url.render_as_string(hide_password=True)
    try:
        names = set(inspect(engine).get_table_names())
        if names and args.reset:
            say(f"database: {shown} -- resetting it (--reset)")
            with engine.begin() as conn:
                if engine.dialect.name == "postgresql":
                    conn.execute(text("DROP SCHEMA public CASCADE"))
                    conn.execute(text("CREATE SCHEMA public"))
                else:
                    from sqlalchemy import MetaData
                    existing = MetaData()
                    existing.reflect(bind=conn)
                    existing.drop_all(bind=conn)
        elif names:
            problem = _not_empty(engine, names)
            if problem:
                sys.exit(f"bench/escalation.py: refusing to use {shown}: {problem}.\n"
                         f"The benchmark fills it with fake complaints. Pass --reset to wipe it first "
                         f"(every table in it is dropped), or point COENFORCE_DATABASE_URL at an empty database.")
            say(f"database: {shown} (migrated and empty)")
        else:
            say(f"database: {shown} (empty)")
    finally:
        engine.dispose()
    return url, None


def _not_empty(engine, names: set[str]) -> str | None:
    """Why the database cannot be used as it is, or None if it is a migrated, empty coenforce database."""
    foreign = names - set(metadata.tables) - {"alembic_version"}
    if foreign:
        return f"it holds tables that are not coenforce's ({', '.join(sorted(foreign)[:5])})"
    with engine.connect() as conn:
        for name in sorted(names & set(metadata.tables)):
            if conn.execute(select(func.count()).select_from(metadata.tables[name])).scalar():
                return f"table {name} has rows"
    return None


def loader_engine(url: str):
    """An engine for bulk loading; on SQLite, durability is traded for speed on its connections only."""
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _fast(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB
            cursor.execute("PRAGMA temp_store=MEMORY")
            cursor.execute("PRAGMA secure_delete=OFF")
            cursor.close()
    return engine


# ---------------------------------------------------------------- people

class People:
    """Two agencies (2 supervisors, 1 admin, 3 investigators each), each with a partner that has a liaison."""

    def __init__(self, app):
        session = db.new_session(app)
        self.agencies: list[int] = []
        self.partner_of: dict[int, int] = {}
        self.liaison_of: dict[int, int] = {}
        self.investigators: dict[int, list[int]] = {}
        for region in ("North", "South"):
            agency = partners.create_organization(session, parse(OrganizationIn, {
                "name": f"Bench Labor Office {region}", "kind": "agency", "response_target_hours": TARGET_HOURS}))
            partner = partners.create_organization(session, parse(OrganizationIn, {
                "name": f"Bench Worker Center {region}", "kind": "partner"}))
            partners.create_partnership(session, PartnershipIn(agency=agency.name, partner=partner.name))
            users = {}
            for role, count in (("supervisor", 2), ("agency_admin", 1), ("investigator", 3)):
                users[role] = [self._user(session, agency, role, f"{region}{n}") for n in range(count)]
            liaison = self._user(session, partner, "liaison", region)
            self._user(session, partner, "organizer", region)
            self.agencies.append(agency.id)
            self.partner_of[agency.id] = partner.id
            self.liaison_of[partner.id] = liaison.id
            self.investigators[agency.id] = [u.id for u in users["investigator"]]
        session.commit()
        session.close()

    @staticmethod
    def _user(session, org, role, tag):
        return partners.create_user(session, parse(UserIn, {
            "email": f"{role}.{tag.lower()}@bench.example.org", "org": org.name, "role": role, "password": PASSWORD}))


# ---------------------------------------------------------------- history rows

def handled_by(ladder: Ladder, starts_at: datetime, due_at: datetime, t: datetime) -> tuple[int, datetime | None]:
    """(entries of the schedule at or before t, time of the next one): what ticks up to t leave behind.

    Closed form of walking Ladder.schedule, so a clock with months of repeating
    overdue rungs costs nothing to load; checked against Ladder.step below.
    """
    count, upcoming = 0, []
    for rung in ladder.rungs:
        first = rung.first_time(starts_at, due_at)
        if rung.repeat is None:
            if first <= t:
                count += 1
            else:
                upcoming.append(first)
        elif first <= t:
            fired = (t - first) // rung.repeat + 1
            count += fired
            upcoming.append(first + fired * rung.repeat)
        else:
            upcoming.append(first)
    return count, min(upcoming, default=None)


class History:
    """Makes the rows of complaints, their retaliation types, shares and clocks."""

    def __init__(self, ladder: Ladder, people: People, seed: int):
        self.ladder = ladder
        self.people = people
        self.rng = random.Random(seed)
        self.checked = 0

    def _complaint(self, cid: int, received_at: datetime, *, assigned: bool, status: str,
                   closed_at: datetime | None = None) -> tuple[dict, list[dict], list[dict]]:
        rng = self.rng
        agency = rng.choice(self.people.agencies)
        partner = self.people.partner_of[agency]
        by_partner = rng.random() < 0.3
        shared = by_partner or rng.random() < 0.1
        complaint = dict(
            id=cid, agency_id=agency, filed_by_org_id=partner if by_partner else agency,
            filed_by_user_id=self.people.liaison_of[partner] if by_partner else rng.choice(
                self.people.investigators[agency]),
            employer_name=rng.choice(EMPLOYERS), worksite_address=None, description=DESCRIPTION,
            labor_dispute=None, language="es" if rng.random() < 0.4 else "en",
            workers_affected=rng.randint(1, 40), received_at=received_at, status=status,
            assignee_id=rng.choice(self.people.investigators[agency]) if assigned else None,
            attorney_list_provided_at=None, attorney_list_language=None, closed_at=closed_at,
            closing_note=None, created_at=received_at + timedelta(minutes=rng.randint(0, 90)),
        )
        types = [{"complaint_id": cid, "type": t} for t in rng.sample(TYPES, 2 if rng.random() < 0.3 else 1)]
        shares = [{"complaint_id": cid, "partner_id": partner, "shared_at": complaint["created_at"]}] if shared else []
        return complaint, types, shares

    def _deadline(self, complaint: dict, *, stopped_at, position, next_rung_at) -> dict:
        starts = complaint["received_at"]
        return dict(
            id=complaint["id"], organization_id=complaint["agency_id"], subject_type=SubjectType.COMPLAINT.value,
            subject_id=complaint["id"], kind=CLOCK_KIND, reference=f"RC-{complaint['id']:06d}",
            path=f"/complaints/{complaint['id']}", starts_at=starts, due_at=starts + TARGET_HOURS * HOUR,
            stopped_at=stopped_at, position=position, next_rung_at=next_rung_at,
            created_at=complaint["created_at"],
        )

    def _check(self, deadline: dict, at: datetime) -> None:
        """For a sample of rows, the closed form must agree with the ladder itself."""
        if self.checked >= 2000:
            return
        self.checked += 1
        step = self.ladder.step(0, deadline["starts_at"], deadline["due_at"], at)
        position, next_at = handled_by(self.ladder, deadline["starts_at"], deadline["due_at"], at)
        assert (step.next_position, step.next_at) == (position, next_at), (deadline, step, position, next_at)

    def past(self, cid: int):
        """A complaint of the history: its clock stopped, or running with its next rung in the future."""
        rng = self.rng
        r = rng.random()
        if r < 0.03 or r >= 0.985:
            # Running: received in the last two days, or breached weeks ago and still unanswered.
            recent = r < 0.03
            received = NOW - (rng.uniform(0.02, 47.5) * HOUR if recent else rng.uniform(2.1, 60) * DAY)
            due = received + TARGET_HOURS * HOUR
            position, next_at = handled_by(self.ladder, received, due, NOW)
            while next_at - NOW < MARGIN:  # never due now: nudge it earlier than a rung boundary
                received -= 2 * MARGIN
                due = received + TARGET_HOURS * HOUR
                position, next_at = handled_by(self.ladder, received, due, NOW)
            complaint, types, shares = self._complaint(cid, received, assigned=rng.random() < 0.6, status="open")
            deadline = self._deadline(complaint, stopped_at=None, position=position, next_rung_at=next_at)
            self._check(deadline, NOW)
            return complaint, types, shares, deadline
        if r < 0.88:  # answered in time
            received = NOW - rng.uniform(3, 3 * 365) * DAY
            stopped = received + rng.uniform(0.25, TARGET_HOURS - 0.5) * HOUR
        else:  # answered late
            received = NOW - rng.uniform(25, 3 * 365) * DAY
            stopped = received + TARGET_HOURS * HOUR + rng.uniform(0.02, 20 * 24) * HOUR
        closed = stopped + rng.uniform(1, 90) * DAY
        if closed > NOW:
            closed = None
        due = received + TARGET_HOURS * HOUR
        position, _ = handled_by(self.ladder, received, due, stopped)
        complaint, types, shares = self._complaint(
            cid, received, assigned=True, status="closed" if closed else "responding", closed_at=closed)
        deadline = self._deadline(complaint, stopped_at=stopped, position=position, next_rung_at=None)
        self._check(deadline, stopped)
        return complaint, types, shares, deadline

    def due(self, cid: int, n: int):
        """A running complaint whose clock has exactly one rung due at NOW, fired by the coming tick.

        Cycles through the rungs a tick meets (unassigned, reminder, warning,
        breach, overdue and its repeats); the earlier entries were handled by
        earlier ticks and the next one is hours away.
        """
        rng = self.rng
        targets = [("unassigned", 0), ("reminder", 0), ("warning", 0), ("breach", 0),
                   ("overdue", 0), ("overdue", 1), ("overdue", 2), ("overdue", 6)]
        name, repeats = targets[n % len(targets)]
        rung = next(r for r in self.ladder.rungs if r.name == name)
        fell_at = NOW - timedelta(seconds=rng.uniform(1, 29))  # since the last tick, 30 s ago
        # Solve rung.first_time(received, received + 48h) + repeats * repeat == fell_at for received.
        anchor_offset = timedelta(0) if rung.anchor == "start" else TARGET_HOURS * HOUR
        received = fell_at - rung.offset - anchor_offset - repeats * (rung.repeat or timedelta(0))
        due = received + TARGET_HOURS * HOUR
        count, next_at = handled_by(self.ladder, received, due, NOW)
        position = count - 1  # every entry before the one due is handled
        entry = next(e for e in self.ladder.schedule(received, due) if e.position == position)
        assert entry.rung.name == name and entry.at == fell_at and next_at - NOW > MARGIN, (name, entry)
        complaint, types, shares = self._complaint(cid, received, assigned=name != "unassigned", status="open")
        deadline = self._deadline(complaint, stopped_at=None, position=position, next_rung_at=entry.at)
        step = self.ladder.step(position, received, due, NOW)
        assert step.fire == entry and not step.skipped, (name, step)
        return complaint, types, shares, deadline

    def stranded(self, cid: int):
        """Received about 60 h ago and never ticked since intake: unassigned, reminder, warning and breach due."""
        rng = self.rng
        received = NOW - timedelta(hours=60) + timedelta(minutes=rng.uniform(-30, 30))
        due = received + TARGET_HOURS * HOUR
        complaint, types, shares = self._complaint(cid, received, assigned=rng.random() < 0.5, status="open")
        deadline = self._deadline(complaint, stopped_at=None, position=1,
                                  next_rung_at=self.ladder.time_of(1, received, due))
        return complaint, types, shares, deadline


def load(engine, rows_of, ids: range, chunk: int, label: str) -> None:
    """Insert the rows made by rows_of(id) for every id, `chunk` complaints per batch and transaction."""
    tables = (Complaint.__table__, ComplaintRetaliation.__table__, ComplaintShare.__table__, Deadline.__table__)
    started = time.perf_counter()
    done = 0
    report_every = max(chunk, 100_000)
    with engine.connect() as conn:
        for first in range(ids.start, ids.stop, chunk):
            batch = [[], [], [], []]
            for cid in range(first, min(first + chunk, ids.stop)):
                for rows, made in zip(batch, rows_of(cid)):
                    if isinstance(made, list):
                        rows.extend(made)
                    else:
                        rows.append(made)
            with conn.begin():
                for table, rows in zip(tables, batch):
                    if rows:
                        conn.execute(table.insert(), rows)
            done += len(batch[0])
            if done % report_every < chunk or first + chunk >= ids.stop:
                elapsed = time.perf_counter() - started
                say(f"  {label}: {done:,}/{len(ids):,} complaints loaded, {elapsed:.1f} s "
                    f"({done / max(elapsed, 1e-9):,.0f}/s)")


def after_load(engine) -> None:
    """PostgreSQL: move the sequences past the explicit ids and gather statistics, as autovacuum would."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        for table in ("complaints", "deadlines"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT coalesce(max(id), 1) FROM {table}))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


# ---------------------------------------------------------------- timing

def due_query_plan(engine, batch_size: int) -> str:
    """How the database finds the due clocks (the tick's select)."""
    where = ("stopped_at IS NULL AND next_rung_at IS NOT NULL AND next_rung_at <= :now "
             "ORDER BY next_rung_at LIMIT :limit")
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.execute(text(f"EXPLAIN SELECT * FROM deadlines WHERE {where} FOR UPDATE SKIP LOCKED"),
                                {"now": NOW, "limit": batch_size}).scalars()
            return " | ".join(r.strip() for r in rows)
        rows = conn.execute(text(f"EXPLAIN QUERY PLAN SELECT * FROM deadlines WHERE {where}"),
                            {"now": NOW.replace(tzinfo=None), "limit": batch_size}).all()
        return " | ".join(r[-1] for r in rows)


def count_due(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Deadline).where(
            Deadline.stopped_at.is_(None), Deadline.next_rung_at.is_not(None), Deadline.next_rung_at <= NOW)).scalar()


def rearm(engine, arms: list[dict]) -> None:
    """Put the clocks back where they were before a tick, and remove what the tick wrote."""
    ids = [a["b_id"] for a in arms]
    with engine.begin() as conn:
        conn.execute(update(Deadline).where(Deadline.id == bindparam("b_id"))
                     .values(position=bindparam("b_position"), next_rung_at=bindparam("b_next_rung_at")), arms)
        for first in range(0, len(ids), 1000):
            part = ids[first:first + 1000]
            conn.execute(delete(Notice).where(Notice.deadline_id.in_(part)))
            conn.execute(delete(EscalationStep).where(EscalationStep.deadline_id.in_(part)))


def time_ticks(app, engine, arms: list[dict], repeats: int, warmup: int,
               label: str) -> tuple[float, float, dict, list[float]]:
    """Median wall and CPU seconds of `repeats` ticks at NOW over the same due clocks (after `warmup`
    uncounted ones), the counts of the last one and every wall time. The CPU time is this process's
    only (on SQLite, nearly all the work; on PostgreSQL the server's share is missing): it shows what
    other load on the machine costs."""
    times, cpus, counts = [], [], {}
    for n in range(-warmup, repeats):
        rearm(engine, arms)
        due = count_due(engine)
        if due != len(arms):
            raise SystemExit(f"expected {len(arms)} clocks due before the tick, found {due}")
        session = db.new_session(app)
        started, cpu_started = time.perf_counter(), time.process_time()
        counts = tick(session, NOW)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        session.close()
        if counts["deadlines"] != len(arms):
            raise SystemExit(f"the tick advanced {counts['deadlines']} clocks, expected {len(arms)}")
        if n < 0:
            say(f"  {label}: warm-up tick (not counted): {elapsed:.3f} s  {counts}")
            continue
        times.append(elapsed)
        cpus.append(cpu)
        say(f"  {label}: tick {n + 1}/{repeats}: {elapsed:.3f} s (this process's CPU: {cpu:.3f} s)  {counts}")
    return statistics.median(times), statistics.median(cpus), counts, times


# ---------------------------------------------------------------- main

def main(argv=None) -> int:
    args = parse_args(argv)
    url, tmp = prepare_database(args)
    say(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"(other work on the machine inflates wall times)")
    started = time.perf_counter()
    upgrade(url)
    say(f"migrated in {time.perf_counter() - started:.1f} s")

    clock.freeze(NOW)
    app = create_app({"DATABASE_URL": url})
    figures: dict = {}
    with app.app_context():
        engine = db.engine_for(app)
        dialect = engine.dialect.name
        loader = loader_engine(url)
        batch_size = app.config["ESCALATION_BATCH_SIZE"]
        people = People(app)
        history = History(ladder_for(CLOCK_KIND), people, args.seed)

        # Phase 1: the same `--due` clocks due, within a history that grows.
        first = args.sizes[0]
        spacing = first // args.due
        due_ids = {1 + n * spacing: n for n in range(args.due)}

        def history_rows(cid):
            return history.due(cid, due_ids[cid]) if cid in due_ids else history.past(cid)

        arms: list[dict] = []
        loaded = 0
        tick_seconds: dict[str, float] = {}
        tick_runs: dict[str, list[float]] = {}
        medians: list[float] = []
        tick_cpu: dict[str, float] = {}
        due_counts: dict = {}
        for size in args.sizes:
            say(f"phase 1: filling the history to {size:,} complaints ({dialect})")
            started = time.perf_counter()
            load(loader, history_rows, range(loaded + 1, size + 1), args.chunk, f"history to {size:,}")
            loaded = size
            after_load(loader)
            say(f"  loaded in {time.perf_counter() - started:.1f} s")
            if not arms:
                with loader.connect() as conn:
                    arms = [{"b_id": r.id, "b_position": r.position, "b_next_rung_at": r.next_rung_at}
                            for r in conn.execute(select(Deadline.id, Deadline.position, Deadline.next_rung_at)
                                                  .where(Deadline.id.in_(list(due_ids))).order_by(Deadline.id))]
            with loader.connect() as conn:
                running = conn.execute(select(func.count()).select_from(Deadline)
                                       .where(Deadline.stopped_at.is_(None))).scalar()
            say(f"  {running:,} clocks running, {size - running:,} stopped; due query: "
                f"{due_query_plan(loader, batch_size)}")
            median, cpu, due_counts, runs = time_ticks(app, loader, arms, args.repeats, args.warmup,
                                                       f"{size:,} complaints")
            medians.append(median)
            tick_seconds[str(size)] = round(median, 4)
            tick_runs[str(size)] = [round(t, 4) for t in runs]
            tick_cpu[str(size)] = round(cpu, 4)
            say(f"  median tick with {args.due} due among {size:,} complaints: {median:.3f} s")
        ratio = medians[-1] / medians[0]
        say(f"phase 1: ratio largest/smallest = {ratio:.2f} (goal: at most 1.5)")
        figures.update({
            "database": dialect, "sizes": args.sizes, "tick_seconds": tick_seconds, "tick_runs": tick_runs,
            "tick_cpu_seconds": tick_cpu,
            "ratio": round(ratio, 3), "ratio_goal_met": ratio <= 1.5, "due_per_tick": args.due,
            "notices_per_tick": due_counts.get("notices"), "repeats": args.repeats, "warmup": args.warmup,
        })

        # Phase 2: a scheduler back from an outage.
        if args.outage:
            say(f"phase 2: {args.outage:,} running complaints received 60 h ago, never ticked since intake")
            ids = range(loaded + 1, loaded + args.outage + 1)
            load(loader, history.stranded, ids, args.chunk, "outage")
            after_load(loader)
            with loader.connect() as conn:
                outage_arms = [{"b_id": r.id, "b_position": r.position, "b_next_rung_at": r.next_rung_at}
                               for r in conn.execute(select(Deadline.id, Deadline.position, Deadline.next_rung_at)
                                                     .where(Deadline.id >= ids.start).order_by(Deadline.id))]
            median, cpu, counts, runs = time_ticks(app, loader, outage_arms, args.repeats, 0,
                                                   f"outage over {loaded:,} complaints")
            say(f"phase 2: median tick over {args.outage:,} stranded clocks: {median:.3f} s (goal: under 10 s); "
                f"{counts['fired']:,} rungs fired, {counts['skipped']:,} skipped, {counts['notices']:,} notices")
            figures.update({
                "outage_rungs_due": args.outage, "outage_entries_due": counts["fired"] + counts["skipped"],
                "outage_history": loaded,
                "outage_tick_seconds": round(median, 4), "outage_tick_cpu_seconds": round(cpu, 4),
                "outage_tick_runs": [round(t, 4) for t in runs],
                "outage_goal_met": median < 10, "outage_fired": counts["fired"],
                "outage_notices": counts["notices"], "outage_skipped": counts["skipped"],
            })
        loader.dispose()
        engine.dispose()
    clock.unfreeze()
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    if tmp is not None:
        tmp.cleanup()
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
