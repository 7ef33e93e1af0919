"""Fixtures for the outbox: a fake SendGrid on 127.0.0.1 and an app that talks to it
through the real `sendgrid` client."""
from __future__ import annotations

import pytest

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
def app_config(sendgrid_config):
    """The root app fixture's settings here: pointed at the fake SendGrid."""
    return sendgrid_config


@pytest.fixture
def canaries_through_every_rung(session, frozen, world, make_complaint):
    """A complaint whose text fields carry canaries, ticked every hour from intake to a day
    past due so every rung fires; returns the canaries."""
    from coenforce import escalation
    canaries = ["CANARYEMPLOYER7f3a", "CANARYDESCRIPTION91bc", "CANARYDISPUTE42de", "CANARYADDRESS0c11"]
    make_complaint(world.investigator, employer_name=f"{canaries[0]} Farms", description=f"Said {canaries[1]}.",
                   labor_dispute=f"Unpaid {canaries[2]}", worksite_address=f"1 {canaries[3]} Road",
                   shared_with=[world.partner.id])
    for _ in range(74):
        escalation.tick(session, frozen.advance(hours=1))
    return canaries
