"""Delivery with real processes: gunicorn serving the app, `flask scheduler` (or
`flask dispatch`) beside it, the real `sendgrid` client talking to a fake SendGrid
on 127.0.0.1. On SQLite or PostgreSQL, as the suite runs."""
from __future__ import annotations

import signal
import statistics
import time
from collections import Counter
from datetime import timedelta


from coenforce import clock
from coenforce.db import db
from coenforce.notify.dispatcher import dispatch
from coenforce.notify.models import NoticeStatus
from tests.conftest import outbox
from tests.delivery.conftest import BODY
from tests.delivery.processes import Browser, alive, flask, serve, start, stop, wait_for
from tests.fake_sendgrid import HANG



def test_writes_answer_within_a_second_while_the_provider_hangs(env, fake, token, tmp_path):
    """The provider holds every request without answering (the client gives up after 10 s):
    filing complaints and reading them still answer within 1 s each."""
    fake.default = HANG
    log = tmp_path / "processes.log"
    web, port = serve("wsgi:app", env, log)
    scheduler = start(flask("scheduler"), env, log)
    try:
        browser = Browser(port)
        status, _, _ = browser.json("POST", "/api/v1/complaints", token, BODY)
        assert status == 201
        wait_for(lambda: fake.requests, 15, "the dispatcher sending the intake notice")
        hung_since = time.monotonic()

        timings = []
        for _ in range(5):
            status, _, took = browser.json("POST", "/api/v1/complaints", token, BODY, timeout=10)
            assert status == 201
            timings.append(took)
        status, _, took = browser.json("GET", "/api/v1/complaints", token, timeout=10)
        assert status == 200
        timings.append(took)

        assert time.monotonic() - hung_since < 10, "the provider's first request should still be hanging"
        assert all(r.status is None for r in fake.requests), "nothing was answered: the provider hangs"
        assert max(timings) < 1.0, f"requests took {[round(t, 2) for t in timings]} s while the provider hung"
    finally:
        fake.release()
        stop(scheduler)
        stop(web)


def _intake_latencies(env, fake, token, tmp_path) -> list[float]:
    """Six complaints filed one after another with the scheduler running: the
    seconds from each 201 to its intake notice at the provider (the first left
    out: it waits for the scheduler to start)."""
    log = tmp_path / "processes.log"
    web, port = serve("wsgi:app", env, log)
    scheduler = start(flask("scheduler"), env, log)
    try:
        browser = Browser(port)
        latencies = []
        for n in range(6):
            status, _, _ = browser.json("POST", "/api/v1/complaints", token, BODY)
            filed = time.time()
            assert status == 201
            wait_for(lambda: len(fake.requests) > n, 10 if n == 0 else 5, f"notice {n} at the provider")
            if n:
                latencies.append(fake.requests[n].received_at - filed)
        assert len(set(fake.sent_notice_ids())) == 6
        return latencies
    finally:
        stop(scheduler)
        stop(web)


def test_a_filed_complaint_reaches_the_provider_within_seconds(env, fake, token, tmp_path):
    """With the scheduler running, each intake notice reaches the provider within 2 s of
    the complaint's 201, and most within 1 s, though the interval tick is an hour
    apart: the scheduler sees the new clock due (it looks every 0.25 s) and ticks,
    the dispatcher sends (NOTIFY; SQLite: a short poll)."""
    latencies = _intake_latencies({**env, "COENFORCE_SCHEDULER_TICK_SECONDS": "3600"}, fake, token, tmp_path)
    assert max(latencies) < 2.0 and statistics.median(latencies) < 1.0, latencies


def test_sigterm_lets_the_scheduler_finish_its_sends_and_release_nothing_half_done(
        app, env, fake, world, make_user, make_complaint, tmp_path):
    """SIGTERM while sends are on the wire: the scheduler waits for their answers, records
    them, and exits; no notice is left claimed, and each accepted one is marked sent."""
    for _ in range(5):
        make_user(world.agency, "supervisor")
    for _ in range(4):
        make_complaint(world.investigator)  # 24 intake notices
    assert len(outbox(app)) == 24
    fake.delay = 1.5  # each answer takes 1.5 s: sends are in flight when TERM comes
    scheduler = start(flask("scheduler"), {**env, "COENFORCE_DISPATCH_SENDERS": "4"}, tmp_path / "scheduler.log")
    wait_for(lambda: fake.in_flight >= 1, 20, "sends in flight")
    stop(scheduler, signal.SIGTERM, seconds=20)

    notices = outbox(app)
    statuses = Counter(n.status for n in notices)
    assert statuses[NoticeStatus.SENDING] == 0, "a claim was left behind"
    assert statuses[NoticeStatus.SENT] >= 1 and statuses[NoticeStatus.PENDING] >= 1, statuses
    accepted = Counter(fake.sent_notice_ids())
    assert set(accepted.values()) == {1}
    assert {str(n.id) for n in notices if n.status == NoticeStatus.SENT} == set(accepted)
    assert all(n.claimed_by is None and n.attempts == 0 for n in notices if n.status == NoticeStatus.PENDING)
    assert "scheduler stopped" in (tmp_path / "scheduler.log").read_text()


def test_a_dispatcher_killed_mid_send_loses_nothing_and_sends_once(app, env, fake, world, make_complaint, tmp_path):
    """`flask dispatch` is killed (SIGKILL) while the provider holds its request: the claim
    stays until its lease expires, then another dispatcher sends the notice, once."""
    make_complaint(world.investigator)
    [notice] = outbox(app)
    at = notice.next_attempt_at
    fake.respond(HANG)  # the first request is held; the fake never answers it
    dispatcher = start(flask("dispatch", "--now", clock.iso(at)), env, tmp_path / "dispatch.log")
    wait_for(lambda: fake.requests, 20, "the request on the wire")
    stop(dispatcher, signal.SIGKILL)
    assert not alive(dispatcher.pid)

    [claimed] = outbox(app)
    assert (claimed.status, claimed.attempts) == (NoticeStatus.SENDING, 1)
    lease = timedelta(seconds=app.config["DISPATCH_LEASE_SECONDS"])
    assert claimed.lease_expires_at == at + lease

    session = db.new_session(app, sqlite_begin="DEFERRED")
    try:
        assert dispatch(session, at + lease - timedelta(seconds=1))["claimed"] == 0
        assert dispatch(session, at + lease)["sent"] == 1
    finally:
        session.close()
    [sent] = outbox(app)
    assert (sent.status, sent.attempts, sent.claimed_by) == (NoticeStatus.SENT, 2, None)
    assert fake.sent_notice_ids() == [str(notice.id)]
    assert [r.status for r in fake.requests] == [None, 202]
