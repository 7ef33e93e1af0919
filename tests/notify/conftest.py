"""Fixtures for the outbox: a fake SendGrid on 127.0.0.1 and an app that talks to it
through the real `sendgrid` client."""
from __future__ import annotations

import pytest

from coenforce import create_app
from coenforce.db import db
from tests.fake_sendgrid import FakeSendGrid

MAIL_FROM = "alerts@coenforce.test"


@pytest.fixture
def fake_sendgrid():
    """A fake SendGrid v3 API, started for one test; see tests/fake_sendgrid.py."""
    fake = FakeSendGrid(hang_seconds=3.0).start()
    yield fake
    fake.stop()


@pytest.fixture
def sendgrid_config(fake_sendgrid):
    """What the app is told about SendGrid. A test parametrizes it to run without a key."""
    return {"SENDGRID_API_KEY": "SG.test", "SENDGRID_HOST": fake_sendgrid.url,
            "SENDGRID_TIMEOUT_SECONDS": 1.0, "MAIL_FROM": MAIL_FROM}


@pytest.fixture
def app(database_url, frozen, sendgrid_config):
    """The root app fixture, pointed at the fake SendGrid."""
    app = create_app({"DATABASE_URL": database_url, "DISPATCH_RETRY_SCHEDULE": [30, 60, 120],
                      "BASE_URL": "https://coenforce.test", **sendgrid_config})
    with app.app_context():
        yield app
    db.engine_for(app).dispose()
