"""Migrations: `upgrade head` builds exactly the models' schema; upgrading
revision by revision carries data through every column a revision changes
(rows are written before each step and checked after it); every revision
downgrades and upgrades again."""
import base64
import json
import os
import re

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import DateTime, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from coenforce.db import make_engine
from coenforce.migrate import alembic_config, downgrade, upgrade
from coenforce.models import metadata
from coenforce.employers import employer_key
from coenforce.partners.models import User
from coenforce.security.crypto.columns import fields_of
from coenforce.security.crypto.rotation import rotate_keys
from coenforce.security.crypto.sealing import Keyring, key_id

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


# ----------------------------------------------------------------- data through each revision

KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
T = "'2026-01-01 00:00:00'"


def run(conn, sql: str, **params):
    return conn.execute(text(sql), params)


def columns(conn, table: str) -> set[str]:
    return {c["name"] for c in inspect(conn).get_columns(table)}


def seal_v1(plaintext: str, table: str, column: str, row_id: int) -> str:
    """A value as the code before 0009 sealed it, built from the documented
    format: AES-GCM, associated data naming the place and the row's id."""
    ad = json.dumps(["coenforce-field", "v1", table, column, [str(row_id)]]).encode()
    nonce = os.urandom(12)
    blob = nonce + AESGCM(base64.urlsafe_b64decode(KEY)).encrypt(nonce, plaintext.encode(), ad)
    return f"v1.{key_id(base64.urlsafe_b64decode(KEY))}.{base64.urlsafe_b64encode(blob).decode().rstrip('=')}"


def before_0002(conn):
    run(conn, "INSERT INTO organizations (id, name, kind, timezone, response_target_hours, created_at) "
              f"VALUES (1, 'Agency', 'agency', 'UTC', 48, {T}), (2, 'Partner', 'partner', 'UTC', 48, {T})")
    run(conn, "INSERT INTO users (id, organization_id, email, name, role, language, password_hash, active, "
              f"session_epoch, created_at) VALUES (1, 1, 'ana@example.org', 'Ana', 'investigator', 'es', 'hash-1', "
              f":active, 3, {T})", active=True)
    run(conn, "INSERT INTO api_tokens (id, user_id, token_digest, created_at, last_used_at) "
              f"VALUES (1, 1, :digest, {T}, {T})", digest="d" * 64)


def after_0002(conn):
    user = run(conn, "SELECT * FROM users WHERE id = 1").mappings().one()
    assert (user["email"], user["name"], user["language"], user["password_hash"]) == (
        "ana@example.org", "Ana", "es", "hash-1")
    assert user["failed_logins"] == 0 and user["totp_secret_enc"] is None and "session_epoch" not in user
    token = run(conn, "SELECT * FROM api_tokens WHERE id = 1").mappings().one()
    assert token["token_digest"] == "d" * 64 and "last_used_at" not in token


def before_0003(conn):
    run(conn, "UPDATE users SET totp_last_step = 7, failed_logins = 2 WHERE id = 1")


def after_0003(conn):
    assert run(conn, "SELECT totp_last_step, failed_logins FROM users WHERE id = 1").one() == (7, 2)
    run(conn, "INSERT INTO audit_log (seq, at, actor_id, organization_id, action, record_type, record_id, "
              f"prev_hash, hash) VALUES (1, {T}, 1, 1, 'complaint.view', 'complaint', 1, :prev, :hash)",
        prev="0" * 64, hash="a" * 64)


def before_0005(conn):
    run(conn, f"INSERT INTO partnerships (id, agency_id, partner_id, created_at) VALUES (1, 1, 2, {T})")


def after_0005(conn):
    row = run(conn, "SELECT agency_id, partner_id, status, status_changed_at FROM partnerships WHERE id = 1").one()
    assert tuple(row) == (1, 2, "active", None)
    assert run(conn, "SELECT email, phone FROM users WHERE id = 1").one() == ("ana@example.org", None)


def before_0006(conn):
    pass  # the audit entry written after 0003 is the data 0006 must carry


def after_0006(conn):
    entry = run(conn, "SELECT * FROM audit_log WHERE seq = 1").mappings().one()
    assert (entry["action"], entry["hash"], entry["owner_organization_id"]) == ("complaint.view", "a" * 64, None)


def before_0007(conn):
    run(conn, "INSERT INTO complaints (id, agency_id, filed_by_org_id, filed_by_user_id, employer_name, description, "
              "language, workers_affected, received_at, status, created_at) VALUES (1, 1, 2, 1, "
              f"'The Acme Packing, LLC', 'Threatened to call immigration.', 'es', 3, {T}, 'open', {T})")
    run(conn, "INSERT INTO complaint_retaliation_types (complaint_id, type) VALUES (1, 'immigration_threat')")
    run(conn, f"INSERT INTO complaint_shares (complaint_id, partner_id, shared_at) VALUES (1, 2, {T})")


def after_0007(conn):
    assert run(conn, "SELECT partner_id FROM complaint_shares WHERE complaint_id = 1").scalar() == 2
    assert run(conn, "SELECT count(*) FROM complaint_share_events").scalar() == 0


