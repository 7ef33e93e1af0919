"""How fast the JSON API lists and files complaints, against the bare stack.

Serves coenforce (wsgi:app) and a bare Flask + SQLAlchemy app (bench/bare_app.py)
with gunicorn on the same database, then alternates timed runs of each:
first GET /complaints?limit=N (a page of N, over the complaints loaded), then
POST /complaints (filing one).
The app's escalation tick runs beside it (bench/_engine.py): it fires each
filing's intake notice, so its CPU is the filing's too, on the same cores.
Prints requests/s, p50/p95/p99 latency and the CPU time per request of the
servers, of the app's tick and, on PostgreSQL, of the database (read from /proc,
so it holds apart from the machine's other load) per run,
and as its last line one JSON object with the medians and the ratios app/bare.
Runs are short and made in pairs (app and bare back to back, in turns first);
each ratio is the median of the pairs' ratios, so a machine whose speed drifts
during the benchmark (a shared virtual machine does) moves both sides alike.

Goals (issue: lists at the speed of the stack): the list at least half the
bare stack's requests/s, filing at least a third of a bare insert's.

    .venv/bin/python bench/api.py                       # a temporary SQLite file
    COENFORCE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coenforce_bench \\
        .venv/bin/python bench/api.py --reset           # PostgreSQL (--reset empties it first)
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BODY = {"employer_name": "Bench Packing", "retaliation_types": ["immigration_threat"],
        "description": "Threatened to call immigration after a wage claim."}


def say(message: str) -> None:
    print(message, flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Requests/s of the complaints API against a bare Flask + "
                                                 "SQLAlchemy app on the same database, under gunicorn.")
    parser.add_argument("--complaints", type=int, default=1000, help="complaints loaded first (default: 1000)")
    parser.add_argument("--limit", type=int, default=50, help="items per list page (default: 50)")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each timed run (default: 2)")
    parser.add_argument("--runs", type=int, default=15, help="pairs of runs (app and bare back to back) of each kind; "
                                                            "medians reported (default: 15)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default: 4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per app (default: 2)")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker (default: 2)")
    parser.add_argument("--reset", action="store_true", help="empty the PostgreSQL database named by "
                                                             "COENFORCE_DATABASE_URL first")
    args = parser.parse_args(argv)
    if min(args.complaints, args.limit, args.runs, args.clients, args.workers, args.threads) < 1 or args.seconds <= 0:
        parser.error("every count must be at least 1 and --seconds positive")
    return args


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(url: str, complaints: int, reset: bool) -> tuple[str, int]:
    """Migrate, create an agency with people, load complaints; returns (token, agency id)."""
    from sqlalchemy import text

    from coenforce import create_app
    from coenforce.complaints.schemas import ComplaintIn
    from coenforce.complaints.service import open_complaint
    from coenforce.db import db, make_engine
    from coenforce.migrate import upgrade
    from coenforce.partners.schemas import OrganizationIn, PartnershipIn, UserIn
    from coenforce.partners.service import create_organization, create_partnership, create_user
    from coenforce.schemas import parse
    from coenforce.security.tokens import issue_token

    if reset and url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        session = db.new_session(app)
        if session.execute(text("SELECT count(*) FROM complaints")).scalar_one():
            sys.exit("the database holds complaints already: give an empty one, or --reset for PostgreSQL")
        agency = create_organization(session, parse(OrganizationIn, {"name": "Bench Labor Office", "kind": "agency"}))
        create_organization(session, parse(OrganizationIn, {"name": "Bench Worker Center", "kind": "partner"}))
        create_partnership(session, PartnershipIn(agency="Bench Labor Office", partner="Bench Worker Center"))
        people = {role: create_user(session, parse(UserIn, {
            "email": f"{role}@bench.example.org", "org": "Bench Labor Office", "role": role,
            "password": "bench-password-not-secret"})) for role in ("investigator", "supervisor", "agency_admin")}
        data = parse(ComplaintIn, BODY)
        for n in range(complaints):
            open_complaint(session, people["investigator"], data)
            if n % 500 == 499:
                session.commit()
                say(f"  {n + 1:,} complaints loaded")
        token = issue_token(session, people["investigator"])
        session.commit()
        if url.startswith("postgresql"):
            session.execute(text("ANALYZE"))  # autovacuum is off on this machine
            session.commit()
        agency_id = agency.id
        session.close()
    db.engine_for(app).dispose()
    return token, agency_id


def serve(args, env: dict, target: str, chdir: Path, port: int) -> subprocess.Popen:
    command = [str(ROOT / ".venv/bin/gunicorn"), "-w", str(args.workers), "-k", "gthread", "--threads",
               str(args.threads), "-b", f"127.0.0.1:{port}", "--chdir", str(chdir), "--log-level", "warning",
               target]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            if process.poll() is not None:
                sys.exit(f"gunicorn for {target} exited with {process.returncode}")
            time.sleep(0.1)
    sys.exit(f"gunicorn for {target} did not start")


def server_cpu_seconds(server: subprocess.Popen) -> float | None:
    """CPU time used so far by a gunicorn master and its workers (Linux /proc), so
    that each app's cost per request can be read apart from the machine's other load."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        pids = [server.pid] + [int(child) for task in Path(f"/proc/{server.pid}/task").iterdir()
                               for child in (task / "children").read_text().split()]
        total = 0
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick
    except (OSError, ValueError):
        return None


