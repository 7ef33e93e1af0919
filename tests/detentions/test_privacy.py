"""The alert's most dangerous data: sealed at rest (the raw SQLite file and a
PostgreSQL dump hold no plaintext), rotated with `keys rotate`, unreadable with
a wrong key (a clear error, not garbage), purged after retention while the
outcome stays, and never in an email or a log line."""
from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from coenforce import escalation
from coenforce.audit.models import AuditEntry
from coenforce.audit.service import verify
from coenforce.detentions.models import AlertTask, DetentionAlert
from coenforce.notify.dispatcher import dispatch
from coenforce.notify.models import Notice
from coenforce.notify.render import render
from coenforce.security.crypto.sealing import DecryptionError, key_id

from tests.audit.test_audit import tamper  # noqa: F401  (a fixture)
from tests.conftest import BACKEND, START, db_read, db_write

NAME, NUMBER, FAMILY = "Rosa Canary-Wk4", "087654321", "Brother Canary-Wk4, 555-0199"
ALERT = {"worker_name": NAME, "a_number": "A" + NUMBER, "country": "HN", "family_contact": FAMILY,
         "notes": "Notes Canary-Wk4", "detained_where": "raid"}
PLAINTEXTS = [NAME, NUMBER, FAMILY, "Canary-Wk4"]


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def raise_alert(api, world) -> int:
    response = api(world.liaison).post("/detentions", json=ALERT)
    assert response.status_code == 201, response.get_json()
    alert_id = response.get_json()["id"]
    api(world.supervisor).post(f"/detentions/{alert_id}/tasks/family", json={"note": f"Told {FAMILY}"})
    return alert_id


def database_text(database_url: str) -> bytes:
    """Everything the database holds, as bytes: the SQLite files, or a pg_dump of the test schema."""
    if BACKEND == "sqlite":
        path = Path(make_url(database_url).database)
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    url = make_url(database_url)
    schema = dict(url.query).get("options", "").split("search_path=")[-1] or "public"
    dumped = subprocess.run(["pg_dump", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
                             "-U", url.username or "postgres", "-n", schema, "--data-only", url.database],
                            capture_output=True, check=True)
    return dumped.stdout


def test_nothing_identifying_is_stored_in_plaintext(api, world, app, database_url):
    alert_id = raise_alert(api, world)
    stored = database_text(app.config["DATABASE_URL"])
    assert b"State Labor Office" in stored  # the scan reads the test's data...
    for plaintext in PLAINTEXTS:  # ...and finds none of the worker's
        assert plaintext.encode() not in stored, plaintext
    with db_read() as s:
        alert = s.get(DetentionAlert, alert_id)
        assert (alert.worker_name, alert.a_number, alert.country) == (NAME, NUMBER, "HN")
        # The blind index finds the alert from any way of writing the number.
        assert s.scalar(select(DetentionAlert.id).where(DetentionAlert.a_number.matches("A-087-654-321"))) == alert_id


def test_rotation_keeps_everything_readable_and_nothing_under_the_old_key(api, world, app, runner):
    old = app.config["ENCRYPTION_KEYS"][0]
    alert_id = raise_alert(api, world)
    new = new_key()
    app.config["ENCRYPTION_KEYS"] = [new, old]
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert counts["undecryptable"] == 0 and counts["reencrypted"] >= 6  # name, number, country, family, notes, task
    old_id = key_id(base64.urlsafe_b64decode(old))
    with db_read() as s:
        values = [v for row in s.execute(text(
            "SELECT worker_name_enc, a_number_enc, country_enc, family_contact_enc, notes_enc FROM detentions"))
            for v in row] + list(s.scalars(text("SELECT note_enc FROM detention_tasks WHERE note_enc IS NOT NULL")))
    assert values and not [v for v in values if f".{old_id}." in v]
    app.config["ENCRYPTION_KEYS"] = [new]
    with db_read() as s:
        alert = s.get(DetentionAlert, alert_id)
        assert (alert.worker_name, alert.a_number, alert.family_contact) == (NAME, NUMBER, FAMILY)
        assert s.scalar(select(DetentionAlert.id).where(DetentionAlert.a_number.matches(NUMBER))) == alert_id


