"""The escalation engine against a real database: rungs at their time, the
recipients of each rung, catch-up, idempotent and concurrent ticks."""
import dataclasses
import threading
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from coenforce import escalation
from coenforce.escalation import service as escalation_service
from coenforce.complaints import service as complaints
from coenforce.complaints.models import Complaint
from coenforce.complaints.schemas import ActionIn, AssignIn
from coenforce.db import db
from coenforce.escalation.models import Deadline, EscalationStep
from coenforce.notify.models import Notice
from coenforce.partners.models import User

from config import COMPLAINT_RESPONSE_LADDER, Config
from tests.conftest import BACKEND, START, db_read, db_write


def clock_of(complaint):
    """The complaint's response clock as stored now."""
    with db_read() as s:
        return escalation.deadline_for(s, "complaint", complaint.id, "complaint_response")


def notices(**where):
    query = select(Notice).order_by(Notice.id)
    for key, value in where.items():
        query = query.where(getattr(Notice, key) == value)
    with db_read() as s:
        return s.scalars(query).all()


def recipients(kind):
    with db_read() as s:
        return sorted(n.recipient.email for n in s.scalars(select(Notice).where(Notice.kind == kind)))


def as_request(service, user, complaint, data):
    """Call a complaint service as a request would: in a session of its own, on the rows as stored now."""
    with db_write() as s:
        service(s, s.get(User, user.id), s.get(Complaint, complaint.id), data)


def tick_at(app, at):
    session = db.new_session(app)
    try:
        return escalation.tick(session, at)
    finally:
        session.close()


def test_clock_across_dst_is_48_real_hours(world, make_complaint, frozen, session):
    """Received 2026-03-07 10:00 in Los Angeles (PST) is due 2026-03-09 11:00 PDT, 18:00 UTC."""
    frozen.set(datetime(2026, 3, 7, 20, 0, tzinfo=timezone.utc))
    received = datetime.fromisoformat("2026-03-07T10:00:00-08:00")
    complaint = make_complaint(world.investigator, received_at=received)
    deadline = clock_of(complaint)
    assert deadline.due_at == datetime(2026, 3, 9, 18, 0, tzinfo=timezone.utc)
    from coenforce.i18n import local_time
    shown = local_time(deadline.due_at, world.agency.timezone, "en", "short")
    assert shown.startswith("3/9/26, 11:00") and shown.endswith("PDT")


def test_intake_notifies_supervisors_at_once(world, make_complaint, session):
    """The intake rung fires in the same transaction as the complaint."""
    make_complaint(world.investigator)
    assert recipients("complaint_response.intake") == [world.supervisor.email]


@pytest.mark.app_config(ESCALATION_LADDERS={
    "complaint_response": [{"name": "intake", "at": "start", "to": ["supervisors", "partner_liaisons"]},
                           *COMPLAINT_RESPONSE_LADDER[1:]],
    **{kind: ladder for kind, ladder in Config.ESCALATION_LADDERS.items() if kind != "complaint_response"}})
def test_intake_reaches_the_partners_a_new_complaint_is_shared_with(world, make_complaint, session):
    # The new complaint is read from the session that filed it, shares included.
    make_complaint(world.investigator, shared_with=[world.partner.id])
    assert recipients("complaint_response.intake") == sorted([world.supervisor.email, world.liaison.email])
    make_complaint(world.other_investigator)
    assert recipients("complaint_response.intake") == sorted(
        [world.supervisor.email, world.liaison.email, world.other_supervisor.email])


def test_each_rung_at_its_time_and_not_a_minute_before(app, world, make_complaint, session, frozen):
    complaint = make_complaint(world.investigator, shared_with=[world.partner.id])
    minute = timedelta(minutes=1)
    expected = [
        (4, "unassigned", [world.supervisor.email]),
        (24, "reminder", [world.supervisor.email]),  # nobody assigned: supervisors instead
        (40, "warning", [world.investigator.email, world.supervisor.email]),
        (48, "breach", sorted([world.investigator.email, world.supervisor.email, world.admin.email,
                               world.liaison.email])),
        (72, "overdue", [world.supervisor.email]),
    ]
    for hours, rung, people in expected:
        if rung == "warning":
            as_request(complaints.assign, world.supervisor, complaint, AssignIn(assignee_id=world.investigator.id))
        before = tick_at(app, START + timedelta(hours=hours) - minute)
        assert before["fired"] == 0, f"{rung} fired a minute early"
        at = tick_at(app, START + timedelta(hours=hours))
        assert at["fired"] == 1 and at["skipped"] == 0
        assert recipients(f"complaint_response.{rung}") == sorted(people), rung
    # Every 24 h after the breach another overdue notice, until the clock stops.
    tick_at(app, START + timedelta(hours=96))
    assert len(notices(kind="complaint_response.overdue")) == 2


