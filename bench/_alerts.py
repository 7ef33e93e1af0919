"""Shared by bench/alert_latency.py and bench/raid_surge.py: an agency and a partner
with both points of contact named, the app under gunicorn with its scheduler
process, and the fake SendGrid from the tests answering after a delay."""
from __future__ import annotations

import os
import signal
import subprocess
from contextlib import contextmanager

from _common import ROOT, free_port, wait_for_port

ALERT = {"worker_name": "Bench Worker", "a_number": "A012345678", "country": "MX", "detained_where": "raid",
         "facility": "Bench Processing Center", "family_contact": "Bench family contact"}


def prepare_partnership(url: str, supervisors: int = 2) -> dict:
    """Migrate; an agency (supervisors, an admin, an investigator who raises alerts)
    and a partner with a liaison, both points of contact named. Each alert then
    tells the two points of contact and the supervisors."""
    from coenforce import create_app
    from coenforce.db import db
    from coenforce.migrate import upgrade
    from coenforce.partners.models import OrgKind
    from coenforce.partners.schemas import ContactIn, OrganizationIn, PartnershipIn, UserIn
    from coenforce.partners.service import create_organization, create_partnership, create_user, set_contact
    from coenforce.schemas import parse
    from coenforce.security.tokens import issue_token

    upgrade(url)
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        session = db.new_session(app)
        agency = create_organization(session, parse(OrganizationIn, {"name": "Bench Labor Office", "kind": "agency"}))
        partner = create_organization(session, parse(OrganizationIn, {"name": "Bench Worker Center",
                                                                      "kind": "partner"}))
        partnership = create_partnership(session, PartnershipIn(agency=agency.name, partner=partner.name))

        def person(org, role: str, n: int = 0):
            return create_user(session, parse(UserIn, {
                "email": f"{role}{n}@bench.example.org", "org": org.name, "role": role,
                "password": "bench-password-not-secret"}))
        investigator = person(agency, "investigator")
        contact = person(agency, "investigator", 1)
        for n in range(supervisors):
            person(agency, "supervisor", n)
        person(agency, "agency_admin")
        liaison = person(partner, "liaison")
        set_contact(session, None, partnership, OrgKind.AGENCY, ContactIn(contact_id=contact.id))
        set_contact(session, None, partnership, OrgKind.PARTNER, ContactIn(contact_id=liaison.id))
        token = issue_token(session, investigator)
        session.commit()
        result = {"agency_id": agency.id, "partner_id": partner.id, "token": token,
                  "notices_per_alert": 2 + supervisors}
        session.close()
    db.engine_for(app).dispose()
    return result


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
