"""One investigator's journey through a real browser: sign in, file a
complaint, watch the response clock, and stop it with a qualifying action.

The clock is frozen at tests/conftest.py's START (2026-03-02 17:00 UTC, i.e.
09:00 PST), so the 48-hour target falls due 2026-03-04 09:00 PST and no
time passes while the browser works."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

SCREENSHOT = "/tmp/coenforce-journey.png"


@pytest.mark.browser
def test_investigator_files_a_complaint_and_stops_the_clock(browser_page, live_server, world, frozen):
    page = browser_page
    requested: list[str] = []
    console_errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: console_errors.append(f"{message.text} at {message.location.get('url')}")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: console_errors.append(f"uncaught: {error}"))

    # Sign in.
    page.goto("/login")
    page.get_by_label("Email").fill(world.investigator.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Agency staff give a second factor: the code their authenticator shows now.
    expect(page.get_by_role("heading", name="Two-factor login")).to_be_visible()
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(world.investigator.totp_secret).at(frozen()))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # SESSION_COOKIE_SECURE is on; chromium keeps Secure cookies on http://127.0.0.1.
    cookie = next(c for c in page.context.cookies() if c["name"] == "coenforce_session")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    # The complaints list, then the form to file one.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Complaints").click()
    expect(page.get_by_role("heading", name="Retaliation complaints")).to_be_visible()
    page.get_by_role("link", name="File a complaint").click()
    expect(page.get_by_role("heading", name="File a retaliation complaint")).to_be_visible()

    page.get_by_label("Employer", exact=True).fill("Acme Packing")
    page.get_by_label("Threat to call immigration authorities").check()
    page.get_by_label("Firing").check()
    page.get_by_label("What happened", exact=True).fill("Supervisor threatened to call immigration after a wage claim.")
    page.get_by_role("button", name="File complaint").click()

    # The detail page: the clock runs, 48 h to go, due shown in Pacific time.
    expect(page.get_by_role("status").filter(has_text="The response clock is running")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme Packing")
    panel = page.locator("section.clock-panel")
    expect(panel).to_have_class(re.compile(r"\bclock-running\b"))
    expect(panel.locator(".clock")).to_have_text("48 h 00 min left")
    expect(page.get_by_test_id("remaining")).to_have_text("48 h 00 min")
    expect(page.get_by_test_id("due")).to_contain_text("Mar 4, 2026")
    expect(page.get_by_test_id("due")).to_contain_text(re.compile(r"9:00\sAM PST$"))
    actions = page.locator("section", has=page.get_by_role("heading", name="Response actions")).locator("tbody tr")
    expect(actions).to_have_text(["No action recorded yet."])

    # A non-qualifying action: recorded, but the clock keeps running.
    page.get_by_label("Action", exact=True).select_option(label="Worker interviewed")
    page.get_by_label("Note").fill("Took the worker's statement by phone.")
    page.get_by_role("button", name="Record action").click()
    expect(page.get_by_role("status").filter(has_text="Action recorded.")).to_be_visible()
    expect(actions).to_have_count(1)
    expect(actions.first).to_contain_text("Worker interviewed")
    expect(actions.first.locator("td").nth(2)).to_have_text("No")
    expect(panel).to_have_class(re.compile(r"\bclock-running\b"))
    expect(page.get_by_test_id("remaining")).to_have_text("48 h 00 min")

    # A qualifying action stops the clock.
    page.get_by_label("Action", exact=True).select_option(label="Employer contacted")
    page.get_by_label("Note").fill("Called the plant manager; warned about retaliation.")
    page.get_by_role("button", name="Record action").click()
    expect(page.get_by_role("status").filter(has_text="Action recorded.")).to_be_visible()
    expect(panel).to_have_class(re.compile(r"\bclock-met\b"))
    expect(panel.locator(".clock")).to_have_text("Met")
    expect(page.get_by_test_id("remaining")).to_have_count(0)
    expect(panel).to_contain_text("First qualifying response")
    expect(actions).to_have_count(2)
    contacted = actions.filter(has_text="Employer contacted")
    expect(contacted).to_have_count(1)
    expect(contacted.locator("td").nth(2)).to_have_text("Yes")
    expect(actions.filter(has_text="Worker interviewed").locator("td").nth(2)).to_have_text("No")

    page.screenshot(path=SCREENSHOT, full_page=True)

    # Nothing left the machine, and the page ran clean (CSP violations are console errors).
    origin = urlsplit(live_server)
    elsewhere = [url for url in requested if urlsplit(url).hostname != origin.hostname]
    assert requested and not elsewhere, f"requests to other hosts: {elsewhere}"
    assert not console_errors, console_errors
