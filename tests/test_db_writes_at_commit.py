"""db.write_at_commit: writes whose results nothing reads wait for the commit and,
on PostgreSQL, travel together in one round trip (psycopg's pipeline mode)."""
from datetime import date

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import IntegrityError

from coenforce import clock
from coenforce.db import db, insert_loaded, write_at_commit
from coenforce.escalation.models import Holiday

from tests.conftest import BACKEND, db_read

ADD_HOLIDAY = insert(Holiday).inline()


def _holiday(org, day: int, name: str) -> dict:
    return {"organization_id": org.id, "date": date(2026, 12, day), "name": name, "created_at": clock.now()}


def _names(org) -> list[str]:
    with db_read() as s:
        return list(s.scalars(select(Holiday.name).where(Holiday.organization_id == org.id).order_by(Holiday.id)))


def test_writes_wait_for_the_commit_then_go_in_after_the_others_in_the_order_given(app, session, world):
    write_at_commit(session, ADD_HOLIDAY, _holiday(world.agency, 24, "queued first"))
    write_at_commit(session, ADD_HOLIDAY, [_holiday(world.agency, 26, "queued second")])
    session.execute(insert(Holiday), _holiday(world.agency, 25, "written now"))

    # Not yet sent: the transaction's own queries do not see them.
    assert session.scalar(select(func.count()).select_from(Holiday).where(
        Holiday.organization_id == world.agency.id)) == 1
    session.commit()

    assert _names(world.agency) == ["written now", "queued first", "queued second"]


def test_a_rollback_or_a_closed_session_drops_what_was_queued(app, world):
    session = db.new_session(app)
    write_at_commit(session, ADD_HOLIDAY, _holiday(world.agency, 24, "rolled back"))
    session.rollback()
    session.commit()
    write_at_commit(session, ADD_HOLIDAY, _holiday(world.agency, 25, "closed"))
    session.close()
    session.commit()

    assert _names(world.agency) == []


def test_a_queued_write_that_fails_fails_the_commit_and_nothing_of_the_transaction_stays(app, session, world):
    session.execute(insert(Holiday), _holiday(world.agency, 24, "Christmas Eve"))
    session.commit()

    session.execute(insert(Holiday), _holiday(world.agency, 31, "New Year's Eve"))
    write_at_commit(session, ADD_HOLIDAY, _holiday(world.agency, 24, "the same day again"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()

    assert _names(world.agency) == ["Christmas Eve"]
    session.execute(insert(Holiday), _holiday(world.agency, 31, "New Year's Eve"))  # the session goes on
    session.commit()
    assert _names(world.agency) == ["Christmas Eve", "New Year's Eve"]


def test_rows_whose_key_the_database_makes_cannot_wait_for_the_commit(app, session, world):
    with pytest.raises(ValueError, match="cannot wait for the commit"):
        insert_loaded(session, Holiday, [_holiday(world.agency, 24, "no id yet")], at_commit=True)
    assert not session.info.get("coenforce.writes_at_commit")


@pytest.mark.skipif(BACKEND != "postgresql", reason="pipeline mode is PostgreSQL's")
def test_on_postgresql_the_queued_writes_are_sent_in_one_pipeline(app, session, world):
    from psycopg.pq import PipelineStatus

    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO holidays"):
            sent.append(cursor.connection.pgconn.pipeline_status)
    engine = db.engine_for(app)
    event.listen(engine, "before_cursor_execute", record)
    try:
        session.execute(insert(Holiday), _holiday(world.agency, 23, "written now"))
        write_at_commit(session, ADD_HOLIDAY, _holiday(world.agency, 24, "queued first"))
        write_at_commit(session, ADD_HOLIDAY, _holiday(world.agency, 25, "queued second"))
        session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert sent == [PipelineStatus.OFF, PipelineStatus.ON, PipelineStatus.ON]
    assert _names(world.agency) == ["written now", "queued first", "queued second"]


def test_a_write_cannot_wait_for_the_commit_inside_a_savepoint(app, session, world):
    with session.begin_nested():
        with pytest.raises(RuntimeError, match="savepoint"):
            write_at_commit(session, ADD_HOLIDAY, _holiday(world.agency, 24, "in a savepoint"))
    session.commit()
    assert _names(world.agency) == []
