"""The scheduler process: APScheduler runs the escalation tick, and the
dispatcher's sending loop runs beside it. It runs only in `flask --app wsgi
scheduler`, never in a web worker; the database, not the scheduler, guarantees
at-most-once notices, so running two schedulers is still safe.

The dispatcher is not a job on an interval any more: it is a loop in a thread
of its own (coenforce.notify.dispatcher.Dispatcher) that keeps a pool of
senders busy and wakes on NOTIFY (PostgreSQL) or a short poll (SQLite), so a
notice leaves within a second of its commit. The "dispatch" job only makes
sure that loop is running. The tick runs on its interval and, besides, as soon
as a read every 0.25 s finds a clock due (a new complaint's intake notice), in
batches (see SchedulerProcess.tick_now).

SIGTERM (and Ctrl-C) stop it gracefully: no new tick or claim starts, a tick
under way finishes, sends in flight are recorded, unsent claims are released.
"""
from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from coenforce import clock, escalation
from coenforce.db import db
from coenforce.notify.dispatcher import Dispatcher, dispatch

log = logging.getLogger("coenforce.scheduler")
# How often the scheduler's main loop looks for a stop request (SIGTERM, Ctrl-C).
STOP_CHECK_SECONDS = 0.5
# A woken tick begins at least this long after the last one began (see tick_now).
WAKE_GAP_SECONDS = 0.2


def run_tick(app: Flask) -> dict:
    with app.app_context():
        session = db.new_session(app)  # BEGIN IMMEDIATE on SQLite: ticks are serialized
        try:
            counts = escalation.tick(session)
        finally:
            session.close()
    if counts["fired"] or counts["skipped"] or counts["held"]:
        log.info("escalation tick: %s", counts)
    return counts


def run_dispatch(app: Flask) -> dict:
    """One pass of the dispatcher (the loop does this continuously)."""
    with app.app_context():
        session = db.new_session(app, sqlite_begin="DEFERRED")
        try:
            counts = dispatch(session)
        finally:
            session.close()
    if counts["claimed"]:
        log.info("dispatch: %s", counts)
    return counts


