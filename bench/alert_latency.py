"""From a detained-worker alert's 201 to the provider receiving every one of its notices.

Serves coenforce with gunicorn and its scheduler process, as in production, with
SendGrid pointed at a fake on 127.0.0.1 that answers in 100 ms. Raises alerts one
after another (each tells the agency's and the partner's points of contact and the
supervisors) and times each from its 201 to the fake receiving the last of its
notices. Prints each sample, and as its last line one JSON object.

Goal (issue: detained-worker alerts): median under 1 s, p99 under 2 s, on SQLite and PostgreSQL.

    .venv/bin/python bench/alert_latency.py
    .venv/bin/python bench/alert_latency.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/coenforce_bench
"""
from __future__ import annotations

import argparse
import json
import os
import statistics

from _alerts import ALERT, prepare_partnership
from _common import bench_database, percentile, post_until_delivered, say, serving


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Seconds from an alert's 201 to the provider receiving all of "
                                                 "its notices, with gunicorn and the scheduler running.")
    parser.add_argument("--database-url", default=os.environ.get("COENFORCE_DATABASE_URL"),
                        help="PostgreSQL URL to work in (a schema of its own); default: a temporary SQLite file")
    parser.add_argument("--alerts", type=int, default=200, help="alerts raised one after another (default: 200)")
    parser.add_argument("--provider-ms", type=float, default=100.0, help="the fake provider's answer time")
    parser.add_argument("--timeout", type=float, default=30.0, help="give up on one alert after this long")
    args = parser.parse_args(argv)
    if args.alerts < 1 or args.provider_ms < 0:
        parser.error("--alerts must be at least 1 and --provider-ms not negative")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    from tests.fake_sendgrid import FakeSendGrid

    with bench_database(args.database_url, "alerts") as (url, database, tmp):
        say(f"database: {database}")
        people = prepare_partnership(url)
        per_alert = people["notices_per_alert"]
        fake = FakeSendGrid(delay=args.provider_ms / 1000).start()
        latencies: list[float] = []
        lost = 0
        try:
            with serving(url, tmp, fake.url) as port:
                headers = {"Authorization": f"Bearer {people['token']}"}
                body = {**ALERT, "partner_ids": [people["partner_id"]]}
                for n in range(args.alerts + 1):  # the first warms up and is not counted
                    latency = post_until_delivered(port, "/api/v1/detentions", body, headers, fake, per_alert,
                                                   args.timeout)
                    if latency is None:
                        lost += 1
                        say(f"alert {n}: not all notices within {args.timeout} s")
                        continue
                    if n:
                        latencies.append(latency)
                        if n % 20 == 0:
                            say(f"alert {n}/{args.alerts}: {latency * 1000:7.1f} ms")
        finally:
            fake.stop()
        figures = {"database": database, "alerts": len(latencies), "notices_per_alert": per_alert, "lost": lost,
                   "provider_ms": args.provider_ms,
                   "median_s": round(statistics.median(latencies), 3) if latencies else None,
                   "p99_s": round(percentile(latencies, 99), 3) if latencies else None,
                   "max_s": round(max(latencies), 3) if latencies else None}
        figures["goal_met"] = bool(latencies) and not lost and figures["median_s"] < 1 and figures["p99_s"] < 2
        say(f"median {figures['median_s']} s, p99 {figures['p99_s']} s (goal: median < 1 s, p99 < 2 s)")
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
