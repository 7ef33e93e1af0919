"""How fast the strategic-enforcement queue's first page is with a large history.

Loads one agency with N employers and M third-party reports (and a retaliation
complaint for every tenth employer), builds the queue's evidence with the
app's own rebuild (`queue.refresh`), then times, alternating:

  page      GET /strategic/ through the app (signed in, rendered), first page
  filtered  the same with an industry and an area filter
  bare      the same ranking as one SQL statement with SQLAlchemy Core, no app
  naive     ranking straight from the reports with GROUP BY (what the evidence table avoids)

and counts the statements a page request sends, at two sizes of the data
(they must not grow with the rows). Prints medians and, as its last line, one
JSON object.

Goal (issue: strategic enforcement queue): the first page under 500 ms with
100,000 employers and 1,000,000 reports, on SQLite and PostgreSQL.

    .venv/bin/python bench/strategic_queue.py                  # a temporary SQLite file
    COENFORCE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coenforce_bench \\
        .venv/bin/python bench/strategic_queue.py --reset      # PostgreSQL
"""
from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pyotp  # noqa: E402
from sqlalchemy import event, func, select, text  # noqa: E402

from escalation import loader_engine, prepare_database, say  # noqa: E402

from coenforce import clock, create_app  # noqa: E402
from coenforce.complaints.models import Complaint  # noqa: E402
from coenforce.db import db  # noqa: E402
from coenforce.migrate import upgrade  # noqa: E402
from coenforce.partners import service as partners  # noqa: E402
from coenforce.partners.schemas import OrganizationIn, PartnershipIn, UserIn  # noqa: E402
from coenforce.schemas import parse  # noqa: E402
from coenforce.thirdparty import queue  # noqa: E402
from coenforce.thirdparty.models import EmployerEvidence, ThirdPartyReport  # noqa: E402
from coenforce.thirdparty.types import Industry, ReportStatus  # noqa: E402

PASSWORD = "bench password for the strategic queue"
AREAS = [f"County {n}" for n in range(58)]
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time the strategic queue's first page with a large history.")
    parser.add_argument("--employers", type=int, default=100_000, help="employers (default: 100,000)")
    parser.add_argument("--reports", type=int, default=1_000_000, help="third-party reports (default: 1,000,000)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each kind, alternated (default: 7)")
    parser.add_argument("--chunk", type=int, default=20_000, help="rows per insert batch (default: 20,000)")
    parser.add_argument("--seed", type=int, default=20261203, help="random seed (default: fixed)")
    parser.add_argument("--reset", action="store_true",
                        help="wipe the database at COENFORCE_DATABASE_URL first (see bench/escalation.py)")
    args = parser.parse_args(argv)
    if min(args.employers, args.reports, args.runs, args.chunk) < 1:
        parser.error("every count must be at least 1")
    return args


def setup_people(app) -> dict:
    """One agency with a supervisor (signs in with a password and a code), and ten partners."""
    with app.app_context():
        return _people(app)


def _people(app) -> dict:
    session = db.new_session(app)
    agency = partners.create_organization(session, parse(OrganizationIn, {
        "name": "Bench Labor Office", "kind": "agency"}))
    partner_ids = []
    for n in range(10):
        partner = partners.create_organization(session, parse(OrganizationIn, {
            "name": f"Bench Worker Center {n}", "kind": "partner"}))
        partners.create_partnership(session, PartnershipIn(agency=agency.name, partner=partner.name))
        partner_ids.append(partner.id)
    supervisor = partners.create_user(session, parse(UserIn, {
        "email": "supervisor@bench.example.org", "org": agency.name, "role": "supervisor", "password": PASSWORD}))
    secret = pyotp.random_base32()
    supervisor.totp_secret = secret
    supervisor.totp_enabled_at = clock.now()
    session.commit()
    people = {"agency": agency.id, "partners": partner_ids, "supervisor": supervisor.id,
              "email": supervisor.email, "secret": secret}
    session.close()
    return people


def load_reports(engine, people: dict, args, first_id: int, count: int, employers: int) -> None:
    """`count` reports spread over `employers` employers (a few employers get many)."""
    rng = random.Random(args.seed + first_id)
    now = clock.now()
    industries = list(Industry)
    statuses = [ReportStatus.RECEIVED] * 5 + [ReportStatus.QUEUED] * 3 + [ReportStatus.DECLINED] * 2
    started = time.perf_counter()
    with engine.connect() as conn:
        for start in range(first_id, first_id + count, args.chunk):
            rows = []
            for rid in range(start, min(start + args.chunk, first_id + count)):
                employer = min(int(rng.paretovariate(1.2)) - 1, employers - 1) if rid % 3 == 0 else \
                    rng.randrange(employers)
                received = now - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
                rows.append({
                    "id": rid, "agency_id": people["agency"], "source": "partner" if rid % 4 else "public",
                    "filed_by_org_id": rng.choice(people["partners"]) if rid % 4 else None,
                    "employer_name": f"Employer {employer:06d} LLC", "employer_key": f"employer {employer:06d}",
                    "area": AREAS[employer % len(AREAS)], "industry": industries[employer % len(industries)],
                    "workers_affected": rng.choice([None, 3, 8, 15, 40, 120]), "description": "Bench report.",
                    "can_connect_workers": rid % 2 == 0, "status": rng.choice(statuses), "received_at": received,
                    "created_at": received})
            with conn.begin():
                conn.execute(ThirdPartyReport.__table__.insert(), rows)
            done = min(start + args.chunk, first_id + count) - first_id
            if done % 200_000 < args.chunk or done == count:
                say(f"  reports: {done:,}/{count:,} loaded, {time.perf_counter() - started:.1f} s")
        complaints = [{"agency_id": people["agency"], "filed_by_org_id": people["agency"],
                       "employer_name": f"Employer {e:06d} LLC", "employer_key": f"employer {e:06d}",
                       "description": "Bench complaint.", "language": "en", "workers_affected": 2,
                       "received_at": now - timedelta(days=e % 400), "status": "open", "created_at": now}
                      for e in range(0, employers, 10)]
        with conn.begin():
            for start in range(0, len(complaints), args.chunk):
                conn.execute(Complaint.__table__.insert(), complaints[start:start + args.chunk])


