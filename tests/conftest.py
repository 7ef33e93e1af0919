"""Fixtures: a real database per test (a fresh SQLite file, or a truncated
PostgreSQL database when COENFORCE_TEST_BACKEND=postgresql), the app, a
frozen clock that tests move explicitly, and builders for test data."""
from __future__ import annotations

import os
import re
import shutil
from contextlib import contextmanager
from datetime import datetime, timezone

import pyotp
import pytest
from flask import current_app
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

os.environ.setdefault("COENFORCE_ENV", "testing")

from coenforce import clock, create_app  # noqa: E402
from coenforce.db import db, make_engine  # noqa: E402
from coenforce.migrate import upgrade  # noqa: E402
from coenforce.complaints.schemas import ComplaintIn  # noqa: E402
from coenforce.models import metadata  # noqa: E402
from coenforce.partners.schemas import OrganizationIn, PartnershipIn, UserIn  # noqa: E402
from coenforce.schemas import parse  # noqa: E402


BACKEND = os.environ.get("COENFORCE_TEST_BACKEND", "sqlite")
PASSWORD = "correct horse battery staple"
START = datetime(2026, 3, 2, 17, 0, tzinfo=timezone.utc)


def pytest_configure(config):
    config.addinivalue_line("markers", "app_config(**settings): settings the test's app is created with")


def pytest_collection_modifyitems(config, items):
    if BACKEND == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: runs when COENFORCE_TEST_BACKEND=postgresql")
    for item in items:
        if "postgresql_only" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config):
    if BACKEND == "postgresql":
        return f"database: PostgreSQL at {os.environ.get('COENFORCE_TEST_DATABASE_URL')}, schema {PG_SCHEMA}"
    return "database: a fresh SQLite file per test"


# Each PostgreSQL run works in a schema of its own inside the named database,
# so two runs at once (or a developer's run beside CI's) never collide.
PG_SCHEMA = f"coenforce_test_{os.getpid()}"


def postgres_url(schema: str = PG_SCHEMA) -> str:
    url = os.environ.get("COENFORCE_TEST_DATABASE_URL")
    if not url:
        pytest.exit("COENFORCE_TEST_BACKEND=postgresql needs COENFORCE_TEST_DATABASE_URL", returncode=2)
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    parsed = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


def reset_postgres(url: str, drop_only: bool = False, schema: str = PG_SCHEMA) -> None:
    """Empty a schema of this run (or drop it at the end)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        if not drop_only:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """The schema built once by the real migrations; each test starts from it."""
    if BACKEND == "postgresql":
        url = postgres_url()
        reset_postgres(url)
        upgrade(url)
        yield url
        reset_postgres(url, drop_only=True)
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    yield path


@pytest.fixture
def database_url(migrated_template, tmp_path):
    if BACKEND == "postgresql":
        engine = make_engine(migrated_template)
        tables = ", ".join(t.name for t in metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return migrated_template
    path = tmp_path / "coenforce.db"
    shutil.copy(migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def frozen():
    """The app's clock, frozen at START; move it with frozen.advance(hours=...)."""
    fixed = clock.freeze(START)
    yield fixed
    clock.unfreeze()


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in an app context of its own,
    as in production, even while the test holds one open for service calls:
    nothing in `g` (the db session, the locale, the user) leaks between
    requests. The request reuses the context pushed here (same app), and
    leaving it runs the app's teardown, which closes the request's session."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


# What every test app is created with; a test adds or overrides settings with
# @pytest.mark.app_config(KEY=value), a directory's conftest with an `app_config` fixture.
BASE_APP_CONFIG = {"DISPATCH_RETRY_SCHEDULE": [30, 60, 120], "BASE_URL": "https://coenforce.test"}


@pytest.fixture
def app_config() -> dict:
    """Settings a directory's tests share (override this fixture in its conftest.py)."""
    return {}


@pytest.fixture
def app(request, database_url, frozen, app_config):
    """The one test app, on the test's database, with the app_config fixture's
    and then the test's `app_config` marks' settings over BASE_APP_CONFIG."""
    settings = {**BASE_APP_CONFIG, **app_config}
    for mark in reversed(list(request.node.iter_markers("app_config"))):  # the closest mark wins
        settings.update(mark.kwargs)
    app = create_app({**settings, "DATABASE_URL": database_url})
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
    db.engine_for(app).dispose()


@pytest.fixture
def session(app):
    """The test's own session (not the request's), for calling services and
    building data; commit what it writes.

    On SQLite it begins transactions DEFERRED, so a test that has read
    something does not hold the write lock while the app under test writes.
    To see what another session (a request, a thread) wrote, read with
    `db_read()`: a new session per read, so nothing stale is ever seen.
    """
    s = db.new_session(app, sqlite_begin="DEFERRED")
    yield s
    s.close()


@contextmanager
def db_read():
    """`with db_read() as s:` a new, short-lived session of the current app
    that sees what is committed now; it ends (rolled back) with the block.
    Objects read stay usable afterwards with what was loaded."""
    s = db.new_session(current_app, sqlite_begin="DEFERRED")
    try:
        yield s
    finally:
        s.close()


def outbox(app) -> list:
    """Every notice as committed now, in order (a short session of its own)."""
    from coenforce.notify.models import Notice
    session = db.new_session(app, sqlite_begin="DEFERRED")
    try:
        return list(session.scalars(select(Notice).order_by(Notice.id)))
    finally:
        session.close()


def engine_ticks(now=None) -> dict:
    """The escalation tick at the test's time, committed, as the scheduler runs
    it when it finds a clock due: new clocks' first rungs fire in it."""
    from coenforce import escalation
    with db_write() as s:
        return escalation.tick(s, now)


