"""Printing the attorney list from a complaint in a real browser: choose the
worker's language and county, print (as PDF: one page, nothing from another
host, no script), then record that the list was given."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, db_read


@pytest.mark.browser
def test_staff_print_the_attorney_list_from_a_complaint(browser_page, live_server, world, frozen, make_complaint,
                                                        session):
    from coenforce.complaints.models import Complaint
    from coenforce.legal.schemas import ProviderIn
    from coenforce.legal.service import add_provider
    from coenforce.schemas import parse
    for name, languages, county in (("Centro Hispano", ["es"], "Fresno"), ("Valley Law", ["en"], "Fresno County"),
                                    ("Kern Office", ["es"], "Kern")):
        add_provider(session, world.admin, parse(ProviderIn, {
            "name": name, "service_model": "full_scope", "languages": languages, "counties": [county],
            "phone": "559-555-0100"}))
    session.commit()
    complaint = make_complaint(world.investigator, language="es")

    page = browser_page
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/login")
    page.get_by_label("Email").fill(world.investigator.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(world.investigator.totp_secret).at(frozen()))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.goto(f"/complaints/{complaint.id}")
    expect(page.get_by_test_id("attorney-list")).to_contain_text("Not yet given")
    page.get_by_test_id("print-attorney-list").click()
    expect(page.get_by_role("heading", name="Print the attorney list")).to_be_visible()
    expect(page.get_by_label("Language of the list")).to_have_value("es")  # the complainant's language
    page.get_by_label("County").select_option("Fresno")
    page.get_by_role("button", name="Show the list").click()

    handout = page.get_by_test_id("handout")
    expect(handout).to_have_attribute("lang", "es")
    expect(handout.get_by_test_id("matching")).to_contain_text("Centro Hispano")
    expect(handout.get_by_test_id("others")).to_contain_text("Valley Law")
    expect(handout).not_to_contain_text("Kern Office")
    assert page.evaluate("document.scripts.length") == 0

    # Printed, the controls disappear and the list fits one page.
    page.emulate_media(media="print")
    expect(page.get_by_role("heading", name="Print the attorney list")).to_be_hidden()
    expect(handout).to_be_visible()
    pdf = page.pdf(format="Letter")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1, "the handout prints on one page"
    page.emulate_media(media="screen")

    page.get_by_test_id("record-given").click()
    expect(page.get_by_test_id("attorney-list")).to_contain_text("in Spanish")
    with db_read() as s:
        assert s.get(Complaint, complaint.id).attorney_list_language == "es"
    hosts = {urlsplit(url).netloc for url in requested if not url.startswith("data:")}
    assert hosts == {urlsplit(live_server).netloc}, f"requests left the app's host: {hosts}"