def analyze(engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('third_party_complaints', 'id'), "
                              "(SELECT coalesce(max(id), 1) FROM third_party_complaints))"))
        conn.execute(text("ANALYZE"))


def signed_in_client(app, people: dict):
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": people["email"], "password": PASSWORD, "csrf_token": token})
    token = CSRF.search(client.get("/login/code").get_data(as_text=True)).group(1)
    response = client.post("/login/code", data={"code": pyotp.TOTP(people["secret"]).now(), "csrf_token": token})
    assert response.status_code == 302 and not response.headers["Location"].endswith("/login/code"), \
        "could not sign in"
    return client


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def statements_of(app, run) -> int:
    """Statements of the second of two calls (the first may refresh the sign-in's last-seen time)."""
    run()
    sent = []
    engine = db.engine_for(app)

    def count(*_args):
        sent.append(1)
    event.listen(engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(sent)


def main(argv=None) -> int:
    args = parse_args(argv)
    url, _tmp = prepare_database(args)
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False})
    return measure(app, url, args)


def measure(app, url: str, args) -> int:
    engine = loader_engine(url)
    people = setup_people(app)
    client = signed_in_client(app, people)

    def page(path="/strategic/"):
        response = client.get(path)
        assert response.status_code == 200, response.status_code
        return response

    def rebuild() -> float:
        with app.app_context():
            session = db.new_session(app)
            started = time.perf_counter()
            rows = queue.refresh(session, people["agency"])
            session.commit()
            session.close()
        say(f"  evidence rebuilt: {rows:,} employers in {time.perf_counter() - started:.1f} s")
        return time.perf_counter() - started

    # A small history first: the statement count of a page must not grow with the data.
    small_reports = min(1_000, args.reports)
    say(f"loading a small history ({small_reports:,} reports) ...")
    load_reports(engine, people, args, 1, small_reports, min(args.employers, 100))
    rebuild()
    small_statements = statements_of(app, page)
    say(f"loading {args.reports - small_reports:,} more reports over {args.employers:,} employers ...")
    load_reports(engine, people, args, small_reports + 1, args.reports - small_reports, args.employers)
    rebuild_seconds = rebuild()
    analyze(engine)
    with app.app_context(), db.new_session(app) as session:
        employers = session.scalar(select(func.count()).select_from(EmployerEvidence))
        reports = session.scalar(select(func.count()).select_from(ThirdPartyReport))
    say(f"queue: {employers:,} employers from {reports:,} reports")
    large_statements = statements_of(app, page)
    first_page = page().get_data(as_text=True)
    assert first_page.count('<tr data-key="') == 50, "the first page should list 50 employers"

    with app.app_context():
        now = clock.now()
    score = queue.score_sql(now).label("score")
    bare_query = (select(EmployerEvidence.employer_key, EmployerEvidence.employer_name, score)
                  .where(EmployerEvidence.agency_id == people["agency"],
                         EmployerEvidence.investigation_opened_at.is_(None))
                  .order_by(score.desc(), EmployerEvidence.last_evidence_at.desc(), EmployerEvidence.employer_key)
                  .limit(50))
    naive_query = (select(ThirdPartyReport.employer_key, func.count().label("n"))
                   .where(ThirdPartyReport.agency_id == people["agency"],
                          ThirdPartyReport.status != ReportStatus.DECLINED)
                   .group_by(ThirdPartyReport.employer_key).order_by(text("n DESC")).limit(50))

    def bare():
        with engine.connect() as conn:
            conn.execute(bare_query).all()
            conn.execute(select(func.count()).select_from(EmployerEvidence)
                         .where(EmployerEvidence.agency_id == people["agency"])).scalar()

    def naive():
        with engine.connect() as conn:
            conn.execute(naive_query).all()

    industry = list(Industry)[3]
    filtered_path = f"/strategic/?industry={industry.value}&area=county+7"
    kinds = {"page": page, "filtered": lambda: page(filtered_path), "bare": bare, "naive": naive}
    times: dict[str, list[float]] = {k: [] for k in kinds}
    page()  # warm caches once
    for run in range(args.runs):
        for name, call in kinds.items():
            times[name].append(timed(call))
        say(f"  run {run + 1}: " + ", ".join(f"{k} {v[-1]:.1f} ms" for k, v in times.items()))
    medians = {k: round(statistics.median(v), 1) for k, v in times.items()}
    say(f"median first page: {medians['page']} ms (goal < 500 ms); filtered {medians['filtered']} ms; "
        f"bare SQL {medians['bare']} ms; naive GROUP BY {medians['naive']} ms")
    say(f"statements per page: {small_statements} with {small_reports:,} reports, {large_statements} with "
        f"{reports:,}")
    print(json.dumps({
        "database": engine.dialect.name, "employers": employers, "reports": reports,
        "first_page_ms": medians["page"], "filtered_page_ms": medians["filtered"], "bare_sql_ms": medians["bare"],
        "naive_group_by_ms": medians["naive"], "rebuild_seconds": round(rebuild_seconds, 1),
        "statements_small": small_statements, "statements_large": large_statements,
        "goal_ms": 500, "goal_met": medians["page"] < 500 and small_statements == large_statements,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
