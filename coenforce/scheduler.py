"""The scheduler process: APScheduler runs the escalation tick, and the
dispatcher's sending loop runs beside it. It runs only in `flask --app wsgi
scheduler`, never in a web worker; the database, not the scheduler, guarantees
at-most-once notices, so running two schedulers is still safe.

The dispatcher is not a job on an interval any more: it is a loop in a thread
of its own (coenforce.notify.dispatcher.Dispatcher) that keeps a pool of
senders busy and wakes on NOTIFY (PostgreSQL) or a short poll (SQLite), so a
notice leaves within a second of its commit. The "dispatch" job only makes
sure that loop is running.

SIGTERM (and Ctrl-C) stop it gracefully: no new tick or claim starts, a tick
under way finishes, sends in flight are recorded, unsent claims are released.
"""
from __future__ import annotations

import logging
import signal
import threading

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from coenforce import clock, escalation
from coenforce.db import db
from coenforce.notify.dispatcher import Dispatcher, dispatch

log = logging.getLogger("coenforce.scheduler")


def run_tick(app: Flask) -> dict:
    with app.app_context():
        session = db.new_session(app)  # BEGIN IMMEDIATE on SQLite: ticks are serialized
        try:
            counts = escalation.tick(session)
        finally:
            session.close()
    if counts["fired"] or counts["skipped"]:
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

    def start(self, *args, **kwargs) -> None:
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _terminate) if in_main else None
        try:
            super().start(*args, **kwargs)
        finally:
            self.stop_gracefully()
            if in_main:
                signal.signal(signal.SIGTERM, previous)

    def stop_gracefully(self) -> None:
        """Start nothing new; let the tick under way finish; record or release the dispatcher's claims."""
        with self._lock:
            self._stopping = True
        if self.dispatcher is not None:
            grace = self.app.config["SENDGRID_TIMEOUT_SECONDS"] + 10.0
            if not self.dispatcher.stop(timeout=grace):
                log.error("the dispatcher did not stop in %.0f s; its claims will expire with their lease", grace)
        if self.running:
            self.shutdown(wait=True)
        click.echo("scheduler stopped")


def _terminate(signum, _frame) -> None:
    # Unwind the scheduler's main loop as Ctrl-C does; a second TERM is ignored
    # so that the graceful stop is not cut short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(128 + signum)


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
    scheduler.add_job(run_tick, "interval", seconds=app.config["SCHEDULER_TICK_SECONDS"], args=[app],
                      id="escalation_tick", **job_options)
    scheduler.add_job(scheduler.ensure_dispatcher, "interval", seconds=app.config["SCHEDULER_DISPATCH_SECONDS"],
                      id="dispatch", next_run_time=clock.now(), **job_options)
    for name, (job, seconds) in app.extensions.get("coenforce.jobs", {}).items():
        scheduler.add_job(run_job, "interval", seconds=seconds, args=[app, name, job], id=name, **job_options)
    return scheduler
