"""The scheduler process: APScheduler runs the escalation tick and the
dispatcher. It runs only in `flask --app wsgi scheduler`, never in a web
worker; the database, not the scheduler, guarantees at-most-once notices,
so running two schedulers is still safe."""
from __future__ import annotations

import logging

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from coenforce import escalation
from coenforce.db import db
from coenforce.notify.dispatcher import dispatch

log = logging.getLogger("coenforce.scheduler")


def run_tick(app: Flask) -> dict:
    with app.app_context():
        session = db.new_session(app)
        try:
            counts = escalation.tick(session)
        finally:
            session.close()
    if counts["fired"] or counts["skipped"]:
        log.info("escalation tick: %s", counts)
    return counts


def run_dispatch(app: Flask) -> dict:
    with app.app_context():
        session = db.new_session(app)
        try:
            counts = dispatch(session)
        finally:
            session.close()
    if counts["claimed"]:
        log.info("dispatch: %s", counts)
    return counts


def build_scheduler(app: Flask) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone="UTC")
    job_options = dict(coalesce=True, max_instances=1, misfire_grace_time=None)
    scheduler.add_job(run_tick, "interval", seconds=app.config["SCHEDULER_TICK_SECONDS"], args=[app],
                      id="escalation_tick", **job_options)
    scheduler.add_job(run_dispatch, "interval", seconds=app.config["SCHEDULER_DISPATCH_SECONDS"], args=[app],
                      id="dispatch", **job_options)
    return scheduler
