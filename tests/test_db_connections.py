"""Pooled PostgreSQL connections: one the server ended is replaced before use, and
a healthy one is handed out without a ping (a round trip on every request)."""
import psycopg
import pytest
from sqlalchemy import text

from coenforce.db import db

from tests.conftest import postgres_url

pytestmark = pytest.mark.postgresql_only


def _server():
    """A connection of the test's own, as the server's operator would use."""
    return psycopg.connect(postgres_url().replace("postgresql+psycopg", "postgresql"), autocommit=True)


def _pooled_backend(engine) -> int:
    """The only connection in the (emptied) pool: its server process id."""
    engine.dispose()
    with engine.connect() as connection:
        return connection.scalar(text("SELECT pg_backend_pid()"))


def _end_session(pid: int) -> None:
    """What a restart or an idle timeout does to each session: the server ends it."""
    with _server() as server:
        assert server.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        # pg_terminate_backend only signals; the session is gone once it has left the list.
        while server.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]:
            server.execute("SELECT pg_sleep(0.01)")


def test_a_connection_the_server_ended_is_replaced_before_a_request_uses_it(app, world, api):
    engine = db.engine_for(app)
    caller = api(world.investigator)
    ended = _pooled_backend(engine)
    _end_session(ended)

    response = caller.get("/complaints")

    assert response.status_code == 200, response.get_json()
    assert engine.pool.checkedin() == 1  # the ended connection was replaced, not kept beside a new one
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT pg_backend_pid()")) != ended


def test_a_healthy_pooled_connection_is_handed_out_without_a_ping(app):
    engine = db.engine_for(app)
    pid = _pooled_backend(engine)
    with engine.connect() as connection, _server() as server:
        # Checked out, nothing run yet: the server's record of what this session
        # ran last is still the pool's reset of its previous use, not a ping.
        last = server.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]
        assert connection.scalar(text("SELECT pg_backend_pid()")) == pid  # it was that pooled connection
    assert last == "ROLLBACK"
