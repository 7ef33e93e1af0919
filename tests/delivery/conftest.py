"""Fixtures for tests with real processes: the app's settings shared with the
processes a test starts, a fake SendGrid they talk to, and an API token. The
clock is not frozen here: the processes run on real time, and so does the test."""
from __future__ import annotations

import pytest

from coenforce import create_app
from coenforce.db import db
from tests.conftest import IsolatedClient
from tests.delivery.processes import overrides_from, secrets_env
from tests.fake_sendgrid import FakeSendGrid

BODY = {"employer_name": "Acme Packing", "retaliation_types": ["immigration_threat"],
        "description": "Threatened to call immigration after a wage claim."}


@pytest.fixture
def keys() -> dict[str, str]:
    return secrets_env()


@pytest.fixture
def app(database_url, keys, fake):
    """The app as the processes see it (same keys, the same fake SendGrid), on real time."""
    app = create_app({"DATABASE_URL": database_url, "SENDGRID_API_KEY": "SG.test", "SENDGRID_HOST": fake.url,
                      **overrides_from(keys)})
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
    db.engine_for(app).dispose()


@pytest.fixture
def fake():
    fake = FakeSendGrid(hang_seconds=30.0).start()
    yield fake
    fake.stop()


@pytest.fixture
def env(database_url, keys, fake, tmp_path) -> dict[str, str]:
    """The environment of the processes: this test's database, SendGrid pointed at the fake."""
    return {"COENFORCE_ENV": "testing", "COENFORCE_DATABASE_URL": database_url,
            "COENFORCE_INSTANCE_DIR": str(tmp_path / "instance"), "SENDGRID_API_KEY": "SG.test",
            "COENFORCE_SENDGRID_HOST": fake.url, **keys}


@pytest.fixture
def token(session, world) -> str:
    """An API token of the agency's investigator, whose complaints tell the supervisor at once."""
    from coenforce.security.tokens import issue_token
    value = issue_token(session, world.investigator)
    session.commit()
    return value
