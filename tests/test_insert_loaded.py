"""db.insert_loaded: rows written by one INSERT come back as objects of the
session, loaded with exactly what the database holds, and no query reads them."""
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, inspect, select
from sqlalchemy.exc import IntegrityError

from coenforce import clock
from coenforce.complaints.models import Complaint, ComplaintRetaliation
from coenforce.db import db, insert_loaded
from coenforce.escalation import Deadline

from tests.conftest import db_read, db_write


@contextmanager
def sent(app):
    statements = []

    def seen(conn, cursor, statement, *_):
        verb = statement.lstrip().split()[0].upper()
        if verb != "BEGIN":  # SQLite's BEGIN IMMEDIATE goes through the engine too
            statements.append(verb)
    engine = db.engine_for(app)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def clock_row(org_id: int, subject_id: int) -> dict:
    now = clock.now()
    # `position` and `stopped_at` are left out: the column's default and NULL.
    return dict(organization_id=org_id, subject_type="complaint", subject_id=subject_id, kind="complaint_response",
                reference=f"RC-{subject_id:06d}", path=f"/complaints/{subject_id}", starts_at=now,
                due_at=now + timedelta(hours=48), next_rung_at=None, created_at=now)


def test_rows_with_generated_keys_come_back_persistent_and_loaded(app, world):
    with db_write() as s, sent(app) as statements:
        made = insert_loaded(s, Deadline, [clock_row(world.agency.id, 900_001), clock_row(world.agency.id, 900_002)])
        # One statement on PostgreSQL; SQLite may write row by row to return keys in order.
        assert set(statements) == {"INSERT"}
        assert [d.subject_id for d in made] == [900_001, 900_002], "in the order given"
        assert all(inspect(d).persistent and d in s for d in made)
        assert made[0].id != made[1].id
        seen = [(d.id, d.position, d.stopped_at, d.due_at, d.subject_type) for d in made]
        assert set(statements) == {"INSERT"}, "reading every column sends nothing"
        assert s.get(Deadline, made[0].id) is made[0], "the identity map holds them"
        written = {d.id: d for d in made}
    with db_read() as s:
        stored = s.scalars(select(Deadline).where(Deadline.id.in_(written))).all()
        assert sorted((d.id, d.position, d.stopped_at, d.due_at, d.subject_type) for d in stored) == sorted(seen)
        assert {d.position for d in stored} == {0}


def test_rows_with_their_keys_given_need_no_returning(app, world, make_complaint):
    complaint = make_complaint(world.investigator)
    with db_write() as s, sent(app) as statements:
        [added] = insert_loaded(s, ComplaintRetaliation, [dict(complaint_id=complaint.id, type="blacklisting")])
        assert statements == ["INSERT"]
        assert inspect(added).persistent and (added.complaint_id, added.type) == (complaint.id, "blacklisting")
    with db_read() as s:
        types = s.scalars(select(ComplaintRetaliation.type).where(
            ComplaintRetaliation.complaint_id == complaint.id)).all()
        assert "blacklisting" in types


def test_no_rows_send_nothing(app):
    with db_write() as s, sent(app) as statements:
        assert insert_loaded(s, Deadline, []) == []
    assert "INSERT" not in statements


def test_a_refused_row_raises_and_leaves_nothing(app, world, make_complaint):
    complaint = make_complaint(world.investigator)
    with db_read() as s:
        before = s.scalar(select(func.count()).select_from(ComplaintRetaliation))
    s = db.new_session(app)
    try:
        with pytest.raises(IntegrityError):
            # The complaint has this type already: the primary key refuses it.
            insert_loaded(s, ComplaintRetaliation, [
                dict(complaint_id=complaint.id, type="other"),
                dict(complaint_id=complaint.id, type=complaint.retaliation[0].type)])
        s.rollback()
    finally:
        s.close()
    with db_read() as s:
        assert s.scalar(select(func.count()).select_from(ComplaintRetaliation)) == before
        assert s.get(Complaint, complaint.id) is not None
