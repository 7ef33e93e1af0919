"""The scheduler's escalation tick alone, for bench/api.py: a filing's intake rung
(recipients, notices, step) is fired by the tick, so the benchmark runs the tick
beside the app and counts its CPU. As the scheduler does, it ticks every
SCHEDULER_TICK_SECONDS and, on PostgreSQL, on a new clock's NOTIFY, no sooner
than WAKE_GAP_SECONDS after the last tick began. Without the dispatcher: the
benchmark measures what a filing costs, not sending email.

    COENFORCE_DATABASE_URL=... .venv/bin/python bench/_engine.py     (stopped by SIGTERM)
"""
from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coenforce import create_app, escalation  # noqa: E402
from coenforce.db import db  # noqa: E402
from coenforce.scheduler import WAKE_GAP_SECONDS, run_tick  # noqa: E402


def main() -> None:
    app = create_app()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    interval = app.config["SCHEDULER_TICK_SECONDS"]
    engine = db.engine_for(app)
    if engine.dialect.name != "postgresql":
        while not stop.is_set():
            run_tick(app)
            stop.wait(interval)
        return
    import psycopg
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    with psycopg.connect(*cargs, **cparams, autocommit=True) as conn:
        conn.execute(f"LISTEN {escalation.WAKE_CHANNEL}")
        while not stop.is_set():
            began = time.monotonic()
            run_tick(app)
            if list(conn.notifies(timeout=interval, stop_after=1)):
                stop.wait(began + WAKE_GAP_SECONDS - time.monotonic())  # as the scheduler: a batch, not one each
                while list(conn.notifies(timeout=0, stop_after=1)):
                    pass  # the wakes that came meanwhile are this tick's too


if __name__ == "__main__":
    main()