def test_unassigned_rung_is_silent_once_assigned(app, world, make_complaint, session):
    complaint = make_complaint(world.investigator)
    complaints.assign(session, world.supervisor, complaint, AssignIn(assignee_id=world.investigator.id))
    session.commit()
    counts = tick_at(app, START + timedelta(hours=4))
    assert counts["fired"] == 1 and counts["notices"] == 0
    assert notices(kind="complaint_response.unassigned") == []


def test_catch_up_after_an_outage_fires_only_the_newest(app, world, make_complaint, session):
    complaint = make_complaint(world.investigator)
    counts = tick_at(app, START + timedelta(hours=50))
    assert counts == {"deadlines": 1, "fired": 1, "skipped": 3, "notices": 2, "held": 0}
    kinds = Counter(n.kind for n in notices())
    assert kinds == {"complaint_response.intake": 1, "complaint_response.breach": 2}
    deadline = clock_of(complaint)
    with db_read() as s:
        steps = s.scalars(select(EscalationStep).where(EscalationStep.deadline_id == deadline.id)
                          .order_by(EscalationStep.position)).all()
    # One row per tick: the breach that fired carries the entries it passed over.
    assert [(s.position, s.rung, s.notices, s.handled_at) for s in steps] == [
        (0, "intake", 1, START), (4, "breach", 2, START + timedelta(hours=50))]
    assert steps[0].skipped is None
    assert steps[1].skipped == [
        {"position": 1, "rung": "unassigned", "scheduled_at": "2026-03-02T21:00:00Z"},
        {"position": 2, "rung": "reminder", "scheduled_at": "2026-03-03T17:00:00Z"},
        {"position": 3, "rung": "warning", "scheduled_at": "2026-03-04T09:00:00Z"}]


def test_ticking_twice_at_the_same_instant_creates_nothing_new(app, world, make_complaint, session):
    make_complaint(world.investigator)
    at = START + timedelta(hours=48)
    first = tick_at(app, at)
    total = len(notices())
    second = tick_at(app, at)
    assert first["fired"] == 1
    assert second == {"deadlines": 0, "fired": 0, "skipped": 0, "notices": 0, "held": 0}
    assert len(notices()) == total


def test_a_qualifying_action_stops_the_clock_and_cancels_pending_notices(app, world, make_complaint, session):
    complaint = make_complaint(world.investigator)
    tick_at(app, START + timedelta(hours=24))
    as_request(complaints.record_action, world.investigator, complaint, ActionIn(type="worker_interviewed"))
    assert clock_of(complaint).stopped_at is None, "an interview is not a response"
    as_request(complaints.record_action, world.investigator, complaint, ActionIn(type="site_visit"))
    deadline = clock_of(complaint)
    assert deadline.stopped_at == START and deadline.next_rung_at is None
    assert {n.status for n in notices()} == {"cancelled"}
    assert tick_at(app, START + timedelta(hours=100))["fired"] == 0


def test_a_late_entered_earlier_response_moves_the_stop_back(app, world, make_complaint, session, frozen):
    complaint = make_complaint(world.investigator)
    frozen.advance(hours=50)
    complaints.record_action(session, world.investigator, complaint, ActionIn(type="employer_contacted"))
    session.commit()
    assert clock_of(complaint).reading()["state"] == "breached"
    complaints.record_action(session, world.investigator, complaint, ActionIn(
        type="anti_retaliation_notice", taken_at=START + timedelta(hours=30)))
    session.commit()
    deadline = clock_of(complaint)
    assert deadline.stopped_at == START + timedelta(hours=30)
    assert deadline.reading()["state"] == "met"


def test_target_hours_come_from_the_agency(world, make_org, make_user, make_complaint, session):
    fast = make_org("agency", name="Fast Agency", response_target_hours=24)
    investigator = make_user(fast, "investigator")
    complaint = make_complaint(investigator)
    assert clock_of(complaint).due_at == START + timedelta(hours=24)


