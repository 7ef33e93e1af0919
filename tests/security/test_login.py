"""Sign-in under attack: replayed cookies, timeouts, code reuse, throttling,
weak passwords, and every way a session must end at once."""
import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from coenforce.complaints.models import Complaint
from coenforce.db import db
from coenforce.partners.models import User
from coenforce.security.models import RecoveryCode
from coenforce.security.passwords import MAX_LENGTH, password_problem

from tests.conftest import PASSWORD, csrf_token, db_read, db_write


def sign_in_password(client, user, password=PASSWORD):
    return client.post("/login", data={"email": user.email, "password": password,
                                       "csrf_token": csrf_token(client, "/login")})


def give_code(client, code):
    return client.post("/login/code", data={"code": code, "csrf_token": csrf_token(client, "/login/code")})


def signed_in(client) -> bool:
    return client.get("/complaints/").status_code == 200


def two_factor_on(user) -> bool:
    with db_read() as s:
        return s.get(User, user.id).totp_enabled_at is not None


def test_a_new_session_id_at_login(client, login, world):
    client.get("/login")
    before = client.get_cookie("coenforce_session").value
    login(world.investigator)
    assert client.get_cookie("coenforce_session").value != before


def test_cookie_replayed_after_logout_is_refused(client, login, world):
    login(world.investigator)
    stolen = client.get_cookie("coenforce_session").value
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    client.set_cookie("coenforce_session", stolen)
    assert not signed_in(client)


def test_idle_and_absolute_timeouts(client, login, world, frozen):
    login(world.investigator)
    frozen.advance(minutes=29)
    assert signed_in(client), "29 minutes idle is still fine"
    frozen.advance(minutes=29)
    assert signed_in(client), "activity resets the idle timer"
    frozen.advance(minutes=31)
    assert not signed_in(client), "31 minutes idle ends the session"

    login(world.investigator)
    started = frozen()
    while signed_in(client):  # active every 20 minutes, never idle
        frozen.advance(minutes=20)
        assert frozen() - started <= timedelta(hours=12, minutes=20), "the session outlived 12 hours"
    assert frozen() - started >= timedelta(hours=12), "the session ended before its 12 hours"


def test_password_change_ends_every_session_of_the_user(app, world):
    laptop, phone = app.test_client(), app.test_client()
    for browser in (laptop, phone):
        assert sign_in_password(browser, world.liaison).status_code == 302
        assert signed_in(browser)
    new = "a brand new passphrase for the account"
    response = laptop.post("/account", data={"current_password": PASSWORD, "new_password": new,
                                             "confirm_password": new, "csrf_token": csrf_token(laptop, "/account")})
    assert response.status_code == 302
    assert not signed_in(laptop) and not signed_in(phone)
    assert sign_in_password(phone, world.liaison).status_code == 401
    assert sign_in_password(phone, world.liaison, new).status_code == 302


def test_admin_ends_sessions_and_turns_accounts_off(app, login, world, client):
    liaison = app.test_client()
    sign_in_password(liaison, world.liaison)
    assert signed_in(liaison)
    investigator = app.test_client()
    sign_in_password(investigator, world.investigator)  # half signed in: the code is still awaited

    login(world.admin)
    assert world.investigator.email in client.get("/people/").get_data(as_text=True)
    token = csrf_token(client, "/people/")
    assert client.post(f"/people/{world.investigator.id}/end-sessions", data={"csrf_token": token}).status_code == 302
    assert investigator.get("/login/code").status_code == 302, "the half-signed-in session is gone"
    assert client.post(f"/people/{world.investigator.id}/disable", data={"csrf_token": token}).status_code == 302
    assert sign_in_password(investigator, world.investigator).status_code == 401
    # Other organizations' people are not the admin's to touch.
    assert client.post(f"/people/{world.liaison.id}/disable", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/people/{world.other_investigator.id}/end-sessions",
                       data={"csrf_token": token}).status_code == 404
    assert signed_in(liaison)


def test_a_disabled_account_loses_its_live_sessions(app, world, session):
    browser = app.test_client()
    sign_in_password(browser, world.liaison)
    assert signed_in(browser)
    with db_write() as s:
        s.get(User, world.liaison.id).active = False
    assert not signed_in(browser)


def test_agency_staff_need_a_second_factor(client, world):
    assert sign_in_password(client, world.investigator).headers["Location"].endswith("/login/code")
    assert not signed_in(client), "a password alone opens nothing"
    assert client.get("/api/v1/complaints").status_code == 401


