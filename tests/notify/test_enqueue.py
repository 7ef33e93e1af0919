"""Putting notices in the outbox: one message to several people in one statement."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from coenforce import notify
from coenforce.db import db
from coenforce.notify.models import Notice
from tests.conftest import BACKEND


def message(world, prefix: str, people: list, rung: str = "breach") -> dict:
    return dict(organization_id=world.agency.id, deadline_id=None, subject_type="complaint", subject_id=7,
                kind=f"complaint_response.{rung}", recipient_ids=[p.id for p in people], dedupe_prefix=prefix,
                context={"reference": "RC-000007", "path": "/complaints/7", "rung": rung})


def test_each_recipient_gets_one_notice_and_the_counts_are_per_message(session, world):
    first = message(world, "test:1:to:", [world.supervisor, world.admin])
    second = message(world, "test:2:to:", [world.investigator], rung="reminder")
    assert notify.enqueue_to_each(session, [first, second]) == [2, 1]
    rows = session.execute(select(Notice.dedupe_key, Notice.recipient_id, Notice.kind, Notice.status,
                                  Notice.context).order_by(Notice.id)).all()
    assert [tuple(r[:4]) for r in rows] == [
        (f"test:1:to:{world.supervisor.id}", world.supervisor.id, "complaint_response.breach", "pending"),
        (f"test:1:to:{world.admin.id}", world.admin.id, "complaint_response.breach", "pending"),
        (f"test:2:to:{world.investigator.id}", world.investigator.id, "complaint_response.reminder", "pending")]
    assert rows[0].context == first["context"]


def test_keys_that_exist_already_are_skipped_and_not_counted(session, world):
    assert notify.enqueue_to_each(session, [message(world, "test:1:to:", [world.supervisor])]) == [1]
    again = [message(world, "test:1:to:", [world.supervisor, world.admin]), message(world, "test:2:to:", [])]
    assert notify.enqueue_to_each(session, again) == [1, 0]
    assert notify.enqueue_to_each(session, again) == [0, 0]
    keys = session.scalars(select(Notice.dedupe_key).order_by(Notice.id)).all()
    assert keys == [f"test:1:to:{world.supervisor.id}", f"test:1:to:{world.admin.id}"]


def test_a_kind_without_wording_is_refused(session, world):
    with pytest.raises(KeyError, match="complaint_response.nope"):
        notify.enqueue_to_each(session, [message(world, "test:1:to:", [world.supervisor], rung="nope")])


@pytest.mark.skipif(BACKEND != "postgresql", reason="LISTEN/NOTIFY is PostgreSQL's")
def test_queuing_wakes_listening_dispatchers_at_commit_when_a_notice_goes_in(app, session, world):
    # The insert itself sends the NOTIFY (no statement of its own): at commit, and
    # only when some notice went in.
    import psycopg

    from coenforce.notify.dispatcher import CHANNEL

    url = db.engine_for(app).url.set(drivername="postgresql", query={})
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")

        def woken() -> int:
            return len(list(listener.notifies(timeout=0.5, stop_after=1)))

        first = message(world, "test:1:to:", [world.supervisor])
        assert notify.enqueue_to_each(session, [first]) == [1]
        assert woken() == 0  # not before commit
        session.commit()
        assert woken() == 1
        assert notify.enqueue_to_each(session, [first]) == [0]
        session.commit()
        assert woken() == 0  # nothing went in
        single = dict(first, recipient_id=world.admin.id, dedupe_key=f"test:1:to:{world.admin.id}")
        del single["recipient_ids"], single["dedupe_prefix"]
        assert notify.enqueue_many(session, [single]) == {single["dedupe_key"]}
        session.commit()
        assert woken() == 1
