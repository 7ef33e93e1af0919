"""A raid's surge: many detained-worker alerts at once from concurrent clients.

Serves coenforce with gunicorn and its scheduler process against the database,
SendGrid pointed at a fake answering in 100 ms. N clients raise alerts as fast as
they can (1,000 in all by default, about 1.5 times the largest single-site raids),
then the run waits for every notice to reach the provider. Prints throughput,
p95 latency, errors, alerts stored, notices sent and duplicates, and as its last
line one JSON object.

Goal (issue: detained-worker alerts), on PostgreSQL: no error, nothing lost, no
duplicate notice, p95 under 500 ms.

    .venv/bin/python bench/raid_surge.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/coenforce_bench
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import threading
import time
from collections import Counter

from _alerts import ALERT, prepare_partnership
from _common import bench_database, percentile, say, serving


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Throughput and latency of many alerts from concurrent clients.")
    parser.add_argument("--database-url", default=os.environ.get("COENFORCE_DATABASE_URL"),
                        help="PostgreSQL URL to work in (a schema of its own); default: a temporary SQLite file")
    parser.add_argument("--alerts", type=int, default=1000, help="alerts in all (default: 1000)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default: 20)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default: 2)")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker (default: 8)")
    parser.add_argument("--provider-ms", type=float, default=100.0, help="the fake provider's answer time")
    parser.add_argument("--drain-timeout", type=float, default=600.0, help="seconds to wait for every notice")
    args = parser.parse_args(argv)
    if min(args.alerts, args.clients, args.workers, args.threads) < 1:
        parser.error("counts must be at least 1")
    return args


def count_alerts(url: str) -> int:
    from sqlalchemy import func, select

    from coenforce.db import make_engine
    from coenforce.detentions.models import DetentionAlert
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(DetentionAlert)).scalar()
    finally:
        engine.dispose()


def main(argv=None) -> None:
    args = parse_args(argv)
    from tests.fake_sendgrid import FakeSendGrid

    with bench_database(args.database_url, "surge") as (url, database, tmp):
        say(f"database: {database}")
        people = prepare_partnership(url)
        fake = FakeSendGrid(delay=args.provider_ms / 1000).start()
        latencies: list[float] = []
        errors: Counter = Counter()
        lock = threading.Lock()
        try:
            with serving(url, tmp, fake.url, workers=args.workers, threads=args.threads) as port:
                headers = {"Authorization": f"Bearer {people['token']}", "Content-Type": "application/json"}
                payload = json.dumps({**ALERT, "partner_ids": [people["partner_id"]]}).encode()
                shares = [args.alerts // args.clients + (1 if i < args.alerts % args.clients else 0)
                          for i in range(args.clients)]

                def client(count: int) -> None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    for _ in range(count):
                        started = time.perf_counter()
                        try:
                            conn.request("POST", "/api/v1/detentions", body=payload, headers=headers)
                            response = conn.getresponse()
                            response.read()
                            status = response.status
                        except (OSError, http.client.HTTPException) as exc:
                            status = type(exc).__name__
                            conn.close()
                            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                        with lock:
                            latencies.append(time.perf_counter() - started)
                            if status != 201:
                                errors[str(status)] += 1
                    conn.close()

                started = time.perf_counter()
                threads = [threading.Thread(target=client, args=(n,)) for n in shares]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                elapsed = time.perf_counter() - started
                say(f"{len(latencies)} requests in {elapsed:.1f} s ({len(latencies) / elapsed:.1f}/s), "
                    f"errors: {dict(errors) or 'none'}")
                expected = (args.alerts - sum(errors.values())) * people["notices_per_alert"]
                deadline = time.monotonic() + args.drain_timeout
                while len(fake.requests) < expected and time.monotonic() < deadline:
                    time.sleep(0.05)  # waiting on the provider's record, with a deadline
                drained = time.perf_counter() - started
                # Let a stray duplicate show up before counting.
                time.sleep(2)
        finally:
            fake.stop()
        ids = Counter(r.notice_id for r in fake.requests if r.status in (200, 202))
        figures = {
            "database": database, "alerts_sent": args.alerts, "clients": args.clients,
            "throughput_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 50) * 1000, 1), "p95_ms": round(percentile(latencies, 95) * 1000, 1),
            "errors": sum(errors.values()), "alerts_stored": count_alerts(url),
            "notices_expected": expected, "notices_sent": len(ids), "duplicates": sum(n - 1 for n in ids.values()),
            "all_notices_delivered_s": round(drained, 1), "provider_ms": args.provider_ms,
        }
        figures["goal_met"] = (figures["errors"] == 0 and figures["alerts_stored"] == args.alerts
                               and figures["notices_sent"] == expected and figures["duplicates"] == 0
                               and figures["p95_ms"] < 500)
        say(f"p95 {figures['p95_ms']} ms, stored {figures['alerts_stored']}, notices {figures['notices_sent']}/"
            f"{expected}, duplicates {figures['duplicates']}")
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
