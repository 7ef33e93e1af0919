"""A partner liaison raises a detained-worker alert from a phone in a real
browser: the form, the alert page with the masked A-Number, the tasks, and
acknowledging it; nothing is loaded from another host."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from coenforce.notify.models import Notice

from tests.conftest import PASSWORD, db_read


@pytest.fixture
def phone(chromium, live_server):
    context = chromium.new_context(base_url=live_server, locale="en-US", timezone_id="America/Los_Angeles",
                                   viewport={"width": 360, "height": 720}, is_mobile=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        yield page, requests, live_server
    finally:
        context.close()


@pytest.mark.browser
def test_a_liaison_raises_an_alert_from_a_phone(phone, world):
    page, requests, origin = phone
    page.goto("/login")
    page.get_by_label("Email").fill(world.liaison.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/detentions/new")
    page.get_by_label("Worker's name").fill("Ana Browser")
    page.get_by_label("A-Number (if known)").fill("A-123-456-789")
    page.get_by_label("Country of citizenship (for the consulate)").select_option("SV")
    page.get_by_label("Detention facility (if known)").fill("Otay Mesa Detention Center")
    page.get_by_label("Where", exact=True).select_option("traffic_stop")
    page.get_by_role("button", name="Raise the alert").click()
    expect(page.get_by_text("everyone who must act has been told")).to_be_visible()
    expect(page.get_by_test_id("a-number")).to_contain_text("A-•••-••789")
    assert "123456789" not in page.content()
    expect(page.get_by_test_id("task-consulate")).to_contain_text("Consulate contacted")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_test_id("acknowledgements")).to_contain_text("Acknowledged")
    assert all(url.startswith(origin) for url in requests)
    with db_read() as s:
        assert s.scalars(select(Notice.kind).where(Notice.subject_type == "detention")).first() == \
            "detention_ack.raised"
