"""The scheduler's escalation tick alone, for bench/api.py: a filing's intake rung
(recipients, notices, step) is fired by the tick, so the benchmark runs the tick
beside the app and counts its CPU. As the scheduler does, it ticks as often as
the scheduler looks for due clocks. Without the dispatcher: the
benchmark measures what a filing costs, not sending email.

    COENFORCE_DATABASE_URL=... .venv/bin/python bench/_engine.py     (stopped by SIGTERM)
"""
from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coenforce import create_app  # noqa: E402
from coenforce.scheduler import WAKE_GAP_SECONDS, run_tick  # noqa: E402


def main() -> None:
    app = create_app()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # As the scheduler: it looks for due clocks every DISPATCH_POLL_SECONDS and
    # ticks (no sooner than WAKE_GAP_SECONDS after the last tick began).
    pause = max(app.config["DISPATCH_POLL_SECONDS"], WAKE_GAP_SECONDS)
    while not stop.is_set():
        run_tick(app)
        stop.wait(pause)


if __name__ == "__main__":
    main()
