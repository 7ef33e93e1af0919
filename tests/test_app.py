"""The app as a whole: no scheduler in create_app, the scheduler's jobs,
headers and cookies, error pages, login throttling, configuration checks."""
import threading

import pytest

from coenforce import create_app
from coenforce.scheduler import build_scheduler

from tests.conftest import PASSWORD, csrf_token


def test_create_app_starts_no_scheduler_and_no_thread(database_url):
    before = set(threading.enumerate())
    app = create_app({"DATABASE_URL": database_url})
    # Flask-Limiter's in-memory storage may arm a short expiry Timer; anything else is a leak.
    started = {t for t in set(threading.enumerate()) - before if not isinstance(t, threading.Timer)}
    assert started == set()
    assert not any("APScheduler" in t.name for t in threading.enumerate())
    assert "apscheduler" not in str(app.extensions).lower()


def test_scheduler_jobs_are_coalesced_single_and_never_dropped(app):
    scheduler = build_scheduler(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"escalation_tick", "dispatch", "detention_retention"}  # the last registered by its module
    assert jobs["escalation_tick"].trigger.interval.total_seconds() == 30
    assert jobs["dispatch"].trigger.interval.total_seconds() == 5
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time is None
    assert not scheduler.running


def test_wakes_during_a_tick_bring_one_more_tick_forward_no_sooner_than_the_gap(app, frozen, monkeypatch):
    """Clocks found due while a tick runs make one more tick, not one each, and a
    woken tick begins WAKE_GAP_SECONDS after the last began: during a raid each
    tick fires many filings' notices in one batch."""
    from datetime import timedelta

    from apscheduler.schedulers.base import STATE_RUNNING, STATE_STOPPED

    import coenforce.scheduler as scheduler_module
    scheduler = build_scheduler(app)
    scheduled = []  # the next run times the scheduler was given for the tick
    monkeypatch.setattr(scheduler, "modify_job", lambda job_id, **changes: scheduled.append(
        (job_id, changes["next_run_time"])))
    ticks = []

    def a_tick_during_which_two_clocks_open(_app):
        ticks.append(frozen())
        scheduler.tick_now()
        scheduler.tick_now()
    monkeypatch.setattr(scheduler_module, "run_tick", a_tick_during_which_two_clocks_open)
    scheduler.state = STATE_RUNNING  # as started; nothing runs jobs in this test
    try:
        scheduler.run_ticks()
        gap = timedelta(seconds=scheduler_module.WAKE_GAP_SECONDS)
        assert ticks == [frozen()] and scheduled == [("escalation_tick", frozen() + gap)]

        frozen.advance(seconds=1)  # a clock found due later, past the gap: the tick runs now
        scheduler.tick_now()
        assert scheduled[-1] == ("escalation_tick", frozen())
    finally:
        scheduler.state = STATE_STOPPED


def test_scheduler_jobs_do_real_work(app, world, make_complaint, frozen, session):
    """The functions the scheduler calls tick and dispatch through the real engine."""
    from coenforce.scheduler import run_dispatch, run_tick
    make_complaint(world.investigator)
    assert run_dispatch(app)["sent"] == 1  # the intake notice, through the log sender
    frozen.advance(hours=48)
    assert run_tick(app)["fired"] == 1
    assert run_dispatch(app)["sent"] == 2  # breach: supervisor and admin


def test_security_headers_on_every_response(client):
    for path in ("/login", "/api/v1/openapi.json", "/nowhere"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(client, login, world):
    response = login(world.investigator)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("coenforce_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_logout_ends_the_session_and_a_replayed_cookie_is_refused(client, login, world):
    login(world.investigator)
    stolen = client.get_cookie("coenforce_session").value
    assert client.get("/complaints/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/complaints/").status_code == 302
    client.set_cookie("coenforce_session", stolen)
    replay = client.get("/complaints/")
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]


def test_wrong_password_is_refused_without_saying_which_part(client, world):
    token = csrf_token(client, "/login")
    for email in (world.investigator.email, "nobody@example.org"):
        response = client.post("/login", data={"email": email, "password": "wrong password!!", "csrf_token": token})
        assert response.status_code == 401
        assert "do not match an active account" in response.get_data(as_text=True)


def test_login_is_rate_limited_per_address(app, client, world):
    from limits import parse_many
    budget = min(limit.amount for limit in parse_many(app.config["LOGIN_RATE_LIMIT"]))  # failures per address
    token = csrf_token(client, "/login")
    statuses = [client.post("/login", data={"email": f"stranger{n}@example.org", "password": "nope nope nope",
                                            "csrf_token": token}).status_code for n in range(budget + 1)]
    assert statuses[:budget] == [401] * budget and statuses[budget] == 429
    other = client.post("/login", data={"email": world.investigator.email, "password": PASSWORD,
                                        "csrf_token": token}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 302, "another address is not throttled"


def test_errors_are_generic_pages_without_traceback(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail from deep inside")

    response = client.get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret detail" not in body and "Traceback" not in body and "Something went wrong." in body
    api = client.get("/api/v1/nowhere")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"


def test_production_refuses_to_start_without_keys(monkeypatch, database_url):
    from config import ConfigError
    monkeypatch.setenv("COENFORCE_ENV", "production")
    monkeypatch.delenv("COENFORCE_SECRET_KEY", raising=False)
    monkeypatch.delenv("COENFORCE_ENCRYPTION_KEYS", raising=False)
    with pytest.raises(ConfigError, match="COENFORCE_SECRET_KEY"):
        create_app({"DATABASE_URL": database_url})
    monkeypatch.setenv("COENFORCE_SECRET_KEY", "x" * 40)
    with pytest.raises(ConfigError, match="COENFORCE_ENCRYPTION_KEYS"):
        create_app({"DATABASE_URL": database_url})
    monkeypatch.setenv("COENFORCE_ENCRYPTION_KEYS", "too-short")
    with pytest.raises(ConfigError, match="32 bytes"):
        create_app({"DATABASE_URL": database_url})


def test_unknown_qualifying_action_is_a_configuration_error(database_url):
    from config import ConfigError
    with pytest.raises(ConfigError, match="QUALIFYING_ACTIONS"):
        create_app({"DATABASE_URL": database_url, "QUALIFYING_ACTIONS": ["phone_call"]})


@pytest.mark.app_config(BASE_URL="https://marked.test", SESSION_IDLE_MINUTES=5)
def test_a_test_sets_its_apps_settings_with_a_mark(app):
    assert (app.config["BASE_URL"], app.config["SESSION_IDLE_MINUTES"]) == ("https://marked.test", 5)
    assert app.config["DISPATCH_RETRY_SCHEDULE"] == [30, 60, 120]  # the shared test settings stay
