"""The UTC column type and db.as_dicts, on the test's database (SQLite or PostgreSQL)."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from coenforce.db import as_dicts
from coenforce.escalation import Deadline

from tests.conftest import BACKEND


def test_times_come_back_aware_in_utc_whatever_zone_they_were_given_in(app, session, world, make_complaint):
    complaint = make_complaint(world.investigator)
    deadline = session.get(Deadline, complaint.deadline.id)
    in_new_york = datetime(2026, 3, 8, 1, 59, 59, 123456, tzinfo=timezone(timedelta(hours=-5)))
    deadline.due_at = in_new_york
    session.commit()

    due_at = session.execute(select(Deadline.due_at).where(Deadline.id == deadline.id)).scalar_one()
    assert due_at == in_new_york
    assert due_at.tzinfo is timezone.utc
    assert due_at == datetime(2026, 3, 8, 6, 59, 59, 123456, tzinfo=timezone.utc)


def test_a_naive_time_is_refused_before_it_reaches_the_database(app, session, world, make_complaint):
    deadline = session.get(Deadline, make_complaint(world.investigator).deadline.id)
    deadline.due_at = datetime(2026, 3, 8, 12, 0)
    with pytest.raises(Exception, match="naive datetime"):
        session.commit()
    session.rollback()


@pytest.mark.skipif(BACKEND == "postgresql", reason="SQLite keeps times as text")
@pytest.mark.parametrize("stored, expected", [
    ("2026-12-04 18:00:00", datetime(2026, 12, 4, 18, 0, tzinfo=timezone.utc)),
    ("2026-12-04 18:00:00.000250", datetime(2026, 12, 4, 18, 0, 0, 250, tzinfo=timezone.utc)),
    # Text with an offset (written by hand, not by the app) is read in its own zone.
    ("2026-12-04 18:00:00+02:00", datetime(2026, 12, 4, 16, 0, tzinfo=timezone.utc)),
    ("2026-12-04T18:00:00+00:00", datetime(2026, 12, 4, 18, 0, tzinfo=timezone.utc)),
])
def test_sqlite_text_of_every_form_reads_as_the_same_utc_time(app, session, world, make_complaint, stored, expected):
    deadline_id = make_complaint(world.investigator).deadline.id
    session.execute(text("UPDATE deadlines SET due_at = :stored WHERE id = :id"), {"stored": stored, "id": deadline_id})
    session.commit()
    due_at = session.execute(select(Deadline.due_at).where(Deadline.id == deadline_id)).scalar_one()
    assert due_at == expected and due_at.tzinfo is timezone.utc


def test_as_dicts_gives_each_row_by_its_labels_with_the_types_applied(app, session, world, make_complaint):
    first, second = make_complaint(world.investigator), make_complaint(world.investigator)
    rows = as_dicts(session.execute(
        select(Deadline.subject_id.label("complaint"), Deadline.due_at, Deadline.stopped_at)
        .where(Deadline.subject_id.in_([first.id, second.id])).order_by(Deadline.subject_id)))
    assert [row["complaint"] for row in rows] == [first.id, second.id]
    assert all(list(row) == ["complaint", "due_at", "stopped_at"] for row in rows)
    assert rows[0]["due_at"] == first.deadline.due_at and rows[0]["due_at"].tzinfo is timezone.utc
    assert rows[0]["stopped_at"] is None
    assert as_dicts(session.execute(select(Deadline.id).where(Deadline.id < 0))) == []
