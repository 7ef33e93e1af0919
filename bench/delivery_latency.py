"""From a request's 201 to the provider receiving the notice, with the scheduler running.

Serves coenforce (wsgi:app) with gunicorn and runs `flask scheduler` beside it, as
in production, with SendGrid pointed at a fake on 127.0.0.1 (tests/fake_sendgrid.py).
Files complaints through the API one at a time, at random gaps so filing does not
keep step with any poll, and times each from the 201 to the fake receiving its
intake notice. Prints each sample, and as its last line one JSON object with the
median, p99 and max in seconds.

Goal (issue 7): median under 1 s, p99 under 2 s. Against a dispatcher that polls every
N seconds (the old one: 5 s) give `--max-gap N`, so the filings do not keep step with it.

    .venv/bin/python bench/delivery_latency.py                      # a temporary SQLite file
    .venv/bin/python bench/delivery_latency.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/coenforce_bench   # a schema of its own
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time

from _common import bench_database, percentile, post_until_delivered, prepare_people, say, serving

BODY = {"employer_name": "Bench Packing", "retaliation_types": ["immigration_threat"],
        "description": "Threatened to call immigration after a wage claim."}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Seconds from a complaint's 201 to the provider receiving its "
                                                 "intake notice, with gunicorn and the scheduler running.")
    parser.add_argument("--database-url", default=os.environ.get("COENFORCE_DATABASE_URL"),
                        help="PostgreSQL URL to work in (a schema of its own is made and dropped); "
                             "default: a temporary SQLite file")
    parser.add_argument("--samples", type=int, default=40, help="complaints filed and timed (default: 40)")
    parser.add_argument("--max-gap", type=float, default=0.6,
                        help="a random pause of up to this many seconds after each delivery (default: 0.6)")
    parser.add_argument("--timeout", type=float, default=30.0, help="give up on one notice after this long")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default: 2)")
    args = parser.parse_args(argv)
    if args.samples < 1 or args.max_gap < 0 or args.workers < 1:
        parser.error("--samples and --workers must be at least 1, --max-gap not negative")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    from tests.fake_sendgrid import FakeSendGrid

    with bench_database(args.database_url, "latency") as (url, database, tmp):
        say(f"database: {database}")
        people = prepare_people(url)
        fake = FakeSendGrid().start()
        latencies: list[float] = []
        lost = 0
        try:
            with serving(url, tmp, fake.url, workers=args.workers, threads=2) as port:
                headers = {"Authorization": f"Bearer {people['token']}"}
                for n in range(args.samples + 1):  # the first one warms up and is not counted
                    latency = post_until_delivered(port, "/api/v1/complaints", BODY, headers, fake, 1, args.timeout)
                    if latency is None:
                        lost += 1
                        say(f"sample {n}: no notice within {args.timeout} s")
                        continue
                    if n:
                        latencies.append(latency)
                        say(f"sample {n}/{args.samples}: {latency * 1000:7.1f} ms")
                    time.sleep(random.uniform(0, args.max_gap))
        finally:
            fake.stop()

        figures = {"database": database, "samples": len(latencies), "lost": lost,
                   "median_s": round(statistics.median(latencies), 3) if latencies else None,
                   "p99_s": round(percentile(latencies, 99), 3) if latencies else None,
                   "max_s": round(max(latencies), 3) if latencies else None,
                   "min_s": round(min(latencies), 3) if latencies else None}
        figures["goal_met"] = bool(latencies) and not lost and figures["median_s"] < 1 and figures["p99_s"] < 2
        say(f"median {figures['median_s']} s, p99 {figures['p99_s']} s (goal: median < 1 s, p99 < 2 s)")
        print(json.dumps(figures | {"load_average": [round(x, 2) for x in os.getloadavg()]}))


if __name__ == "__main__":
    main()
