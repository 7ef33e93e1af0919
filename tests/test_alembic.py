"""Migrations: `upgrade head` builds exactly the models' schema, and every
revision downgrades (with data in the tables) and upgrades again."""
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from coenforce.db import make_engine
from coenforce.migrate import alembic_config, downgrade, upgrade
from coenforce.models import metadata

from tests.conftest import BACKEND, PG_SCHEMA, postgres_url, reset_postgres

SCHEMA = PG_SCHEMA + "_alembic"


@pytest.fixture
def empty_url(tmp_path):
    if BACKEND == "postgresql":
        url = postgres_url(SCHEMA)
        reset_postgres(url, schema=SCHEMA)
        yield url
        reset_postgres(url, drop_only=True, schema=SCHEMA)
    else:
        yield f"sqlite:///{tmp_path / 'empty.db'}"


def differences(url):
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    engine.dispose()
    return diff


def test_upgrade_head_gives_exactly_the_models_schema(empty_url):
    upgrade(empty_url)
    assert differences(empty_url) == []


def test_every_revision_downgrades_and_upgrades_with_data(empty_url):
    upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO organizations (name, kind, timezone, response_target_hours, created_at) "
                          "VALUES ('Agency', 'agency', 'UTC', 48, '2026-01-01 00:00:00')"))
    engine.dispose()
    script = ScriptDirectory.from_config(alembic_config(empty_url))
    revisions = [r.revision for r in script.walk_revisions()]  # newest first
    for revision in revisions:
        target = script.get_revision(revision).down_revision or "base"
        downgrade(empty_url, target)
    engine = make_engine(empty_url)
    remaining = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert remaining == set()
    command.upgrade(alembic_config(empty_url), "head")
    assert differences(empty_url) == []