def before_0008(conn):
    pass  # the complaint written before 0007, with rows that reference it, is the data 0008 must carry


def after_0008(conn):
    row = run(conn, "SELECT employer_name, employer_key, description FROM complaints WHERE id = 1").one()
    assert row == ("The Acme Packing, LLC", employer_key("The Acme Packing, LLC"), "Threatened to call immigration.")
    assert row.employer_key == "acme packing"
    assert run(conn, "SELECT type FROM complaint_retaliation_types WHERE complaint_id = 1").scalar() == \
        "immigration_threat"
    assert run(conn, "SELECT partner_id FROM complaint_shares WHERE complaint_id = 1").scalar() == 2


def before_0009(conn):
    run(conn, "INSERT INTO users (id, organization_id, email, name, role, language, password_hash, active, "
              f"failed_logins, created_at) VALUES (2, 1, 'luis@example.org', 'Luis', 'supervisor', 'en', 'hash-2', "
              f":active, 0, {T})", active=True)
    run(conn, "UPDATE users SET totp_secret_enc = :v WHERE id = 1",
        v=seal_v1(TOTP_SECRET, "users", "totp_secret_enc", 1))


def after_0009(conn):
    rows = run(conn, "SELECT id, row_key, totp_secret_enc FROM users ORDER BY id").all()
    keys = [r.row_key for r in rows]
    assert all(re.fullmatch(r"[0-9a-f]{32}", k) for k in keys) and len(set(keys)) == len(keys)
    # The v1 value still opens, by the path the User model reads with.
    place = fields_of(User)["totp_secret"].place(User)
    keyring = Keyring.from_config([KEY])
    assert place.open(rows[0].totp_secret_enc, rows[0].row_key, (1,), keyring) == TOTP_SECRET
    with pytest.raises(DBAPIError):  # no two rows share a row key
        with conn.begin_nested():
            run(conn, "UPDATE users SET row_key = :k WHERE id = 2", k=keys[0])


def after_0010(conn):
    # On SQLite organizations is rebuilt to gain its region: its rows keep their ids and values.
    rows = run(conn, "SELECT id, name, kind, region FROM organizations ORDER BY id").all()
    assert [tuple(r) for r in rows] == [(1, "Agency", "agency", None), (2, "Partner", "partner", None)]
    assert run(conn, "SELECT organization_id FROM users WHERE id = 2").scalar() == 1


def before_0013(conn):
    # A clock ticked at intake, then once after an outage: three entries skipped, the breach fired.
    run(conn, "INSERT INTO deadlines (id, organization_id, subject_type, subject_id, kind, reference, path, "
              "starts_at, due_at, position, next_rung_at, created_at) VALUES (1, 1, 'complaint', 1, "
              f"'complaint_response', 'RC-000001', '/complaints/1', {T}, '2026-01-03 00:00:00', 5, NULL, {T})")
    late, later = "'2026-01-03 02:00:00'", "'2026-01-07 01:00:00'"
    for position, rung, at, handled, outcome, sent in (
            (0, "intake", T, T, "fired", 2), (1, "unassigned", "'2026-01-01 04:00:00'", late, "skipped", 0),
            (2, "reminder", "'2026-01-02 00:00:00'", late, "skipped", 0),
            (3, "warning", "'2026-01-02 16:00:00'", late, "skipped", 0),
            (4, "breach", "'2026-01-03 00:00:00'", late, "fired", 3),
            # A second outage: two overdue repeats skipped, the third fired.
            (5, "overdue", "'2026-01-04 00:00:00'", later, "skipped", 0),
            (6, "overdue", "'2026-01-05 00:00:00'", later, "skipped", 0),
            (7, "overdue", "'2026-01-06 00:00:00'", later, "fired", 1)):
        run(conn, "INSERT INTO escalation_steps (deadline_id, position, rung, scheduled_at, handled_at, outcome, "
                  f"notices) VALUES (1, :position, :rung, {at}, {handled}, :outcome, :sent)",
            position=position, rung=rung, outcome=outcome, sent=sent)


def after_0013(conn):
    rows = run(conn, "SELECT position, rung, notices, skipped FROM escalation_steps "
                     "WHERE deadline_id = 1 ORDER BY position").all()
    assert [(r.position, r.rung, r.notices) for r in rows] == [(0, "intake", 2), (4, "breach", 3), (7, "overdue", 1)]
    skipped = [json.loads(r.skipped) if isinstance(r.skipped, str) else r.skipped for r in rows]
    assert skipped == [None, [
        {"position": 1, "rung": "unassigned", "scheduled_at": "2026-01-01T04:00:00Z"},
        {"position": 2, "rung": "reminder", "scheduled_at": "2026-01-02T00:00:00Z"},
        {"position": 3, "rung": "warning", "scheduled_at": "2026-01-02T16:00:00Z"}], [
        {"position": 5, "rung": "overdue", "scheduled_at": "2026-01-04T00:00:00Z"},
        {"position": 6, "rung": "overdue", "scheduled_at": "2026-01-05T00:00:00Z"}]]
    assert "outcome" not in columns(conn, "escalation_steps")