def test_a_signed_in_browser_session_opens_nothing_in_the_api(client, login, world):
    """The API takes no CSRF token, so it must not take the session cookie either."""
    login(world.investigator)
    assert signed_in(client)
    body = {"employer_name": "Cookie Farms", "retaliation_types": ["immigration_threat"],
            "description": "Threatened to call immigration."}
    refused = client.post("/api/v1/complaints", json=body)
    assert refused.status_code == 401
    assert refused.headers.get("WWW-Authenticate") == "Bearer"
    assert "Set-Cookie" not in refused.headers, "an API response leaves the browser's session alone"
    with db_read() as s:
        assert s.scalar(select(Complaint).where(Complaint.employer_name == "Cookie Farms")) is None
    assert client.get("/api/v1/complaints").status_code == 401
    assert signed_in(client), "the browser session still works on the pages"


def test_each_totp_code_works_once(app, client, world, frozen, session):
    sign_in_password(client, world.investigator)
    code = pyotp.TOTP(world.investigator.totp_secret).at(frozen())
    assert give_code(client, code).status_code == 302
    other = app.test_client()
    sign_in_password(other, world.investigator)
    assert give_code(other, code).status_code == 401, "a code is refused the second time"
    frozen.advance(seconds=30)
    assert give_code(other, pyotp.TOTP(world.investigator.totp_secret).at(frozen())).status_code == 302


def test_wrong_codes_count_against_the_account(client, world):
    sign_in_password(client, world.investigator)
    for _ in range(5):
        assert give_code(client, "000000").status_code == 401
    assert sign_in_password(client, world.investigator).status_code == 401, "the account now waits"


def test_enrollment_with_qr_code_and_recovery_codes(client, world, frozen):
    with db_write() as s:
        user = s.get(User, world.supervisor.id)
        user.totp_secret = user.totp_enabled_at = None
    assert sign_in_password(client, world.supervisor).headers["Location"].endswith("/login/setup")
    page = client.get("/login/setup").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page, "the QR code is drawn by the app itself"
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    token = csrf_token(client, "/login/setup")
    assert client.post("/login/setup", data={"code": "123456", "csrf_token": token}).status_code == 422
    done = client.post("/login/setup", data={"code": pyotp.TOTP(secret).at(frozen()), "csrf_token": token})
    codes = re.findall(r"<code>([0-9a-f-]{20})</code>", done.get_data(as_text=True))
    assert len(codes) == 10
    with db_read() as s:
        stored = s.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10 and not any(code in h for code in codes for h in stored), "stored hashed"
    assert signed_in(client)

    # A recovery code signs in once, and only once.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    sign_in_password(client, world.supervisor)
    assert give_code(client, codes[0]).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    sign_in_password(client, world.supervisor)
    assert give_code(client, codes[0]).status_code == 401


def test_two_factor_settings_need_the_password_again(client, login, world, session, frozen):
    login(world.liaison)  # partners: two-factor is optional, and can be turned on
    page = client.get("/login/setup").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    client.post("/login/setup", data={"code": pyotp.TOTP(secret).at(frozen()),
                                      "csrf_token": csrf_token(client, "/login/setup")})
    assert two_factor_on(world.liaison)
    token = csrf_token(client, "/account")
    denied = client.post("/account/two-factor/disable", data={"password": "not my password", "csrf_token": token})
    assert denied.status_code == 303
    assert two_factor_on(world.liaison)
    client.post("/account/two-factor/disable", data={"password": PASSWORD, "csrf_token": token})
    assert not two_factor_on(world.liaison)


def test_agency_staff_cannot_turn_two_factor_off(client, login, world, session):
    login(world.investigator)
    token = csrf_token(client, "/account")
    client.post("/account/two-factor/disable", data={"password": PASSWORD, "csrf_token": token})
    assert two_factor_on(world.investigator)


def test_throttling_one_account_does_not_lock_out_another(client, world, frozen):
    for _ in range(5):
        assert sign_in_password(client, world.liaison, "wrong password here").status_code == 401
    assert sign_in_password(client, world.liaison).status_code == 401, "locked, even with the right password"
    assert sign_in_password(client, world.organizer).status_code == 302, "another account is not touched"
    frozen.advance(minutes=1, seconds=1)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert sign_in_password(client, world.liaison).status_code == 302, "the wait is over after a minute"


def address_budget(app) -> int:
    """Failed sign-ins one address may make in a minute (the tightest of the limits)."""
    from limits import parse_many
    return min(limit.amount for limit in parse_many(app.config["LOGIN_RATE_LIMIT"]))


