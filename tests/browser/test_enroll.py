"""A supervisor's first sign-in in a real browser: the QR code the app draws
loads under the CSP, and the code from it turns two-factor login on."""
import pyotp
import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, db_write


@pytest.mark.browser
def test_first_sign_in_sets_up_two_factor(browser_page, live_server, world, session, frozen):
    from coenforce.partners.models import User
    with db_write() as s:
        user = s.get(User, world.supervisor.id)
        user.totp_secret = None
        user.totp_enabled_at = None
    errors: list[str] = []
    page = browser_page
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    page.goto("/login")
    page.get_by_label("Email").fill(world.supervisor.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    qr = page.locator("p.qr img")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0"), "the QR code image did not load"
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.locator("input[name=code]").fill(pyotp.TOTP(secret).at(frozen()))
    page.locator("input[type=submit]").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.locator("a.button.primary").click()
    expect(page.locator("form[action='/logout'] button")).to_be_visible()  # signed in (in Spanish)
    assert not errors, errors