def database_cpu_seconds() -> float | None:
    """CPU time used so far by the PostgreSQL server's processes on this machine
    (Linux /proc): with the database on the same cores, its share of each request
    counts as much as the app's."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, fields = stat.read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, IndexError, ValueError):
            continue  # the process ended while being read
        if name == "postgres":
            fields = fields.split()
            total += int(fields[11]) + int(fields[12])
    return total / tick if total else None


def load(port: int, method: str, path: str, body: dict | None, headers: dict, expect: int,
         seconds: float, clients: int) -> dict:
    """`clients` keep-alive connections sending requests for `seconds`; their latencies."""
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    payload = json.dumps(body).encode() if body is not None else None
    sent_headers = {**headers, **({"Content-Type": "application/json"} if payload else {})}

    def client():
        mine, bad = [], []
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                conn.request(method, path, body=payload, headers=sent_headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            mine.append(time.perf_counter() - started)
            if status != expect:
                bad.append(status)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    ordered = sorted(latencies)

    def pct(p):
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000, 2) if ordered else None
    return {"requests": len(latencies), "rps": round(len(latencies) / elapsed, 1), "p50_ms": pct(50),
            "p95_ms": pct(95), "p99_ms": pct(99), "errors": len(errors),
            "error_statuses": sorted(set(errors))[:5]}


def main(argv=None) -> None:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="coenforce-bench-api-"))
    url = os.environ.get("COENFORCE_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    env = {**os.environ, "COENFORCE_ENV": "development", "COENFORCE_INSTANCE_DIR": str(tmp),
           "COENFORCE_DATABASE_URL": url}
    os.environ.update({"COENFORCE_ENV": "development", "COENFORCE_INSTANCE_DIR": str(tmp)})
    sys.path.insert(0, str(ROOT))
    database = url.split(":", 1)[0].split("+")[0]
    say(f"database: {database}; loading {args.complaints:,} complaints")
    token, agency_id = prepare(url, args.complaints, args.reset)
    env["BARE_AGENCY_ID"] = str(agency_id)
    app_port, bare_port = free_port(), free_port()
    servers = [serve(args, env, "wsgi:app", ROOT, app_port), serve(args, env, "bare_app:app", ROOT / "bench", bare_port)]
    # The app's escalation tick fires each filing's intake rung: it runs beside the app
    # (on the same cores) and its CPU counts with the app's (bench/_engine.py).
    engine = subprocess.Popen([sys.executable, str(ROOT / "bench/_engine.py")], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, start_new_session=True)
    servers.append(engine)
    auth = {"Authorization": f"Bearer {token}"}
    server_of = {app_port: servers[0], bare_port: servers[1]}
    kinds = {
        "bare_list": (bare_port, "GET", f"/complaints?limit={args.limit}", None, {}, 200),
        "app_list": (app_port, "GET", f"/api/v1/complaints?limit={args.limit}", None, auth, 200),
        "bare_file": (bare_port, "POST", "/complaints", BODY, {}, 201),
        "app_file": (app_port, "POST", "/api/v1/complaints", BODY, auth, 201),
    }
    results: dict[str, list[dict]] = {kind: [] for kind in kinds}
    try:
        # Lists first, then filing: filing adds thousands of rows a run, and the
        # lists are to be measured on the number of complaints loaded.
        for phase in (("bare_list", "app_list"), ("bare_file", "app_file")):
            for kind in phase:  # warm up: imports, connection pools, caches
                load(*kinds[kind], seconds=1.0, clients=args.clients)
            for run in range(1, args.runs + 1):
                # Each run is a pair, its order swapped every other run: a machine
                # whose speed drifts then weighs on both sides of the pair alike.
                for kind in (phase if run % 2 else phase[::-1]):
                    spec = kinds[kind]
                    def cpu():
                        return (server_cpu_seconds(server_of[spec[0]]), server_cpu_seconds(engine),
                                database_cpu_seconds())
                    cpu_before = cpu()
                    figures = load(*spec, seconds=args.seconds, clients=args.clients)
                    cpu_after = cpu()
                    for key, before, after in zip(("server_cpu_ms", "engine_cpu_ms", "database_cpu_ms"),
                                                  cpu_before, cpu_after):
                        figures[key] = (round((after - before) * 1000 / figures["requests"], 3)
                                        if before is not None and after is not None else None)
                    if kind.startswith("bare"):
                        figures["engine_cpu_ms"] = 0.0  # the bare app has no engine; the tick had nothing to do
                    results[kind].append(figures)
                    say(f"run {run}/{args.runs} {kind:9}: {figures['rps']:8.1f} req/s  p50 {figures['p50_ms']} ms  "
                        f"p95 {figures['p95_ms']} ms  p99 {figures['p99_ms']} ms  errors {figures['errors']}  "
                        f"CPU ms/request: server {figures['server_cpu_ms']}, engine {figures['engine_cpu_ms']}, "
                        f"database {figures['database_cpu_ms']}")
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

    def median(kind: str, key: str):
        return statistics.median(r[key] for r in results[kind])
    summary = {kind: {key: median(kind, key) for key in ("rps", "p50_ms", "p95_ms", "p99_ms", "server_cpu_ms", "engine_cpu_ms",
                                                        "database_cpu_ms")
                      if all(r[key] is not None for r in results[kind])} |
               {"errors": sum(r["errors"] for r in results[kind])} for kind in kinds}
    def ratio(what: str) -> float:
        """The median of the runs' ratios app/bare, each from one pair of runs made back to back."""
        return round(statistics.median(a["rps"] / b["rps"] for a, b in zip(results[f"app_{what}"],
                                                                             results[f"bare_{what}"])), 3)
    list_ratio, file_ratio = ratio("list"), ratio("file")
    say(f"list: app/bare = {list_ratio} (goal >= 0.5); filing: app/bare = {file_ratio} (goal >= 0.333)"
        " (medians of the pairs' ratios)")
    print(json.dumps({"database": database, "complaints": args.complaints, "limit": args.limit,
                      "seconds": args.seconds, "runs": args.runs, "clients": args.clients,
                      "workers": args.workers, "threads": args.threads, **summary,
                      "list_ratio": list_ratio, "list_goal_met": list_ratio >= 0.5,
                      "file_ratio": file_ratio, "file_goal_met": file_ratio >= 1 / 3,
                      "load_average": [round(x, 2) for x in os.getloadavg()]}))


if __name__ == "__main__":
    main()
