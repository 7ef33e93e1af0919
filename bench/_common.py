"""Shared by the benchmarks that serve the app: a database of their own (a temporary
SQLite file, or a schema of its own inside a PostgreSQL database, dropped at the end),
an agency with people, the app under gunicorn with its scheduler process, and timing a
request until the fake SendGrid from the tests has received its notices."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def say(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def bench_database(url: str | None, name: str):
    """Yield (url, kind, tmpdir). PostgreSQL: a schema named after the bench and pid,
    so other benchmarks and test runs in the same database are not touched."""
    tmp = Path(tempfile.mkdtemp(prefix=f"coenforce-bench-{name}-"))
    os.environ.update({"COENFORCE_ENV": "development", "COENFORCE_INSTANCE_DIR": str(tmp)})
    if not url:
        yield f"sqlite:///{tmp / 'bench.db'}", "sqlite", tmp
        return
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from coenforce.db import make_engine
    schema = f"coenforce_bench_{name}_{os.getpid()}"
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = make_engine(parsed.render_as_string(hide_password=False))
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    scoped = parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    try:
        yield scoped, "postgresql", tmp
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


def prepare_people(url: str, supervisors: int = 1) -> dict:
    """Migrate; an agency with an investigator, `supervisors` supervisors and an admin;
    an API token for the investigator. Returns ids and the token."""
    from coenforce import create_app
    from coenforce.db import db
    from coenforce.migrate import upgrade
    from coenforce.partners.schemas import OrganizationIn, UserIn
    from coenforce.partners.service import create_organization, create_user
    from coenforce.schemas import parse
    from coenforce.security.tokens import issue_token

    upgrade(url)
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        session = db.new_session(app)
        agency = create_organization(session, parse(OrganizationIn, {"name": "Bench Labor Office", "kind": "agency"}))

        def person(role: str, n: int = 0):
            return create_user(session, parse(UserIn, {
                "email": f"{role}{n}@bench.example.org", "org": "Bench Labor Office", "role": role,
                "password": "bench-password-not-secret"}))
        investigator = person("investigator")
        bosses = [person("supervisor", n) for n in range(supervisors)]
        person("agency_admin")
        token = issue_token(session, investigator)
        session.commit()
        result = {"agency_id": agency.id, "investigator_id": investigator.id,
                  "supervisor_ids": [b.id for b in bosses], "token": token}
        session.close()
    db.engine_for(app).dispose()
    return result


def wait_for_port(port: int, process: subprocess.Popen, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if process.poll() is not None:
                sys.exit(f"{what} exited with {process.returncode}")
            time.sleep(0.05)
    sys.exit(f"{what} did not start")


def percentile(values: list[float], p: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


@contextmanager
def serving(url: str, tmp, fake_url: str, workers: int = 2, threads: int = 4):
    """gunicorn and `flask scheduler` on the database, SendGrid pointed at the fake; yields the port."""
    env = {**os.environ, "COENFORCE_ENV": "development", "COENFORCE_INSTANCE_DIR": str(tmp),
           "COENFORCE_DATABASE_URL": url, "SENDGRID_API_KEY": "SG.bench", "COENFORCE_SENDGRID_HOST": fake_url,
           "PYTHONUNBUFFERED": "1"}
    port = free_port()
    log = open(tmp / "processes.log", "w")
    web = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "-k", "gthread",
                            "--threads", str(threads), "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT),
                            "--log-level", "warning", "wsgi:app"],
                           env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    scheduler = subprocess.Popen([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "scheduler"], cwd=ROOT,
                                 env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, web, "gunicorn")
        yield port
    finally:
        for process in (web, scheduler):
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in (web, scheduler):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log.close()


def post_until_delivered(port: int, path: str, body: dict, headers: dict, fake, notices: int,
                         timeout: float) -> float | None:
    """POST `body` (expecting 201), then wait until the fake provider has received
    `notices` more requests; seconds from the response to the last of them, or
    None if they did not all arrive within `timeout`."""
    expected = len(fake.requests) + notices
    # A new connection each time: gunicorn closes idle ones after 2 s.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, body=json.dumps(body).encode(), headers={**headers, "Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    answered = time.time()
    conn.close()
    if response.status != 201:
        sys.exit(f"POST {path} answered {response.status}")
    deadline = time.monotonic() + timeout
    while len(fake.requests) < expected and time.monotonic() < deadline:
        time.sleep(0.005)  # polling the fake's record: waiting on I/O, with a deadline
    if len(fake.requests) < expected:
        return None
    return max(r.received_at for r in fake.requests[expected - notices:expected]) - answered