def test_parallel_ticks_create_no_duplicate(app, world, make_complaint, session):
    """Two ticks on two connections at the same instant: each rung fires once."""
    for n in range(40):
        make_complaint(world.investigator, employer_name=f"Employer {n}", shared_with=[world.partner.id])
    at = START + timedelta(hours=48)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            with app.app_context():
                barrier.wait()
                results.append(tick_at(app, at))
        except Exception as exc:  # reported below: a thread's exception must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sum(r["fired"] for r in results) == 40
    breach = notices(kind="complaint_response.breach")
    assert len(breach) == 40 * 3  # supervisor, admin, liaison; nobody assigned
    keys = [n.dedupe_key for n in breach]
    assert len(keys) == len(set(keys))
    with db_read() as s:
        positions = s.scalars(select(Deadline.position)).all()
    assert set(positions) == {5}, "every deadline advanced exactly once"


@pytest.mark.postgresql_only
def test_parallel_ticks_skip_rows_locked_by_the_other(app, world, make_complaint, session):
    """On PostgreSQL a tick holding rows makes the other skip them instead of waiting."""
    for n in range(5):
        make_complaint(world.investigator, employer_name=f"Employer {n}")
    at = START + timedelta(hours=48)
    holder = db.new_session(app)
    locked = holder.scalars(select(Deadline).where(Deadline.next_rung_at <= at)
                            .with_for_update(skip_locked=True).limit(2)).all()
    assert len(locked) == 2
    counts = tick_at(app, at)
    assert counts["fired"] == 3
    holder.rollback()
    holder.close()
    assert tick_at(app, at)["fired"] == 2


@contextmanager
def helper_joins_in(app, fail: bool = False):
    """Around a tick: the first batch's recipients wait until a helper thread has
    taken a batch of its own (so the helper's share never depends on timing; a
    bounded wait, as only PostgreSQL starts helpers), then every call goes on to
    the real recipients, or a helper's fails if `fail`. Yields the event set
    once a helper took a batch."""
    kinds = escalation_service._registry(app).kinds
    kind = kinds["complaint_response"]
    helped = threading.Event()

    def recipients(s, items):
        if threading.current_thread().name.startswith("tick-helper"):
            helped.set()
            if fail:
                raise RuntimeError("the helper's recipients failed")
        elif BACKEND == "postgresql":
            assert helped.wait(30), "no helper took a batch"
        return kind.recipients(s, items)

    kinds["complaint_response"] = dataclasses.replace(kind, recipients=recipients)
    try:
        yield helped
    finally:
        kinds["complaint_response"] = kind


@pytest.mark.app_config(ESCALATION_BATCH_SIZE=3, ESCALATION_TICK_WORKERS=2)
def test_a_backlog_is_shared_with_a_helper_on_postgresql_and_each_rung_fires_once(app, world, make_complaint,
                                                                                     session):
    """More due than one batch: on PostgreSQL a helper thread takes batches of its own
    (SKIP LOCKED); on SQLite one worker does all. Either way each rung fires once."""
    for n in range(20):
        make_complaint(world.investigator, employer_name=f"Employer {n}")
    with helper_joins_in(app) as helped:
        counts = tick_at(app, START + timedelta(hours=50))
    assert counts == {"deadlines": 20, "fired": 20, "skipped": 60, "notices": 40, "held": 0}
    assert helped.is_set() == (BACKEND == "postgresql")
    breach = notices(kind="complaint_response.breach")
    assert len(breach) == 40 and len({n.dedupe_key for n in breach}) == 40
    with db_read() as s:
        assert set(s.scalars(select(Deadline.position))) == {5}
        assert len(s.scalars(select(EscalationStep).where(EscalationStep.rung == "breach")).all()) == 20
    assert tick_at(app, START + timedelta(hours=50))["deadlines"] == 0


def breach_state():
    """The deadlines moved to the breach rung, those with its step, and the breach notices of each."""
    with db_read() as s:
        moved = set(s.scalars(select(Deadline.id).where(Deadline.position == 5)))
        stepped = set(s.scalars(select(EscalationStep.deadline_id).where(EscalationStep.rung == "breach")))
        notified = Counter(s.scalars(select(Notice.deadline_id).where(Notice.kind == "complaint_response.breach")))
    return moved, stepped, notified