def test_a_wrong_key_gives_a_clear_error_not_garbage(api, world, app):
    alert_id = raise_alert(api, world)
    app.config["ENCRYPTION_KEYS"] = [new_key()]
    with db_read() as s:
        alert = s.get(DetentionAlert, alert_id)
        with pytest.raises(DecryptionError) as failure:
            alert.worker_name  # noqa: B018
    assert "detentions.worker_name_enc" in str(failure.value) and NAME not in str(failure.value)


@pytest.mark.app_config(DETENTION_RETENTION_DAYS=90)
def test_retention_purges_the_sealed_fields_and_keeps_the_outcome(api, world, app, frozen, runner, database_url):
    alert_id = raise_alert(api, world)
    assert api(world.liaison).post(f"/detentions/{alert_id}/close", json={"outcome": "removed"}).status_code == 200
    frozen.set(START + timedelta(days=89))
    assert json.loads(runner.invoke(args=["detentions", "purge"]).stdout) == {"purged": 0}
    frozen.set(START + timedelta(days=90, minutes=1))
    assert json.loads(runner.invoke(args=["detentions", "purge"]).stdout) == {"purged": 1}
    with db_read() as s:
        alert = s.get(DetentionAlert, alert_id)
        assert (alert.outcome, alert.status, alert.purged_at is not None) == ("removed", "closed", True)
        assert (alert.worker_name, alert.a_number, alert.a_number_bidx, alert.family_contact, alert.notes,
                alert.country) == (None, None, None, None, None, None)
        assert all(t.note is None and t.note_enc is None for t in s.scalars(select(AlertTask)))
        assert s.scalar(select(AuditEntry.action).where(AuditEntry.record_type == "detention")
                        .order_by(AuditEntry.seq.desc())) == "detention.purge"
        assert verify(s).ok
    stored = database_text(database_url)
    for plaintext in PLAINTEXTS:
        assert plaintext.encode() not in stored
    # PostgreSQL: the purge VACUUMed the table, so no dead row version holds the old ciphertext.
    if BACKEND == "postgresql":
        with db_read() as s:
            dead = s.execute(text("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'detentions'")).scalar()
        assert dead == 0


def test_no_identifying_value_reaches_an_email_or_a_log_line(api, world, app, frozen, caplog):
    caplog.set_level(logging.DEBUG)
    alert_id = raise_alert(api, world)
    api(world.supervisor).get(f"/detentions/{alert_id}")
    api(world.supervisor).post(f"/detentions/{alert_id}/reveal")
    api(world.liaison).post("/detentions", json={**ALERT, "a_number": "Canary-Wk4 bad", "country": "Canary-Wk4"})
    frozen.set(START + timedelta(hours=30))
    with db_write() as s:
        escalation.tick(s, frozen())
    with db_write() as s:
        dispatch(s, frozen())
    with db_read() as s:
        sent = [(m.subject, m.text, m.html) for m in (render(n, n.recipient) for n in s.scalars(select(Notice)))]
    assert sent and len(sent) > 4
    for plaintext in PLAINTEXTS:
        assert not [m for m in sent if any(plaintext in (part or "") for part in m)], plaintext
        assert plaintext not in caplog.text, plaintext


def test_the_scheduler_runs_the_retention_job(app):
    from coenforce.detentions.service import purge_closed
    from coenforce.scheduler import build_scheduler
    scheduler = build_scheduler(app)
    job = scheduler.get_job("detention_retention")
    assert job is not None and job.args[1:] == ("detention_retention", purge_closed)
    assert job.trigger.interval.total_seconds() == 3600


@pytest.mark.parametrize("edit", ["UPDATE audit_log SET actor_id = :other WHERE action = 'detention.reveal'",
                                  "DELETE FROM audit_log WHERE action = 'detention.reveal'"])
def test_editing_or_deleting_who_saw_an_alert_is_caught(api, world, runner, tamper, edit):
    alert_id = raise_alert(api, world)
    api(world.investigator).get(f"/detentions/{alert_id}")
    api(world.supervisor).post(f"/detentions/{alert_id}/reveal")
    api(world.liaison).get(f"/detentions/{alert_id}")
    assert runner.invoke(args=["audit", "verify"]).output.strip() == "OK"
    tamper(edit, other=world.investigator.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "seq" in result.output
