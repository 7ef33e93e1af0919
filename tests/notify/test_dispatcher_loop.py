"""The dispatcher's pool and the scheduler's sending loop, through the real `sendgrid`
client against the fake SendGrid. The loop runs in a thread; the test waits for the
fake to receive requests (an external event, with a deadline), never for time."""
from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from coenforce.notify.dispatcher import Dispatcher, dispatch
from coenforce.notify.models import NoticeStatus
from tests.conftest import BACKEND, engine_ticks, outbox
from tests.delivery.processes import wait_for



@pytest.fixture
def twelve_notices(app, world, make_user, make_complaint) -> list[int]:
    """Three complaints to four supervisors."""
    for _ in range(3):
        make_user(world.agency, "supervisor")
    for _ in range(3):
        make_complaint(world.investigator)
    ids = [n.id for n in outbox(app)]
    assert len(ids) == 12
    return ids


@pytest.fixture
def running(app):
    """Start a Dispatcher loop in a thread; stopped (and checked stopped) at the end."""
    started = []

    def start(**kwargs) -> Dispatcher:
        dispatcher = Dispatcher(app, **kwargs)
        thread = threading.Thread(target=dispatcher.run, daemon=True)
        thread.start()
        started.append((dispatcher, thread))
        return dispatcher
    yield start
    for dispatcher, thread in started:
        assert dispatcher.stop(timeout=30)
        thread.join(timeout=5)


@pytest.mark.app_config(DISPATCH_SENDERS=4)
def test_a_pass_sends_in_parallel_but_never_more_than_the_pool(session, frozen, fake_sendgrid, twelve_notices):
    """Twelve notices to a provider taking 0.3 s each: four at a time, in about 1 s, not 3.6 s."""
    fake_sendgrid.delay = 0.3
    began = time.monotonic()
    counts = dispatch(session, frozen.at)
    elapsed = time.monotonic() - began

    assert counts["sent"] == 12
    assert fake_sendgrid.max_in_flight == 4
    assert elapsed < 3.0, f"took {elapsed:.2f} s: the sends were not concurrent"
    assert Counter(fake_sendgrid.sent_notice_ids()) == {str(i): 1 for i in twelve_notices}


def test_the_loop_reuses_each_senders_connection(app, frozen, fake_sendgrid, twelve_notices):
    """Two senders, twelve notices: two connections to the provider, each kept alive."""
    dispatcher = Dispatcher(app, senders=2)
    try:
        counts = dispatcher.run_until_idle()
    finally:
        dispatcher.close()
    assert counts["sent"] == 12
    assert fake_sendgrid.connections <= 2 and dispatcher.sender.transport.opened <= 2
    assert Counter(fake_sendgrid.sent_notice_ids()) == {str(i): 1 for i in twelve_notices}


def test_the_loop_sends_a_complaint_filed_through_the_api_at_once(app, frozen, fake_sendgrid, running, api, world):
    """A complaint's intake notice reaches the provider while the loop runs, as
    soon as the tick has fired it: no pass of the dispatcher needs to be started."""
    running()
    response = api(world.investigator).post("/complaints", json={
        "employer_name": "Acme Packing", "retaliation_types": ["immigration_threat"],
        "description": "Threatened to call immigration after a wage claim."})
    assert response.status_code == 201
    assert engine_ticks()["notices"] >= 1
    wait_for(lambda: fake_sendgrid.sent_notice_ids(), 5, "the intake notice at the provider")
    wait_for(lambda: outbox(app)[0].status == NoticeStatus.SENT, 5, "the notice marked sent")


def test_stopping_the_loop_records_the_sends_in_flight(app, frozen, fake_sendgrid, running, twelve_notices):
    """Stop while four answers are awaited: they are recorded, nothing stays claimed,
    and the notices not yet taken are untouched."""
    fake_sendgrid.delay = 0.5  # within the client's 1 s timeout
    dispatcher = running(senders=4)
    wait_for(lambda: fake_sendgrid.in_flight >= 1, 10, "sends in flight")
    assert dispatcher.stop(timeout=30)

    notices = outbox(app)
    statuses = Counter(n.status for n in notices)
    assert statuses[NoticeStatus.SENDING] == 0, [(n.status, n.last_error) for n in notices]
    assert statuses[NoticeStatus.SENT] == len(fake_sendgrid.sent_notice_ids()) >= 1, [
        (n.status, n.last_error, n.attempts) for n in notices]
    assert all(n.attempts == 0 for n in notices if n.status == NoticeStatus.PENDING)


@pytest.mark.skipif(BACKEND != "postgresql", reason="LISTEN/NOTIFY is PostgreSQL's")
@pytest.mark.app_config(DISPATCH_LISTEN_POLL_SECONDS=600)
def test_notify_at_commit_wakes_the_listening_loop(app, frozen, fake_sendgrid, running, world, make_complaint):
    """With the poll ten minutes apart, only NOTIFY can bring the notice out within seconds."""
    dispatcher = running()
    wait_for(dispatcher.listening.is_set, 10, "the dispatcher listening")
    wait_for(lambda: not dispatcher.in_flight and dispatcher.wake.is_set() is False, 5, "the loop idle")
    make_complaint(world.investigator)
    wait_for(lambda: fake_sendgrid.sent_notice_ids(), 5, "the intake notice at the provider")
