"""The public intake: anyone reports an employer without an account; nothing
about the reporter is kept (no address, no browser, in any table or log); a
receipt code shows the status and the agency's reply and nothing else."""
from __future__ import annotations

import logging
import re

from sqlalchemy import func, inspect, select, text

from coenforce.thirdparty.models import ThirdPartyReport

from tests.conftest import csrf_token, db_read

ADDRESS = "203.0.113.77"
BROWSER = "CanaryPhone/9.1 (UniqueAgent-7f3a)"
ENVIRON = {"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": BROWSER}
FORM = {"employer_name": "Sunrise Car Wash", "violation_types": ["wage_theft", "health_and_safety"],
        "description": "Workers are paid in cash below the minimum wage and handle acid without gloves.",
        "workers_affected": "12", "industry": "car_washes", "area": "Oakland"}


def submit(client, form=FORM, lang="en"):
    token = csrf_token(client, f"/report/?lang={lang}")
    return client.post(f"/report/?lang={lang}", data={**form, "csrf_token": token}, environ_base=ENVIRON)


def receipt_of(response) -> str:
    match = re.search(r'data-testid="receipt"><strong>([A-Z0-9-]+)</strong>', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:1000]
    return match.group(1)


def every_stored_value(session) -> str:
    """Every value of every column of every table, as one text."""
    values = []
    with db_read() as s:
        for table in inspect(s.get_bind()).get_table_names():
            for row in s.execute(text(f'SELECT * FROM "{table}"')):
                values += [str(v) for v in row]
    return "\n".join(values)


def test_a_report_keeps_no_address_or_browser_anywhere(app, client, world, session, caplog):
    caplog.set_level(logging.DEBUG)
    page = client.get("/report/", environ_base=ENVIRON)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script" not in html  # plain forms: works on any phone without JavaScript
    assert 'name="name"' not in html and 'type="email"' not in html and 'type="tel"' not in html
    response = submit(client, {**FORM, "agency_id": str(world.agency.id)})
    assert response.status_code == 200
    code = receipt_of(response)
    with db_read() as s:
        report = s.scalar(select(ThirdPartyReport))
    assert (report.source, report.filed_by_org_id, report.filed_by_user_id) == ("public", None, None)
    stored = every_stored_value(session)
    assert "Sunrise Car Wash" in stored  # the scan reads what was stored...
    for canary in (ADDRESS, BROWSER, "UniqueAgent", code, code.replace("-", "")):
        assert canary not in stored  # ...and finds nothing about the reporter, nor the code itself
        assert canary not in caplog.text


def test_the_development_servers_request_log_leaves_the_address_out():
    from coenforce.thirdparty.public import _NoClientAddress
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1,
                               f'{ADDRESS} - - [03/Dec/2026 10:00:00] "%s" %s %s', ("POST /report/ HTTP/1.1", 200, "-"),
                               None)
    assert _NoClientAddress().filter(record)
    assert ADDRESS not in record.getMessage() and "POST /report/" in record.getMessage()


def test_the_receipt_shows_status_and_reply_and_nothing_else(app, client, api, world, session):
    code = receipt_of(submit(client, {**FORM, "agency_id": str(world.agency.id)}))
    token = csrf_token(client, "/report/status")
    before = client.post("/report/status", data={"code": code.lower(), "csrf_token": token}).get_data(as_text=True)
    assert "Received: awaiting acknowledgement" in before and "State Labor Office" in before
    for private in ("Sunrise", "acid", "Oakland", "Wage theft"):
        assert private not in before
    with db_read() as s:
        report_id = s.scalar(select(ThirdPartyReport.id))
    reply = "Thank you. An inspection is planned; we cannot share more."
    decided = api(world.supervisor).post(f"/third-party-complaints/{report_id}/decision", json={
        "decision": "investigate", "case_reference": "WC-2026-7", "reason": "Internal note for staff",
        "public_reply": reply})
    assert decided.status_code == 200
    after = client.post("/report/status", data={"code": code, "csrf_token": token}).get_data(as_text=True)
    assert "Investigation opened" in after and reply in after
    assert "WC-2026-7" not in after and "Internal note" not in after
    unknown = client.post("/report/status", data={"code": "AAAA-BBBB-CCCC-DDDD", "csrf_token": token})
    assert unknown.status_code == 404 and "No report has this receipt code" in unknown.get_data(as_text=True)


def test_bad_input_is_refused_and_writes_nothing(client, world, session):
    bad = submit(client, {**FORM, "agency_id": str(world.agency.id), "violation_types": [], "employer_name": "",
                          "workers_affected": "lots"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert html.count('class="error"') >= 3 and "Sunrise" not in html.split("<form")[0]
    # Two agencies use the app: the reporter must choose one.
    unchosen = submit(client)
    assert unchosen.status_code == 422 and "This field is required." in unchosen.get_data(as_text=True)
    with db_read() as s:
        assert s.scalar(select(func.count()).select_from(ThirdPartyReport)) == 0


def test_the_intake_is_rate_limited_per_address(app, client, world):
    form = {**FORM, "agency_id": str(world.agency.id)}
    statuses = [submit(client, form).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    # Another address is counted apart.
    token = csrf_token(client, "/report/")
    other = client.post("/report/", data={**form, "csrf_token": token},
                        environ_base={"REMOTE_ADDR": "198.51.100.4"})
    assert other.status_code == 200


def test_the_intake_speaks_spanish(client, world):
    page = client.get("/report/?lang=es").get_data(as_text=True)
    assert "Denunciar a un empleador" in page and "Robo de salario" in page
    response = submit(client, {**FORM, "agency_id": str(world.agency.id)}, lang="es")
    assert "Su código de recibo" in response.get_data(as_text=True)
