"""The public intake in a real browser, as a worker on a small phone with
JavaScript off: report an employer in Spanish, keep the receipt code, and
read the agency's answer with it later."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from coenforce.thirdparty.models import ThirdPartyReport

from tests.conftest import db_read


@pytest.fixture
def phone(chromium, live_server):
    context = chromium.new_context(base_url=live_server, locale="es-MX", java_script_enabled=False,
                                   viewport={"width": 360, "height": 640}, is_mobile=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        yield page, requests, live_server
    finally:
        context.close()


def test_a_worker_reports_on_a_phone_without_javascript_and_reads_the_answer(phone, world, api, session):
    page, requests, origin = phone
    page.goto("/report/")
    assert page.locator("h1").inner_text() == "Denunciar a un empleador"  # the phone's language
    page.select_option("select[name=agency_id]", str(world.agency.id))
    page.fill("input[name=employer_name]", "Taller La Esperanza")
    page.fill("input[name=area]", "Condado de Fresno")
    page.check("input[name=violation_types][value=wage_theft]")
    page.fill("textarea[name=description]", "No pagan horas extra desde marzo.")
    page.click("input[type=submit]")
    code = page.locator("[data-testid=receipt]").inner_text()
    assert len(code.replace("-", "")) == 16
    assert all(url.startswith(origin) for url in requests)  # nothing loaded from another host

    with db_read() as s:
        report_id = s.scalar(select(ThirdPartyReport.id).where(ThirdPartyReport.employer_name == "Taller La Esperanza"))
    assert api(world.admin).post(f"/third-party-complaints/{report_id}/decision", json={
        "decision": "queue", "public_reply": "Gracias. Revisaremos a este empleador."}).status_code == 200

    page.goto("/report/status")
    page.fill("input[name=code]", code)
    page.click("input[type=submit]")
    status = page.locator("[data-testid=status]").inner_text()
    assert "En la cola de aplicación estratégica" in status and "Revisaremos a este empleador" in status
    assert "Taller La Esperanza" not in page.content()
