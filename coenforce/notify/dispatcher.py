"""The dispatcher: claim due notices, send them, record what happened.

No transaction is open while a notice is on the wire. Each notice goes through
three short steps:

1. **claim**: one guarded UPDATE sets status 'sending', a lease and the
   claimer's token on due rows and returns them; committed at once. On SQLite
   a cheap read first asks whether anything is due, so an idle dispatcher does
   not take the write lock several times a second.
2. **send**, from a bounded pool of threads, with no session or transaction
   open: a provider that hangs holds one thread until the client's timeout,
   never a lock of the database.
3. **finish**: one guarded UPDATE per notice, only while the claim still
   holds, so a dispatcher whose lease ran out (it crashed, or was killed
   mid-send) cannot overwrite the work of the one that took the row over.

`dispatch()` is one pass (the CLI and the tests). `Dispatcher` is the
long-running loop of the scheduler process: it keeps the pool busy, claiming as
senders free up, and wakes on PostgreSQL's NOTIFY (sent by `enqueue` in the
transaction that creates a notice) or, on SQLite, on a short poll.
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.orm import Session

from coenforce import clock
from coenforce.notify.models import Notice, NoticeStatus
from coenforce.notify.render import Email, render
from coenforce.notify.senders import Result, sender_for

log = logging.getLogger("coenforce.notify")

_MAX_PROVIDER_WAIT = 3600.0
OUTCOMES = ("claimed", "sent", "retry", "failed", "dead", "lost")
# PostgreSQL: the channel `enqueue` notifies at commit.
CHANNEL = "coenforce_notices"


@dataclass(frozen=True)
class Claimed:
    """A notice this dispatcher holds: its id, attempts so far (this one included), the email."""

    id: int
    attempts: int
    email: Email | None
    error: str | None = None  # rendering failed: retried later, never lost


def _claimable(now: datetime):
    return or_(
        and_(Notice.status == NoticeStatus.PENDING, Notice.next_attempt_at <= now),
        # A claim whose lease expired belongs to a dispatcher that died.
        and_(Notice.status == NoticeStatus.SENDING, Notice.lease_expires_at <= now),
    )


def anything_due(session: Session, now: datetime) -> bool:
    """One indexed read: is a notice due at `now`? Ends its (read) transaction."""
    due = session.scalar(select(Notice.id).where(_claimable(now)).limit(1)) is not None
    session.commit()
    return due


def claim(session: Session, now: datetime, limit: int, token: str, lease_seconds: float | None = None
          ) -> list[int]:
    """Claim up to `limit` due notices for `token` in one statement and commit; their ids."""
    return [row.id for row in _claim_rows(session, now, limit, token, lease_seconds)]


def _claim_rows(session: Session, now: datetime, limit: int, token: str, lease_seconds: float | None = None):
    if lease_seconds is None:
        lease_seconds = current_app.config["DISPATCH_LEASE_SECONDS"]
    due = select(Notice.id).where(_claimable(now)).order_by(Notice.next_attempt_at, Notice.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # One statement: on SQLite the write lock is taken by the UPDATE itself,
    # with no earlier read in the transaction that could make it fail.
    rows = session.execute(
        update(Notice)
        .where(Notice.id.in_(due.scalar_subquery()), _claimable(now))
        .values(status=NoticeStatus.SENDING, claimed_by=token, lease_expires_at=now + timedelta(seconds=lease_seconds),
                attempts=Notice.attempts + 1)
        .returning(Notice.id, Notice.attempts)
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    return sorted(rows)


def claim_and_render(session: Session, now: datetime, limit: int, token: str) -> list[Claimed]:
    """Claim, then read the claimed notices with their recipients and render them, in
    two short transactions; nothing is left open."""
    rows = _claim_rows(session, now, limit, token)
    if not rows:
        return []
    attempts = dict(rows)
    notices = session.scalars(select(Notice).where(Notice.id.in_(attempts))
                              .execution_options(populate_existing=True)).unique().all()
    session.commit()
    claimed = []
    for notice in sorted(notices, key=lambda n: n.id):
        try:
            claimed.append(Claimed(notice.id, attempts[notice.id], render(notice, notice.recipient)))
        except Exception as exc:  # a bug in rendering must not lose the notice
            log.exception("notice %s could not be rendered", notice.id)
            claimed.append(Claimed(notice.id, attempts[notice.id], None, f"internal: {type(exc).__name__}"))
    return claimed


def send_one(sender, item: Claimed) -> Result:
    """Runs on a pool thread, with no database session."""
    if item.email is None:
        return Result("retry", error=item.error)
    try:
        return sender.send(item.email)
    except Exception as exc:  # a sender's bug must not lose the notice
        log.exception("notice %s could not be sent", item.id)
        return Result("retry", error=f"internal: {type(exc).__name__}")


def _values(result: Result, attempts: int, now: datetime, schedule: list[int]) -> tuple[dict, str]:
    values: dict = {"claimed_by": None, "lease_expires_at": None, "provider_status": result.status,
                    "last_error": result.error}
    if result.outcome == "sent":
        values.update(status=NoticeStatus.SENT, sent_at=now)
        return values, "sent"
    if result.outcome == "retry" and attempts <= len(schedule):
        wait_for = schedule[attempts - 1]
        if result.retry_at:
            # Wait for the provider's reset, but no more than an hour on its word.
            wait_for = max(wait_for, min((result.retry_at - now).total_seconds(), _MAX_PROVIDER_WAIT))
        values.update(status=NoticeStatus.PENDING, next_attempt_at=now + timedelta(seconds=wait_for))
        return values, "retry"
    if result.outcome == "retry":
        values.update(status=NoticeStatus.DEAD)
        return values, "dead"
    values.update(status=NoticeStatus.FAILED)
    return values, "failed"


def finish(session: Session, token: str, done: list[tuple[int, int, Result]], now: datetime,
           schedule: list[int]) -> list[str]:
    """Record outcomes of (notice id, attempts, result), each only while `token` still
    holds the claim, in one short transaction; returns each one's outcome or 'lost'."""
    outcomes = []
    for notice_id, attempts, result in done:
        values, outcome = _values(result, attempts, now, schedule)
        finished = session.execute(
            update(Notice)
            .where(Notice.id == notice_id, Notice.claimed_by == token, Notice.status == NoticeStatus.SENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if finished != 1:
            # Our lease ran out and another dispatcher holds the row now.
            log.warning("notice %s: claim lost before it was finished", notice_id)
            outcome = "lost"
        elif outcome == "dead":
            log.error("notice %s is dead after %s attempts: %s", notice_id, attempts, result.error)
        elif outcome == "failed":
            log.error("notice %s failed permanently: %s", notice_id, result.error)
        outcomes.append(outcome)
    session.commit()
    return outcomes


def release(session: Session, token: str, notice_ids: list[int]) -> int:
    """Give back claims that were never sent (a stopping dispatcher): pending again at
    once, the attempt not counted."""
    if not notice_ids:
        return 0
    released = session.execute(
        update(Notice)
        .where(Notice.id.in_(notice_ids), Notice.claimed_by == token, Notice.status == NoticeStatus.SENDING)
        .values(status=NoticeStatus.PENDING, claimed_by=None, lease_expires_at=None,
                attempts=case((Notice.attempts > 0, Notice.attempts - 1), else_=0))
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return released


def dispatch(session: Session, now: datetime | None = None, sender=None, limit: int | None = None) -> dict:
    """One pass: claim what is due at `now`, send it through the pool, record each outcome."""
    now = now or clock.now()
    config = current_app.config
    own_sender = sender is None
    sender = sender or sender_for(config)
    token = uuid.uuid4().hex
    counts: Counter = Counter()
    claimed = claim_and_render(session, now, limit or config["DISPATCH_BATCH_SIZE"], token)
    counts["claimed"] = len(claimed)
    if claimed:
        with ThreadPoolExecutor(min(config["DISPATCH_SENDERS"], len(claimed)),
                                thread_name_prefix="coenforce-send") as pool:
            futures = {pool.submit(send_one, sender, item): item for item in claimed}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                batch = [(futures[f].id, futures[f].attempts, f.result()) for f in done]
                counts.update(finish(session, token, batch, now, config["DISPATCH_RETRY_SCHEDULE"]))
    if own_sender:
        sender.close()
    else:
        sender.close_dead_threads()  # the pass's threads have ended
    return {key: counts.get(key, 0) for key in OUTCOMES}


class Dispatcher:
    """The scheduler's sending loop: keeps up to DISPATCH_SENDERS notices in flight.

    `run()` blocks until `stop()`; on stop it claims nothing more, waits for the
    sends in flight (each bounded by the client's timeout), records them, and
    releases any claim whose send never started.
    """

    def __init__(self, app: Flask, sender=None, senders: int | None = None):
        from coenforce.db import db
        self.app = app
        config = app.config
        self.sender = sender or sender_for(config)
        self.size = senders or config["DISPATCH_SENDERS"]
        self.schedule = config["DISPATCH_RETRY_SCHEDULE"]
        self.poll = config["DISPATCH_POLL_SECONDS"]
        self.grace = config["SENDGRID_TIMEOUT_SECONDS"] + 5.0
        self.engine = db.engine_for(app)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        # Deferred on SQLite: the probe reads without the write lock; claims and
        # finishes are single UPDATEs that take it themselves.
        self.session = db.new_session(app, sqlite_begin="DEFERRED")
        self.pool = ThreadPoolExecutor(self.size, thread_name_prefix="coenforce-send")
        self.token = uuid.uuid4().hex
        self.in_flight: dict[Future, Claimed] = {}
        self.counts: Counter = Counter()
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.stopped = threading.Event()
        self.listening = threading.Event()
        self._listener: threading.Thread | None = None

    # -- the loop

    def run(self) -> None:
        with self.app.app_context():
            if self.is_postgres:
                self._listener = threading.Thread(target=self._listen, name="coenforce-listen", daemon=True)
                self._listener.start()
            try:
                while not self.stopping.is_set():
                    # Cleared before the step: a send finishing during it still wakes the next wait.
                    self.wake.clear()
                    try:
                        busy = self._step()
                    except Exception:  # the database went away: log, wait a poll, try again
                        log.exception("dispatcher step failed")
                        self.session.rollback()
                        busy = False
                    if not busy:
                        self.wake.wait(self._poll_seconds())
            finally:
                self._drain()
                self.session.close()
                self.stopped.set()

    def _poll_seconds(self) -> float:
        # With LISTEN, new notices wake us; the poll only finds retries and expired leases.
        return self.app.config["DISPATCH_LISTEN_POLL_SECONDS"] if self.listening.is_set() else self.poll

    def _step(self) -> bool:
        """Record finished sends, claim for the free senders; True if it should go again at once."""
        self._finish_done()
        free = self.size - len(self.in_flight)
        if free <= 0:
            return False  # a finishing send sets `wake`
        now = clock.now()
        if not self.is_postgres and not anything_due(self.session, now):
            return False
        claimed = claim_and_render(self.session, now, free, self.token)
        for item in claimed:
            future = self.pool.submit(send_one, self.sender, item)
            self.in_flight[future] = item
            future.add_done_callback(lambda _f: self.wake.set())
        self.counts["claimed"] += len(claimed)
        return len(claimed) == free  # all senders busy, or more may be due

    def _finish_done(self, futures=None) -> None:
        done = [f for f in (futures if futures is not None else list(self.in_flight)) if f.done()]
        if not done:
            return
        batch = [(self.in_flight[f].id, self.in_flight[f].attempts, f.result()) for f in done]
        outcomes = finish(self.session, self.token, batch, clock.now(), self.schedule)
        for future in done:
            del self.in_flight[future]
        self.counts.update(outcomes)

    def _drain(self) -> None:
        """On stop: cancel what has not started, finish what is on the wire, release the rest."""
        try:
            unstarted = [f for f in list(self.in_flight) if f.cancel()]
            if self.in_flight:
                wait([f for f in self.in_flight if f not in unstarted], timeout=self.grace)
            self._finish_done([f for f in self.in_flight if f not in unstarted])
            # Never sent, or (past the grace period) stuck: give the claims back.
            leftover = [item.id for item in self.in_flight.values()]
            if leftover:
                released = release(self.session, self.token, leftover)
                log.info("dispatcher stopping: released %s claimed notices", released)
            self.in_flight.clear()
        except Exception:
            log.exception("dispatcher could not finish its claims; their leases will expire")
        finally:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.sender.close()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop claiming, let the sends in flight finish; True once the loop has ended."""
        self.stopping.set()
        self.wake.set()
        return self.stopped.wait(timeout)

    # -- PostgreSQL: LISTEN on a connection of its own

    def _listen(self) -> None:
        import psycopg
        cargs, cparams = self.engine.dialect.create_connect_args(self.engine.url)
        while not self.stopping.is_set():
            try:
                with psycopg.connect(*cargs, **cparams, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    self.wake.set()  # anything enqueued before LISTEN is found by the next step
                    while not self.stopping.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wake.set()
            except Exception:
                self.listening.clear()
                log.warning("dispatcher: LISTEN connection lost; polling until it is back", exc_info=True)
                self.stopping.wait(5.0)
        self.listening.clear()

    # -- one pass until nothing is left (benchmarks, tests)

    def run_until_idle(self) -> dict:
        """Send everything due, keeping the pool full, until nothing is due or in flight."""
        with self.app.app_context():
            while True:
                busy = self._step()
                if not busy and not self.in_flight:
                    break
                if not busy:
                    wait(list(self.in_flight), return_when=FIRST_COMPLETED)
            return {key: self.counts.get(key, 0) for key in OUTCOMES}

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.sender.close()
        self.session.close()