@pytest.mark.postgresql_only
@pytest.mark.app_config(ESCALATION_BATCH_SIZE=3, ESCALATION_TICK_WORKERS=2)
def test_a_failing_helper_leaves_its_deadlines_to_the_other_worker_or_held(app, world, make_complaint, session):
    """A helper's error rolls its batch back whole and does not fail the tick: each
    of its deadlines is then taken by the main worker (which SKIP LOCKED lets in
    once the batch is released) or, failing again in the helper, held for a
    minute. A tick after the hold does what was left, each rung still once."""
    for n in range(20):
        make_complaint(world.investigator, employer_name=f"Employer {n}")
    at = START + timedelta(hours=50)
    with helper_joins_in(app, fail=True):
        counts = tick_at(app, at)
    moved, stepped, notified = breach_state()
    assert counts["fired"] == len(moved) == 20 - counts["held"]
    assert moved == stepped == set(notified) and set(notified.values()) == {2}
    with db_read() as s:
        held = s.scalars(select(Deadline).where(Deadline.position < 5)).all()
    assert len(held) == counts["held"] and all(d.next_rung_at == at + timedelta(minutes=1) for d in held)
    assert tick_at(app, at + timedelta(seconds=59))["deadlines"] == 0
    assert tick_at(app, at + timedelta(minutes=1))["fired"] == counts["held"]
    moved, stepped, notified = breach_state()
    assert len(moved) == 20 and moved == stepped == set(notified) and set(notified.values()) == {2}


@pytest.mark.app_config(ESCALATION_BATCH_SIZE=10, ESCALATION_TICK_WORKERS=1)
def test_a_deadline_its_kind_fails_on_holds_back_no_other(app, world, make_complaint, session, caplog):
    """A clock whose recipients fail (a bug, a record gone wrong) used to fail its
    whole batch at every tick, and the scheduler's wake then retried it every
    quarter second: now its batch is done without it, and it is held and logged."""
    complaints_ = [make_complaint(world.investigator, employer_name=f"Employer {n}") for n in range(5)]
    poison = clock_of(complaints_[2])
    kinds = escalation_service._registry(app).kinds
    kind = kinds["complaint_response"]

    def recipients(s, items):
        if any(deadline.id == poison.id for deadline, _rung in items):
            raise LookupError("no such supervisor")
        return kind.recipients(s, items)

    at = START + timedelta(hours=50)
    kinds["complaint_response"] = dataclasses.replace(kind, recipients=recipients)
    try:
        counts = tick_at(app, at)
        assert counts == {"deadlines": 4, "fired": 4, "skipped": 12, "notices": 8, "held": 1}
        assert f"deadline {poison.id} (complaint_response, position 1) could not be advanced" in caplog.text
        assert "no such supervisor" in caplog.text
        with db_read() as s:
            assert not escalation.anything_due(s, at + timedelta(seconds=30)), "the scheduler's wake sees no due clock"
        assert tick_at(app, at + timedelta(seconds=30))["deadlines"] == 0
        assert tick_at(app, at + timedelta(minutes=1))["held"] == 1, "still failing: held again"
    finally:
        kinds["complaint_response"] = kind
    assert clock_of(complaints_[2]).position == poison.position and not notices(deadline_id=poison.id,
                                                                               kind="complaint_response.breach")
    assert tick_at(app, at + timedelta(minutes=2))["fired"] == 1
    moved, stepped, notified = breach_state()
    assert len(moved) == 5 and moved == stepped == set(notified) and set(notified.values()) == {2}


def test_a_database_error_fails_the_tick_and_holds_nothing(app, world, make_complaint, session):
    """A lost connection or a lock says nothing about the deadlines: the tick
    fails as before (the next one tries again), and no clock is held back."""
    for n in range(3):
        make_complaint(world.investigator, employer_name=f"Employer {n}")
    kinds = escalation_service._registry(app).kinds
    kind = kinds["complaint_response"]

    def recipients(s, items):
        raise OperationalError("SELECT ...", {}, Exception("server closed the connection unexpectedly"))

    at = START + timedelta(hours=50)
    kinds["complaint_response"] = dataclasses.replace(kind, recipients=recipients)
    try:
        with pytest.raises(OperationalError):
            tick_at(app, at)
    finally:
        kinds["complaint_response"] = kind
    with db_read() as s:
        assert escalation.anything_due(s, at), "nothing was held"
    assert tick_at(app, at) == {"deadlines": 3, "fired": 3, "skipped": 9, "notices": 6, "held": 0}
