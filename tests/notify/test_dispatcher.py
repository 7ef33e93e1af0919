"""The outbox and its dispatcher, through the real `sendgrid` client against a fake
SendGrid on 127.0.0.1 (tests/fake_sendgrid.py). Notices are made the real way: a
filed complaint's intake rung tells the agency's supervisors at once, and ticks
fire the later rungs. Time moves only by the frozen clock; the one real wait is a
hung provider, bounded by the client's timeout."""
from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from coenforce import escalation
from coenforce.complaints.schemas import ActionIn
from coenforce.complaints.service import record_action
from coenforce.db import db
from coenforce.notify.dispatcher import claim, dispatch, finish
from coenforce.notify.models import Notice
from coenforce.notify.senders import Result
from coenforce.notify.outbox import requeue
from coenforce.validation import Conflict
from tests.fake_sendgrid import HANG
from tests.notify.conftest import MAIL_FROM

def notices(session) -> list[Notice]:
    """Every notice as the database holds it now."""
    rows = session.scalars(select(Notice).order_by(Notice.id).execution_options(populate_existing=True)).all()
    session.commit()  # end the read: on SQLite every transaction holds the write lock
    return list(rows)


def only_notice(session) -> Notice:
    [notice] = notices(session)
    return notice


@pytest.fixture
def one_notice(session, world, make_complaint) -> Notice:
    """A filed complaint's intake notice to the agency's one supervisor."""
    make_complaint(world.investigator)
    notice = only_notice(session)
    assert (notice.status, notice.recipient_id, notice.kind) == ("pending", world.supervisor.id,
                                                                  "complaint_response.intake")
    return notice


def test_accepted_notice_is_sent_once_with_its_id_key_and_sender(app, session, frozen, fake_sendgrid, one_notice,
                                                                  world):
    """A 202 marks the notice sent; one request carries the notice id, the API key and MAIL_FROM."""
    counts = dispatch(session, frozen.at)

    notice = only_notice(session)
    assert counts["claimed"] == counts["sent"] == 1
    assert (notice.status, notice.sent_at, notice.attempts, notice.provider_status) == ("sent", frozen.at, 1, 202)
    assert notice.claimed_by is None and notice.lease_expires_at is None
    [request] = fake_sendgrid.requests
    assert request.path == "/v3/mail/send"
    assert request.body["custom_args"] == {"notice_id": str(notice.id)}
    assert request.headers["Authorization"] == "Bearer SG.test"
    assert request.body["from"]["email"] == app.config["MAIL_FROM"] == MAIL_FROM
    assert request.body["personalizations"][0]["to"] == [{"email": world.supervisor.email}]


def test_server_error_is_retried_on_schedule_and_not_before(session, frozen, fake_sendgrid, one_notice):
    """A 500 leaves the notice pending for 30 s; a pass before then sends nothing, a pass then sends it."""
    fake_sendgrid.respond(500)
    start = frozen.at

    assert dispatch(session, start)["retry"] == 1
    notice = only_notice(session)
    assert (notice.status, notice.attempts, notice.provider_status) == ("pending", 1, 500)
    assert notice.next_attempt_at == start + timedelta(seconds=30)
    assert "500" in notice.last_error

    assert dispatch(session, frozen.advance(seconds=29))["claimed"] == 0
    assert len(fake_sendgrid.requests) == 1

    assert dispatch(session, frozen.advance(seconds=1))["sent"] == 1
    notice = only_notice(session)
    assert (notice.status, notice.attempts, notice.sent_at) == ("sent", 2, start + timedelta(seconds=30))
    assert [r.status for r in fake_sendgrid.requests] == [500, 202]


