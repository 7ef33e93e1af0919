"""On SQLite, requests that read take no write lock: they answer while another
connection holds it. A read that also writes (an audited view) and loses its lock
upgrade to a concurrent commit is run again as a writer, not answered with a 500."""
from __future__ import annotations

import sqlite3
import time

import pytest
from sqlalchemy import event, func, select

from coenforce.audit.models import AuditEntry
from coenforce.db import db
from tests.conftest import BACKEND
from tests.delivery.conftest import BODY

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's locking")


def sqlite_path(app) -> str:
    return db.engine_for(app).url.database


def test_a_read_answers_while_another_connection_holds_the_write_lock(app, client, token):
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/complaints", json=BODY, headers=headers).status_code == 201
    writer = sqlite3.connect(sqlite_path(app), isolation_level=None, timeout=0)
    writer.execute("BEGIN IMMEDIATE")  # held, as a long writer would
    try:
        began = time.monotonic()
        response = client.get("/api/v1/complaints", headers=headers)
        took = time.monotonic() - began
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert response.status_code == 200 and len(response.get_json()["items"]) == 1
    assert took < 1.0, f"the read waited {took:.1f} s for the write lock"


def test_a_read_that_writes_and_loses_its_lock_upgrade_runs_again(app, client, token):
    headers = {"Authorization": f"Bearer {token}"}
    complaint = client.post("/api/v1/complaints", json=BODY, headers=headers).get_json()
    interfered = []

    def commit_elsewhere_first(conn, cursor, statement, *_):
        # Between the view's reads and its audit entry another connection commits:
        # the deferred transaction's snapshot is stale and cannot become a writer.
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_LOG") and not interfered:
            interfered.append(statement)
            other = sqlite3.connect(sqlite_path(app), isolation_level=None)
            other.execute("UPDATE organizations SET name = name WHERE id = (SELECT min(id) FROM organizations)")
            other.close()

    engine = db.engine_for(app)
    event.listen(engine, "before_cursor_execute", commit_elsewhere_first)
    try:
        response = client.get(f"/api/v1/complaints/{complaint['id']}", headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", commit_elsewhere_first)
    assert interfered, "the audited view wrote nothing: the test did not exercise the race"
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    session = db.new_session(app, sqlite_begin="DEFERRED")
    try:
        views = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "complaint.view", AuditEntry.record_id == complaint["id"]))
    finally:
        session.close()
    assert views == 1


def test_a_write_request_reads_its_token_before_taking_the_write_lock(app, client, token):
    # The one write lock is held from BEGIN IMMEDIATE to COMMIT; the caller's token is
    # read in a read transaction before it, so writers hold the lock for their writes.
    statements = []

    def seen(conn, cursor, statement, *_):
        statements.append(statement.lstrip().split()[0].upper() + (
            " IMMEDIATE" if statement.startswith("BEGIN IMMEDIATE") else
            " DEFERRED" if statement.startswith("BEGIN DEFERRED") else
            " api_tokens" if "api_tokens" in statement else ""))

    engine = db.engine_for(app)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        response = client.post("/api/v1/complaints", json=BODY, headers={"Authorization": f"Bearer {token}"})
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert response.status_code == 201
    assert statements[:2] == ["BEGIN DEFERRED", "SELECT api_tokens"]
    lock = statements.index("BEGIN IMMEDIATE")
    assert lock > 1 and "SELECT api_tokens" not in statements[lock:]
    assert statements.count("BEGIN IMMEDIATE") == 1