@contextmanager
def statements(app):
    """`with statements(app) as sent:` the SQL texts the app sends while the block runs."""
    from sqlalchemy import event
    sent = []
    engine = db.engine_for(app)

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


@contextmanager
def db_write():
    """`with db_write() as s:` a new, short-lived session, committed at the end of the block."""
    s = db.new_session(current_app)
    try:
        yield s
        s.commit()
    finally:
        s.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ----------------------------------------------------------------- builders

@pytest.fixture
def make_org(session):
    from coenforce.partners.service import create_organization
    counter = iter(range(1, 10_000))

    def build(kind="agency", name=None, timezone="America/Los_Angeles", **extra):
        org = create_organization(session, parse(OrganizationIn, {
            "name": name or f"{kind.title()} {next(counter)}", "kind": kind, "timezone": timezone, **extra}))
        session.commit()
        return org
    return build


@pytest.fixture
def make_user(session):
    from coenforce.partners.service import create_user
    counter = iter(range(1, 10_000))

    def build(org, role="investigator", language="en", email=None, name=None, two_factor=None):
        """A user; agency staff (or anyone with two_factor=True) come with TOTP set up."""
        user = create_user(session, parse(UserIn, {
            "email": email or f"{role}{next(counter)}@example.org", "org": org.name, "role": role,
            "language": language, "name": name, "password": PASSWORD}))
        if two_factor if two_factor is not None else user.is_agency_staff:
            user.totp_secret = pyotp.random_base32()
            user.totp_enabled_at = clock.now()
        session.commit()
        return user
    return build


@pytest.fixture
def partner_up(session):
    from coenforce.partners.service import create_partnership

    def build(agency, partner):
        partnership = create_partnership(session, PartnershipIn(agency=agency.name, partner=partner.name))
        session.commit()
        return partnership
    return build


@pytest.fixture
def make_complaint(session):
    from coenforce.complaints.service import open_complaint

    def build(user, **overrides):
        data = {"employer_name": "Acme Packing", "retaliation_types": ["immigration_threat"],
                "description": "Threatened to call immigration after a wage claim."}
        data.update(overrides)
        complaint = open_complaint(session, user, parse(ComplaintIn, data))
        session.commit()
        engine_ticks()  # its intake notice, as the scheduler fires it within a second
        return complaint
    return build


@pytest.fixture
def world(make_org, make_user, partner_up):
    """An agency with a person in each role, a partner with a liaison and an
    organizer, and a second agency and partner that are strangers to them."""
    agency = make_org("agency", name="State Labor Office")
    partner = make_org("partner", name="Worker Center")
    other_agency = make_org("agency", name="Other Agency", timezone="America/New_York")
    other_partner = make_org("partner", name="Other Partner")
    partnership = partner_up(agency, partner)
    other_partnership = partner_up(other_agency, other_partner)

    class World:
        pass
    w = World()
    w.agency, w.partner, w.other_agency, w.other_partner = agency, partner, other_agency, other_partner
    w.partnership, w.other_partnership = partnership, other_partnership
    w.admin = make_user(agency, "agency_admin")
    w.supervisor = make_user(agency, "supervisor", language="es")
    w.investigator = make_user(agency, "investigator")
    w.liaison = make_user(partner, "liaison")
    w.organizer = make_user(partner, "organizer")
    w.other_investigator = make_user(other_agency, "investigator")
    w.other_supervisor = make_user(other_agency, "supervisor")
    w.other_liaison = make_user(other_partner, "liaison")
    return w


# ----------------------------------------------------------------- HTTP helpers

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str) -> str:
    """The CSRF token a page hands out, read from its HTML like a browser would."""
    page = client.get(path)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} (status {page.status_code})"
    return match.group(1) or match.group(2)


def totp_code(frozen, user) -> str:
    """The code the user's authenticator shows now; the clock moves on a step
    if this user already spent the current one (each code works once)."""
    from coenforce.partners.models import User
    with db_read() as s:
        stored = s.get(User, user.id)
        secret = stored.totp_secret
    step = int(frozen().timestamp()) // 30
    if stored.totp_last_step is not None and stored.totp_last_step >= step:
        frozen.advance(seconds=30 * (stored.totp_last_step - step + 1))
    return pyotp.TOTP(secret).at(frozen())


@pytest.fixture
def login(client, frozen):
    """Sign in through the pages, giving the second factor when asked."""
    def do(user, password=PASSWORD):
        token = csrf_token(client, "/login")
        response = client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        if response.headers["Location"].endswith("/login/code"):
            response = client.post("/login/code", data={"code": totp_code(frozen, user),
                                                        "csrf_token": csrf_token(client, "/login/code")})
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response
    return do


@pytest.fixture
def post_form(client):
    """Post a form the way a browser does: fetch the page, take its CSRF token, post."""
    def do(page: str, action: str, data: dict):
        return client.post(action, data={**data, "csrf_token": csrf_token(client, page)})
    return do


@pytest.fixture
def api(client):
    """Call the JSON API as a user: api(user).post('/complaints', json=...)."""
    from coenforce.security.tokens import issue_token

    class Caller:
        def __init__(self, user):
            with db_write() as s:  # its own session: the test's may hold an older read
                self.token = issue_token(s, user)

        def _headers(self, extra=None):
            return {"Authorization": f"Bearer {self.token}", **(extra or {})}

        def get(self, path, **kw):
            return client.get("/api/v1" + path, headers=self._headers(kw.pop("headers", None)), **kw)

        def post(self, path, **kw):
            return client.post("/api/v1" + path, headers=self._headers(kw.pop("headers", None)), **kw)

        def patch(self, path, **kw):
            return client.patch("/api/v1" + path, headers=self._headers(kw.pop("headers", None)), **kw)

    return Caller