def test_rate_limit_waits_for_the_reset_time(session, frozen, fake_sendgrid, one_notice):
    """A 429 with X-RateLimit-Reset 10 minutes ahead is retried at the reset, not at the 30 s step."""
    start = frozen.at
    reset = start + timedelta(seconds=600)
    fake_sendgrid.respond((429, {"X-RateLimit-Reset": str(int(reset.timestamp()))}))

    assert dispatch(session, start)["retry"] == 1
    notice = only_notice(session)
    assert (notice.status, notice.provider_status, notice.next_attempt_at) == ("pending", 429, reset)

    assert dispatch(session, frozen.advance(seconds=30))["claimed"] == 0
    frozen.set(reset - timedelta(seconds=1))
    assert dispatch(session, frozen.at)["claimed"] == 0
    assert len(fake_sendgrid.requests) == 1

    frozen.set(reset)
    assert dispatch(session, frozen.at)["sent"] == 1
    assert only_notice(session).status == "sent"
    assert [r.status for r in fake_sendgrid.requests] == [429, 202]


def test_rate_limit_wait_is_measured_from_the_pass_time(session, frozen, fake_sendgrid, one_notice):
    """A pass run for another time (`flask dispatch --now`) waits until the reset as seen from that time."""
    at = frozen.at + timedelta(hours=2)  # the app's clock still says START
    reset = at + timedelta(seconds=600)
    fake_sendgrid.respond((429, {"X-RateLimit-Reset": str(int(reset.timestamp()))}))

    assert dispatch(session, at)["retry"] == 1
    assert only_notice(session).next_attempt_at == reset


@pytest.mark.parametrize("reset, wait", [
    (None, 30),                           # no header: the schedule's first step
    ("soon", 30),                         # not a number: ignored
    (-3600, 30),                          # already past: the schedule's step
    (365 * 24 * 3600, 3600),              # a year away: an hour at most on the provider's word
])
def test_rate_limit_reset_header_is_trusted_within_bounds(session, frozen, fake_sendgrid, one_notice, reset, wait):
    """A missing, broken, past or absurd X-RateLimit-Reset gives a sane wait."""
    if isinstance(reset, int):
        reset = str(int(frozen.at.timestamp()) + reset)
    fake_sendgrid.respond((429, {"X-RateLimit-Reset": reset} if reset else {}))

    assert dispatch(session, frozen.at)["retry"] == 1
    assert only_notice(session).next_attempt_at == frozen.at + timedelta(seconds=wait)


def test_bad_request_fails_at_once_and_is_never_retried(session, frozen, fake_sendgrid, one_notice):
    """A 400 fails the notice on the first attempt; later passes leave it alone."""
    fake_sendgrid.respond(400)

    assert dispatch(session, frozen.at)["failed"] == 1
    assert dispatch(session, frozen.advance(hours=24))["claimed"] == 0

    notice = only_notice(session)
    assert (notice.status, notice.attempts, notice.provider_status, notice.sent_at) == ("failed", 1, 400, None)
    assert len(fake_sendgrid.requests) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_refused_api_key_fails_and_says_so(session, frozen, fake_sendgrid, one_notice, caplog, status):
    """A 401/403 fails the notice with an error naming the refused API key, logged as critical."""
    fake_sendgrid.respond(status)

    assert dispatch(session, frozen.at)["failed"] == 1

    notice = only_notice(session)
    assert (notice.status, notice.provider_status) == ("failed", status)
    assert "refused the API key" in notice.last_error
    assert any(r.levelname == "CRITICAL" and "SENDGRID_API_KEY" in r.getMessage() for r in caplog.records)
    assert dispatch(session, frozen.advance(hours=24))["claimed"] == 0
    assert len(fake_sendgrid.requests) == 1