def test_address_limit_counts_failures_only_and_fits_an_office(app, client, make_org, make_user):
    """Fifty people behind one address sign in within the minute, ten typos among them;
    the address is stopped only once its failures reach the limit."""
    budget = address_budget(app)
    assert budget >= 50, "an office of 50 must fit"
    office = make_org("partner", name="Busy Worker Center")
    people = [make_user(office, "liaison") for _ in range(50)]
    statuses = []
    for n, person in enumerate(people):
        browser = app.test_client()
        if n % 5 == 0:
            statuses.append(sign_in_password(browser, person, "not the password at all").status_code)
        statuses.append(sign_in_password(browser, person).status_code)
    assert statuses.count(302) == 50 and statuses.count(401) == 10 and 429 not in statuses

    token = csrf_token(client, "/login")
    for n in range(budget - 10):
        assert client.post("/login", data={"email": f"x{n}@example.org", "password": "p" * 12,
                                           "csrf_token": token}).status_code == 401
    blocked = sign_in_password(client, people[0])
    assert blocked.status_code == 429, "past the failures' limit even a right password waits"


def test_address_limit_honours_the_proxy_only_when_configured(app, client, world):
    token = csrf_token(client, "/login")
    for n in range(address_budget(app)):
        client.post("/login", data={"email": f"x{n}@example.org", "password": "p" * 12, "csrf_token": token},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"})
    # With no trusted proxy the header is ignored: all of them came from one address.
    blocked = client.post("/login", data={"email": "y@example.org", "password": "p" * 12, "csrf_token": token},
                          headers={"X-Forwarded-For": "198.51.100.7"})
    assert blocked.status_code == 429


def test_proxy_address_is_used_when_configured(database_url, frozen):
    from coenforce import create_app
    app = create_app({"DATABASE_URL": database_url, "TRUSTED_PROXIES": 1})
    client = app.test_client()
    token = csrf_token(client, "/login")
    statuses = [client.post("/login", data={"email": f"x{n}@example.org", "password": "p" * 12,
                                            "csrf_token": token}, headers={"X-Forwarded-For": f"203.0.113.{n}"})
                .status_code for n in range(12)]
    assert 429 not in statuses, "each forwarded address has its own budget"
    db.engine_for(app).dispose()


@pytest.mark.parametrize("password, ok", [
    ("short", False),
    ("password1234", False),           # common, with digits tacked on
    ("iloveyou12345!", False),
    ("aaaaaaaaaaaaaaaa", False),
    ("ana.lopez-2026-pass", False),    # contains the email's name
    ("x" * (MAX_LENGTH + 1), False),
    ("correct horse battery staple", True),
    ("ñandú corre por la pampa", True),
    ("z" + "y" * 60 + "long passphrase of many words" + "q" * 30, True),
])
def test_password_rules(password, ok, app):
    assert (password_problem(password, "ana.lopez@example.org") is None) == ok


def test_absurdly_long_password_is_refused_fast(client, world):
    response = client.post("/login", data={"email": world.liaison.email, "password": "x" * 100_000,
                                           "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 400


def test_address_throttling_is_shared_by_two_processes_through_redis(database_url, tmp_path):
    """Production keeps the per-address counters in Redis, shared by every worker: two
    gunicorn processes, failures alternating between them, one budget. (With each
    process's own memory the seventh failure would still be answered 401.)"""
    import redis

    from tests.delivery.processes import Browser, secrets_env, serve, stop
    server = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        server.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379 (start one to run this test)")
    prefix = f"coenforce-test-{tmp_path.name}-{id(server)}"
    settings = {"DATABASE_URL": database_url, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
                "RATELIMIT_KEY_PREFIX": prefix, "LOGIN_RATE_LIMIT": "6 per minute"}
    env = {"COENFORCE_ENV": "testing", **secrets_env()}
    workers = [serve(f"coenforce:create_app({settings!r})", env, tmp_path / f"worker{n}.log", workers=1)
               for n in range(2)]
    try:
        browsers = [Browser(port) for _, port in workers]
        statuses = [browsers[n % 2].form("/login", "/login", {"email": f"x{n}@example.org", "password": "p" * 12})
                    for n in range(7)]
        assert statuses == [401] * 6 + [429]
        assert any(prefix.encode() in key for key in server.keys("*"))
    finally:
        for process, _ in workers:
            stop(process)
        for key in server.keys(f"*{prefix}*"):
            server.delete(key)
        server.close()
