"""Builders for the legal directory's tests."""
import pytest

from coenforce.legal.schemas import ConsulateIn, ProviderIn
from coenforce.legal.service import add_consulate, add_provider
from coenforce.schemas import parse


@pytest.fixture
def make_provider(session):
    def build(user, **overrides):
        data = {"name": "Centro Legal", "service_model": "full_scope", "languages": ["en", "es"],
                "counties": ["Los Angeles"], "phone": "213-555-0100"}
        data.update(overrides)
        provider = add_provider(session, user, parse(ProviderIn, data))
        session.commit()
        return provider
    return build


@pytest.fixture
def make_consulate(session):
    def build(user, **overrides):
        data = {"country": "MX", "region": "CA", "city": "Los Angeles", "phone": "213-555-0200"}
        data.update(overrides)
        consulate = add_consulate(session, user, parse(ConsulateIn, data))
        session.commit()
        return consulate
    return build