def test_hung_provider_delays_one_notice_not_the_dispatcher(session, frozen, fake_sendgrid, world, make_user,
                                                            make_complaint):
    """A request that never gets an answer times out after 1 s, is retried later, and the next notice still goes."""
    make_user(world.agency, "supervisor")
    make_complaint(world.investigator)
    fake_sendgrid.respond(HANG)  # the fake holds the first request it receives for up to 3 s

    began = time.monotonic()
    counts = dispatch(session, frozen.at)
    elapsed = time.monotonic() - began

    assert 0.9 <= elapsed < 2.5, f"dispatch took {elapsed:.2f} s with a 1 s client timeout"
    assert (counts["retry"], counts["sent"]) == (1, 1)
    # The pool sends both at once, so either notice's request may be the one held.
    [hung], [other] = ([n for n in notices(session) if n.status == status] for status in ("pending", "sent"))
    assert (hung.last_error, hung.provider_status) == ("network: TimeoutError", None)
    assert hung.next_attempt_at == frozen.at + timedelta(seconds=30)
    assert other.status == "sent"

    assert dispatch(session, frozen.advance(seconds=30))["sent"] == 1
    assert [n.status for n in notices(session)] == ["sent", "sent"]
    assert fake_sendgrid.sent_notice_ids() == [str(other.id), str(hung.id)]


def test_notice_is_dead_after_the_last_retry_and_requeue_revives_it(app, session, frozen, fake_sendgrid,
                                                                    one_notice, world):
    """Three waits mean four attempts; then the notice is dead, kept, and requeue sends it."""
    assert app.config["DISPATCH_RETRY_SCHEDULE"] == [30, 60, 120]
    fake_sendgrid.respond(500, 503, 500, 502)
    outcomes = []
    for wait in [0, 30, 60, 120]:
        outcomes.append(dispatch(session, frozen.advance(seconds=wait)))
    assert [o["retry"] for o in outcomes] == [1, 1, 1, 0]
    assert outcomes[-1]["dead"] == 1

    notice = only_notice(session)
    assert (notice.status, notice.attempts, notice.provider_status) == ("dead", 4, 502)
    assert dispatch(session, frozen.advance(hours=24))["claimed"] == 0
    assert len(fake_sendgrid.requests) == 4

    requeue(session, world.admin, notice.id)
    session.commit()
    notice = only_notice(session)
    assert (notice.status, notice.attempts, notice.next_attempt_at) == ("pending", 0, frozen.at)

    assert dispatch(session, frozen.at)["sent"] == 1
    assert only_notice(session).status == "sent"
    assert fake_sendgrid.sent_notice_ids() == [str(notice.id)]


def test_requeue_refuses_a_notice_that_is_not_dead_or_failed(session, one_notice, world):
    """Only a dead or failed notice can be requeued: a pending or sent one is left as it is."""
    with pytest.raises(Conflict):
        requeue(session, world.admin, one_notice.id)
    assert only_notice(session).status == "pending"


def test_crashed_dispatcher_lease_is_reclaimed_and_its_late_finish_is_lost(app, session, frozen, fake_sendgrid,
                                                                          one_notice):
    """A claim never finished is taken again when its lease expires; the sent row stays sent."""
    start = frozen.at
    lease = app.config["DISPATCH_LEASE_SECONDS"]
    assert claim(session, start, 10, "dead-token") == [one_notice.id]  # ...and that dispatcher dies here

    assert dispatch(session, frozen.advance(seconds=lease - 1))["claimed"] == 0
    assert fake_sendgrid.requests == []

    frozen.set(start + timedelta(seconds=lease))  # the lease ends now
    assert dispatch(session, frozen.at)["sent"] == 1
    sent = only_notice(session)
    assert (sent.status, sent.attempts, sent.claimed_by) == ("sent", 2, None)

    # The crashed dispatcher wakes up and reports on a row it no longer holds.
    schedule = app.config["DISPATCH_RETRY_SCHEDULE"]
    for late in (Result("retry", 500, "late 500"), Result("fail", 400, "late 400"), Result("sent", 202)):
        assert finish(session, "dead-token", [(one_notice.id, 1, late)], start, schedule) == ["lost"]
    after = only_notice(session)
    assert (after.status, after.sent_at, after.last_error, after.provider_status) == (
        "sent", start + timedelta(seconds=lease), None, 202)

    assert dispatch(session, frozen.advance(hours=1))["claimed"] == 0
    assert fake_sendgrid.sent_notice_ids() == [str(one_notice.id)]


