"""Notices per second from the outbox to a provider, at 0, 100 and 300 ms a request.

Fills the outbox with `--notices` pending notices (through the real `enqueue_many`),
starts the fake SendGrid from the tests (tests/fake_sendgrid.py) answering after
each `--delays` latency, and times the dispatcher, through the real `sendgrid`
client, until every notice is sent. Checks that each notice reached the fake
exactly once. Prints each run, and as its last line one JSON object of notices/s
per latency.

`--mode loop` (default) runs the scheduler's dispatcher loop (a pool of
DISPATCH_SENDERS senders kept busy); `--mode passes` calls one-pass `dispatch()`
again and again, as the scheduler did before (and as `flask dispatch` does).

Goal (issue 7): at least 50 notices/s at 100 ms.

    .venv/bin/python bench/dispatch.py                      # a temporary SQLite file
    .venv/bin/python bench/dispatch.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/coenforce_bench   # a schema of its own
"""
from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from datetime import timedelta

from _common import bench_database, prepare_people, say


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Notices/s from the outbox to a fake SendGrid answering after "
                                                 "0, 100 and 300 ms.")
    parser.add_argument("--database-url", default=os.environ.get("COENFORCE_DATABASE_URL"),
                        help="PostgreSQL URL to work in (a schema of its own is made and dropped); "
                             "default: a temporary SQLite file")
    parser.add_argument("--notices", type=int, default=300, help="notices per run (default: 300)")
    parser.add_argument("--delays", default="0,0.1,0.3", help="provider latencies in seconds (default: 0,0.1,0.3)")
    parser.add_argument("--runs", type=int, default=1, help="runs per latency; the median is reported")
    parser.add_argument("--senders", type=int, default=None, help="DISPATCH_SENDERS (default: the app's)")
    parser.add_argument("--mode", choices=("loop", "passes"), default="loop")
    args = parser.parse_args(argv)
    try:
        args.delays = [float(d) for d in args.delays.split(",") if d.strip()]
    except ValueError:
        parser.error("--delays must be comma-separated numbers of seconds")
    if args.notices < 1 or args.runs < 1 or not args.delays or min(args.delays) < 0:
        parser.error("--notices and --runs must be at least 1, --delays not negative")
    return args


def fill_outbox(app, people: dict, count: int, tag: str) -> None:
    from coenforce import clock
    from coenforce.db import db
    from coenforce.notify import enqueue_many
    with app.app_context():
        session = db.new_session(app)
        context = {"reference": "BENCH-1", "path": "/complaints/1",
                   "due_at": clock.iso(clock.now() + timedelta(hours=48)), "rung": "intake"}
        rows = [dict(organization_id=people["agency_id"], deadline_id=None, subject_type="complaint", subject_id=1,
                     kind="complaint_response.intake", recipient_id=people["supervisor_ids"][0], context=context,
                     dedupe_key=f"bench:{tag}:{n}") for n in range(count)]
        for start in range(0, count, 500):
            enqueue_many(session, rows[start:start + 500])
        session.commit()
        session.close()


def statuses(app) -> Counter:
    from sqlalchemy import func, select

    from coenforce.db import db
    from coenforce.notify.models import Notice
    with app.app_context():
        session = db.new_session(app, sqlite_begin="DEFERRED")
        counts = Counter(dict(session.execute(select(Notice.status, func.count()).group_by(Notice.status)).all()))
        session.close()
    return counts


def errors(app) -> Counter:
    """Why notices still wait (their last errors)."""
    from sqlalchemy import select

    from coenforce.db import db
    from coenforce.notify.models import Notice, NoticeStatus
    with app.app_context():
        session = db.new_session(app, sqlite_begin="DEFERRED")
        found = Counter(session.scalars(select(Notice.last_error).where(Notice.status != NoticeStatus.SENT)))
        session.close()
    return found


def drain(app, mode: str) -> dict:
    from coenforce.db import db
    with app.app_context():
        if mode == "loop":
            from coenforce.notify.dispatcher import Dispatcher
            dispatcher = Dispatcher(app)
            try:
                return dispatcher.run_until_idle()
            finally:
                dispatcher.close()
        from coenforce.notify.dispatcher import dispatch
        session = db.new_session(app)
        total: Counter = Counter()
        while True:
            counts = dispatch(session)
            total.update(counts)
            if not counts["claimed"]:
                session.close()
                return dict(total)


def main(argv=None) -> None:
    args = parse_args(argv)
    from coenforce import create_app
    from coenforce.db import db
    from tests.fake_sendgrid import FakeSendGrid

    with bench_database(args.database_url, "dispatch") as (url, database, _tmp):
        say(f"database: {database}; {args.notices} notices per run, mode {args.mode}")
        people = prepare_people(url)
        results: dict[str, list[float]] = {}
        senders = None
        for delay in args.delays:
            for run in range(1, args.runs + 1):
                fake = FakeSendGrid(delay=delay).start()
                overrides = {"DATABASE_URL": url, "SENDGRID_API_KEY": "SG.bench", "SENDGRID_HOST": fake.url}
                if args.senders:
                    overrides["DISPATCH_SENDERS"] = args.senders
                app = create_app(overrides)
                senders = app.config.get("DISPATCH_SENDERS", 1)
                fill_outbox(app, people, args.notices, f"{delay}:{run}")
                began = time.perf_counter()
                counts = drain(app, args.mode)
                elapsed = time.perf_counter() - began
                fake.stop()
                accepted = Counter(fake.sent_notice_ids())
                left = statuses(app)
                if len(accepted) != args.notices or set(accepted.values()) != {1} or left.get("pending") \
                        or left.get("sending"):
                    raise SystemExit(f"lost or doubled: {len(accepted)} distinct of {args.notices}, "
                                     f"repeats {sum(accepted.values()) - len(accepted)}, outbox {dict(left)}, "
                                     f"errors {dict(errors(app))}")
                db.engine_for(app).dispose()
                rate = args.notices / elapsed
                results.setdefault(str(delay), []).append(rate)
                say(f"provider {delay * 1000:5.0f} ms, run {run}: {args.notices} notices in {elapsed:6.2f} s = "
                    f"{rate:7.1f} notices/s ({counts.get('sent')} sent, {fake.connections} connections)")
        figures = {delay: round(sorted(rates)[len(rates) // 2], 1) for delay, rates in results.items()}
        at_100 = figures.get("0.1")
        if at_100 is not None:
            say(f"at 100 ms: {at_100} notices/s (goal: at least 50)")
        print(json.dumps({"database": database, "mode": args.mode, "notices": args.notices, "senders": senders,
                          "notices_per_second": figures,
                          "goal_met": None if at_100 is None else at_100 >= 50,
                          "load_average": [round(x, 2) for x in os.getloadavg()]}))


if __name__ == "__main__":
    main()