# What each revision changes, as (write before, check after). A new revision
# needs its entry here: the test below fails on a revision without one.
STEPS = {
    "0001": (None, None),
    "0002": (before_0002, after_0002),
    "0003": (before_0003, after_0003),
    "0005": (before_0005, after_0005),
    "0006": (before_0006, after_0006),
    "0007": (before_0007, after_0007),
    "0008": (before_0008, after_0008),
    "0009": (before_0009, after_0009),
    "0010": (None, after_0010),
    "0011": (None, None),  # new tables only (detained-worker alerts)
    "0012": (None, None),  # new tables only (holidays, immigration protections)
    "0013": (before_0013, after_0013),
    "0014": (None, None),  # an index only (deadlines in due order per kind)
}


def test_each_revision_carries_the_data_in_the_columns_it_changes(empty_url):
    script = ScriptDirectory.from_config(alembic_config(empty_url))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]  # oldest first
    assert list(STEPS) == revisions, "give each new revision its data step in STEPS"
    engine = make_engine(empty_url)
    try:
        for revision in revisions:
            before, after = STEPS[revision]
            if before:
                with engine.begin() as conn:
                    before(conn)
            upgrade(empty_url, revision)
            if after:
                with engine.begin() as conn:
                    after(conn)
    finally:
        engine.dispose()


def test_0009_values_rotate_to_row_keys_and_the_downgrade_keeps_them_readable(empty_url):
    upgrade(empty_url, "0008")
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        run(conn, "INSERT INTO organizations (id, name, kind, timezone, response_target_hours, created_at) "
                  f"VALUES (1, 'Agency', 'agency', 'UTC', 48, {T})")
        run(conn, "INSERT INTO users (id, organization_id, email, name, role, language, password_hash, active, "
                  "failed_logins, totp_secret_enc, created_at) VALUES (1, 1, 'ana@example.org', 'Ana', 'supervisor', "
                  f"'en', 'hash-1', :active, 0, :v, {T})",
            active=True, v=seal_v1(TOTP_SECRET, "users", "totp_secret_enc", 1))
    upgrade(empty_url, "0009")
    keyring = Keyring.from_config([KEY])
    with Session(engine) as session:
        counts = rotate_keys(session, [User], keyring=keyring)
    assert (counts["rows"], counts["reencrypted"], counts["undecryptable"]) == (1, 1, 0)
    with engine.connect() as conn:
        row = run(conn, "SELECT row_key, totp_secret_enc FROM users WHERE id = 1").one()
    assert row.totp_secret_enc.startswith("v2.")
    assert fields_of(User)["totp_secret"].place(User).open(row.totp_secret_enc, row.row_key, (1,), keyring) \
        == TOTP_SECRET
    # The code before 0009 could not read a v2 value: the downgrade refuses to strand it.
    with pytest.raises(RuntimeError, match="users.totp_secret_enc holds 1 values bound to row keys"):
        downgrade(empty_url, "0008")
    with engine.begin() as conn:
        assert "row_key" in columns(conn, "users")
        run(conn, "UPDATE users SET totp_secret_enc = NULL")
    downgrade(empty_url, "0008")
    with engine.connect() as conn:
        assert "row_key" not in columns(conn, "users")
        assert run(conn, "SELECT email FROM users WHERE id = 1").scalar() == "ana@example.org"
    engine.dispose()


def test_0013_downgrade_writes_the_skipped_rows_back(empty_url):
    upgrade(empty_url, "0012")
    engine = make_engine(empty_url)
    # Times typed, so SQLite's text with or without microseconds compares as the same time.
    query = text("SELECT deadline_id, position, rung, scheduled_at, handled_at, outcome, notices "
                 "FROM escalation_steps ORDER BY position").columns(scheduled_at=DateTime(), handled_at=DateTime())
    with engine.begin() as conn:
        run(conn, "INSERT INTO organizations (id, name, kind, timezone, response_target_hours, created_at) "
                  f"VALUES (1, 'Agency', 'agency', 'UTC', 48, {T})")
        before_0013(conn)
        rows = [tuple(r) for r in conn.execute(query)]
    assert len(rows) == 8
    upgrade(empty_url, "0013")
    downgrade(empty_url, "0012")
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(query)] == rows
    engine.dispose()


def test_0013_refuses_a_skipped_row_with_no_fired_row_after_it(empty_url):
    upgrade(empty_url, "0012")
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        run(conn, "INSERT INTO organizations (id, name, kind, timezone, response_target_hours, created_at) "
                  f"VALUES (1, 'Agency', 'agency', 'UTC', 48, {T})")
        before_0013(conn)
        run(conn, "DELETE FROM escalation_steps WHERE position = 7")
    engine.dispose()
    with pytest.raises(RuntimeError, match=r"skipped rows with no fired row after them, deadlines \[1\]"):
        upgrade(empty_url, "0013")