@pytest.fixture
def thirty_notices(session, world, make_user, make_complaint) -> list[int]:
    """Six complaints to five supervisors: thirty intake notices."""
    for _ in range(4):
        make_user(world.agency, "supervisor")
    for _ in range(6):
        make_complaint(world.investigator)
    ids = [n.id for n in notices(session)]
    assert len(ids) == 30
    return ids


def test_no_notice_lost_and_none_sent_twice(session, frozen, fake_sendgrid, thirty_notices):
    """Thirty notices through 500s, 429s, a hang and small batches all end sent, each accepted exactly once."""
    reset = str(int((frozen.at + timedelta(seconds=45)).timestamp()))
    pattern = [500, (429, {"X-RateLimit-Reset": reset}), 202, 503, 202]
    fake_sendgrid.respond(*(pattern * 8), HANG, 500, 202)

    for _ in range(200):
        dispatch(session, frozen.at, limit=7)
        if all(n.status == "sent" for n in notices(session)):
            break
        frozen.advance(seconds=15)

    final = notices(session)
    assert Counter(n.status for n in final) == {"sent": 30}
    assert Counter(fake_sendgrid.sent_notice_ids()) == {str(i): 1 for i in thirty_notices}
    # Every claim made exactly one request: nothing was sent behind the outbox's back.
    assert sum(n.attempts for n in final) == len(fake_sendgrid.requests)
    assert {500, 503, 429, None} <= {r.status for r in fake_sendgrid.requests}  # None: the hang


def test_two_dispatchers_at_once_send_each_notice_once(app, frozen, fake_sendgrid, thirty_notices):
    """Two dispatchers running in parallel on their own connections never send one notice twice."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                own = db.new_session(app)
                try:
                    while dispatch(own, frozen.at, limit=3)["claimed"]:
                        pass
                finally:
                    own.close()
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert Counter(fake_sendgrid.sent_notice_ids()) == {str(i): 1 for i in thirty_notices}
    assert len(fake_sendgrid.requests) == 30


def test_stopped_deadline_cancels_pending_notices_and_sends_nothing(session, frozen, fake_sendgrid, world,
                                                                   make_complaint):
    """A qualifying action before the dispatch cancels the intake notice; later rungs never fire."""
    complaint = make_complaint(world.investigator)
    frozen.advance(minutes=5)
    record_action(session, world.investigator, complaint, ActionIn(type="employer_contacted"))
    session.commit()

    assert dispatch(session, frozen.at)["claimed"] == 0
    notice = only_notice(session)
    assert (notice.status, notice.last_error) == ("cancelled", "deadline stopped before sending")

    escalation.tick(session, frozen.advance(hours=72))
    assert dispatch(session, frozen.at)["claimed"] == 0
    assert [n.status for n in notices(session)] == ["cancelled"]
    assert fake_sendgrid.requests == []


def test_no_complaint_text_reaches_sendgrid(session, frozen, fake_sendgrid, canaries_through_every_rung):
    """Every rung's email, as SendGrid receives it, carries no employer, description or dispute text."""
    canaries = canaries_through_every_rung
    dispatch(session, frozen.at)

    kinds = {n.kind.rsplit(".", 1)[1] for n in notices(session)}
    assert kinds == {"intake", "unassigned", "reminder", "warning", "breach", "overdue"}
    assert len(fake_sendgrid.requests) == len(notices(session))
    for request in fake_sendgrid.requests:
        for canary in canaries:
            assert canary not in request.raw


@pytest.mark.parametrize("sendgrid_config", [{"SENDGRID_API_KEY": None}])
def test_without_api_key_notices_are_logged_and_nothing_is_requested(session, frozen, fake_sendgrid, one_notice,
                                                                     caplog):
    """The embedded default: no SENDGRID_API_KEY, the log sender marks notices sent and calls nobody."""
    assert dispatch(session, frozen.at)["sent"] == 1

    notice = only_notice(session)
    assert (notice.status, notice.sent_at) == ("sent", frozen.at)
    assert fake_sendgrid.requests == []
    assert any(f"notice {notice.id} stored and logged" in r.getMessage() for r in caplog.records)