class SchedulerProcess(BlockingScheduler):
    """APScheduler's blocking scheduler, plus the dispatcher loop and a graceful stop."""

    def __init__(self, app: Flask):
        super().__init__(timezone="UTC")
        self.app = app
        self.dispatcher: Dispatcher | None = None
        self._dispatcher_thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = False
        self._stop_requested = False
        self._ticking = False
        self._tick_again = False
        self._last_tick = clock.now()
        self._polling_stopped = threading.Event()

    def ensure_dispatcher(self) -> None:
        """The "dispatch" job: start the sending loop, or start it again should it have died."""
        with self._lock:
            if self._stopping or (self._dispatcher_thread is not None and self._dispatcher_thread.is_alive()):
                return
            if self._dispatcher_thread is not None:
                log.error("the dispatcher loop had stopped; starting it again")
            self.dispatcher = Dispatcher(self.app)
            self._dispatcher_thread = threading.Thread(target=self.dispatcher.run, name="coenforce-dispatcher",
                                                       daemon=True)
            self._dispatcher_thread.start()

    def tick_now(self) -> None:
        """A clock is due (a new one's first rung): run the tick now rather than at
        the next interval, but not sooner than WAKE_GAP_SECONDS after the last
        tick began: during a raid each tick then fires the clocks of many filings
        in one batch, where ticks back to back would fire one or two each, at
        several statements apiece."""
        with self._lock:
            if self._stopping or not self.running:
                return
            if self._ticking:
                self._tick_again = True  # run_ticks schedules it when the tick ends
                return
        self.modify_job("escalation_tick", next_run_time=self._woken_tick_at())

    def run_ticks(self) -> None:
        """The escalation_tick job; a wake that came during it brings the next one forward."""
        with self._lock:
            self._ticking, self._tick_again = True, False
            self._last_tick = clock.now()
        try:
            run_tick(self.app)
        finally:
            with self._lock:
                self._ticking = False
                again = self._tick_again and not self._stopping
        if again:
            self.modify_job("escalation_tick", next_run_time=self._woken_tick_at())

    def _woken_tick_at(self):
        """Now, or WAKE_GAP_SECONDS after the last tick began if that is later."""
        return max(clock.now(), self._last_tick + timedelta(seconds=WAKE_GAP_SECONDS))

    def _poll_for_due_clocks(self) -> None:
        """A read every DISPATCH_POLL_SECONDS looks for a clock with a rung due (a
        new one's first) and wakes the tick. (A NOTIFY from each filing would
        cost every filing a statement and PostgreSQL's commit-time lock.)"""
        poll = self.app.config["DISPATCH_POLL_SECONDS"]
        while not self._polling_stopped.wait(poll):
            try:
                with self.app.app_context():
                    probe = db.new_session(self.app, sqlite_begin="DEFERRED")
                    try:
                        due = escalation.anything_due(probe, clock.now())
                    finally:
                        probe.close()
                if due:
                    self.tick_now()
            except Exception:  # the database is busy or gone: the interval's tick still runs
                log.warning("could not look for due clocks", exc_info=True)

    def start(self, *args, **kwargs) -> None:
        # TERM, and Ctrl-C unless it is ignored (a background job of `make run`), only
        # raise a flag: APScheduler swallows an exception raised inside its loop.
        handled = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                if signal.getsignal(sig) is not signal.SIG_IGN:
                    handled[sig] = signal.signal(sig, self._request_stop)
        threading.Thread(target=self._poll_for_due_clocks, name="coenforce-due-clocks", daemon=True).start()
        try:
            super().start(*args, **kwargs)
        finally:
            self._polling_stopped.set()
            self.stop_gracefully()
            for sig, previous in handled.items():
                signal.signal(sig, previous)

    def _request_stop(self, _signum, _frame) -> None:
        # No lock is taken in a signal handler; the main loop sees the flag within STOP_CHECK_SECONDS.
        self._stop_requested = True

    def _process_jobs(self):
        if self._stop_requested:
            self.shutdown(wait=False)  # no new job starts; the main loop ends
            return None
        wait = super()._process_jobs()
        return STOP_CHECK_SECONDS if wait is None else min(wait, STOP_CHECK_SECONDS)

    def stop_gracefully(self) -> None:
        """Start nothing new; record or release the dispatcher's claims; let a job under way finish."""
        with self._lock:
            self._stopping = True
        if self.running:
            self.shutdown(wait=False)
        if self.dispatcher is not None:
            grace = self.app.config["SENDGRID_TIMEOUT_SECONDS"] + 10.0
            if not self.dispatcher.stop(timeout=grace):
                log.error("the dispatcher did not stop in %.0f s; its claims will expire with their lease", grace)
        for executor in self._executors.values():
            executor.shutdown(wait=True)  # a tick under way finishes
        click.echo("scheduler stopped")


def register_job(app: Flask, name: str, job, seconds: int) -> None:
    """A module's periodic job (from its init_app): `job(session)` runs every
    `seconds` in the scheduler process, in a session of its own."""
    app.extensions.setdefault("coenforce.jobs", {})[name] = (job, seconds)


def run_job(app: Flask, name: str, job) -> None:
    with app.app_context():
        session = db.new_session(app)
        try:
            result = job(session)
        finally:
            session.close()
    if result:
        log.info("%s: %s", name, result)


def build_scheduler(app: Flask) -> SchedulerProcess:
    scheduler = SchedulerProcess(app)
    job_options = dict(coalesce=True, max_instances=1, misfire_grace_time=None)
    scheduler.add_job(scheduler.run_ticks, "interval", seconds=app.config["SCHEDULER_TICK_SECONDS"],
                      id="escalation_tick", **job_options)
    scheduler.add_job(scheduler.ensure_dispatcher, "interval", seconds=app.config["SCHEDULER_DISPATCH_SECONDS"],
                      id="dispatch", next_run_time=clock.now(), **job_options)
    for name, (job, seconds) in app.extensions.get("coenforce.jobs", {}).items():
        scheduler.add_job(run_job, "interval", seconds=seconds, args=[app, name, job], id=name, **job_options)
    return scheduler
