"""The audit log: the chain holds, every kind of tampering is found at the exact
entry, concurrent writers never fork it, only agency admins read it (their own
agency's entries only), and `audit verify` says OK or names the broken entry."""
from __future__ import annotations

import re
import threading
import time as walltime
from datetime import timedelta

import pytest
from sqlalchemy import insert, inspect, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from coenforce.audit import service
from coenforce.audit.models import AuditEntry
from coenforce.audit.service import GENESIS, canonical, entry_hash, record, verify
from coenforce.db import db
from coenforce.partners.models import User

from tests.conftest import BACKEND, START, db_read, db_write

OTHER_KEY = "not-the-real-key-" + "x" * 40


def chain() -> list[AuditEntry]:
    with db_read() as s:
        return list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all())


def verdict(**kw):
    with db_read() as s:
        return verify(s, **kw)


@pytest.fixture
def filled(session, world):
    """Six committed entries by the agency's investigator, record ids 101..106."""
    for n in range(6):
        record(session, world.investigator, "complaint.view", "complaint", 101 + n)
    session.commit()
    return world


@pytest.fixture
def tamper():
    """Raw SQL as someone with the database's owner rights: the append-only
    triggers are dropped first (they stop mistakes, not an owner)."""
    with db_write() as s:
        if BACKEND == "postgresql":
            s.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        else:
            s.execute(text("DROP TRIGGER audit_log_no_update"))
            s.execute(text("DROP TRIGGER audit_log_no_delete"))

    def run(sql: str, **params):
        with db_write() as s:
            s.execute(text(sql), params)
    yield run
    if BACKEND == "postgresql":  # the schema outlives the test there
        with db_write() as s:
            s.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


# ----------------------------------------------------------------- the chain

def test_entries_form_a_chain_and_verify_says_ok(app, session, filled):
    entries = chain()
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5, 6]
    assert entries[0].prev_hash == GENESIS
    for before, after in zip(entries, entries[1:]):
        assert after.prev_hash == before.hash
    first = entries[0]
    assert first.at == START
    assert (first.actor_id, first.organization_id) == (filled.investigator.id, filled.agency.id)
    assert (first.action, first.record_type, first.record_id) == ("complaint.view", "complaint", 101)
    result = verdict()
    assert result.ok and str(result) == "OK"
    assert (result.checked, result.head_seq, result.head_hash) == (6, 6, entries[-1].hash)


def test_an_empty_log_verifies(app, session):
    result = verdict()
    assert result.ok and result.checked == 0 and result.head_seq is None


def test_verify_walks_in_batches(app, session, filled, tamper):
    assert verdict(batch_size=2).checked == 6
    assert verdict(batch_size=6).checked == 6  # a full last batch, then an empty one
    tamper("UPDATE audit_log SET record_id = 999 WHERE seq = 5")
    broken = verdict(batch_size=2)
    assert (broken.ok, broken.seq, broken.reason, broken.checked) == (False, 5, "hash_mismatch", 4)


def test_an_entry_exists_only_if_its_transaction_commits(app, session, world):
    record(session, world.investigator, "complaint.view", "complaint", 1)
    session.rollback()
    assert chain() == []
    record(session, world.investigator, "complaint.view", "complaint", 1)
    record(session, world.investigator, "complaint.export", "complaint", 1)  # two in one transaction
    session.commit()
    assert [e.seq for e in chain()] == [1, 2] and verdict().ok


def test_entries_hold_codes_and_ids_only(app, session, world):
    columns = {c["name"] for c in inspect(session.get_bind()).get_columns("audit_log")}
    assert columns == {"seq", "at", "actor_id", "organization_id", "owner_organization_id", "action",
                       "record_type", "record_id", "prev_hash", "hash"}
    for action in ("Viewed Maria Lopez's case", "complaint", "complaint.view; drop", "complaint.view\n", "",
                   "x." + "y" * 70, None):
        with pytest.raises(ValueError):
            record(session, world.investigator, action, "complaint", 1)
    for record_type in ("Maria Lopez", "complaint-1", "complaint\n", "", "x" * 33):
        with pytest.raises(ValueError):
            record(session, world.investigator, "complaint.view", record_type, 1)
    for record_id in ("12", 1.5, True, -1, 2**31):
        with pytest.raises(ValueError):
            record(session, world.investigator, "complaint.view", "complaint", record_id)
    session.rollback()
    assert chain() == []


def test_system_entries_name_the_organization(app, session, world):
    record(session, None, "detention.purge", "detention", 7, organization_id=world.agency.id)
    session.commit()
    entry = chain()[0]
    assert entry.actor_id is None and entry.organization_id == world.agency.id
    assert verdict().ok


def test_the_database_refuses_updates_and_deletes(app, session, filled):
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(action="complaint.export"))
    session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    session.rollback()
    assert len(chain()) == 6 and verdict().ok


def test_a_second_entry_with_the_same_seq_is_refused(app, session, filled):
    """The unique seq: two writers that read the same head cannot both append."""
    head = chain()[-1]
    with pytest.raises(IntegrityError):
        session.execute(insert(AuditEntry).values(
            seq=head.seq, at=START, actor_id=1, organization_id=1, action="complaint.view", record_type="complaint",
            record_id=1, prev_hash=head.prev_hash, hash="0" * 64))
    session.rollback()


# ----------------------------------------------------------------- tampering

@pytest.mark.parametrize("sql", [
    "UPDATE audit_log SET action = 'complaint.export' WHERE seq = 3",
    "UPDATE audit_log SET record_id = 999 WHERE seq = 3",
    "UPDATE audit_log SET record_type = 'detention' WHERE seq = 3",
    "UPDATE audit_log SET actor_id = actor_id + 1 WHERE seq = 3",
    "UPDATE audit_log SET organization_id = NULL WHERE seq = 3",
    "UPDATE audit_log SET hash = '" + "a" * 64 + "' WHERE seq = 3",
    "UPDATE audit_log SET hash = 'ñ' WHERE seq = 3",
])
def test_a_row_edited_by_raw_sql_is_reported_at_its_seq(app, session, filled, tamper, sql):
    tamper(sql)
    broken = verdict()
    assert (broken.ok, broken.seq, broken.reason) == (False, 3, "hash_mismatch")
    assert broken.checked == 2 and broken.head_seq == 2
    assert str(broken).startswith("seq 3: hash mismatch")


def test_a_changed_time_is_reported_at_its_seq(app, session, filled, tamper):
    tamper("SELECT 1")
    with db_write() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(at=START - timedelta(hours=1)))
    broken = verdict()
    assert (broken.seq, broken.reason) == (4, "hash_mismatch")


def test_a_deleted_row_in_the_middle_is_a_gap(app, session, filled, tamper):
    tamper("DELETE FROM audit_log WHERE seq = 3")
    broken = verdict()
    assert (broken.ok, broken.seq, broken.reason) == (False, 4, "gap")
    assert "expected 3" in broken.detail


def test_a_deleted_first_row_is_a_gap(app, session, filled, tamper):
    tamper("DELETE FROM audit_log WHERE seq = 1")
    broken = verdict()
    assert (broken.seq, broken.reason, broken.checked) == (2, "gap", 0)


def test_renumbering_after_a_delete_breaks_the_link(app, session, filled, tamper):
    tamper("DELETE FROM audit_log WHERE seq = 3")
    for seq in (4, 5, 6):
        tamper("UPDATE audit_log SET seq = :new WHERE seq = :old", new=seq - 1, old=seq)
    broken = verdict()
    assert (broken.seq, broken.reason) == (3, "wrong_prev_hash")


def test_an_entry_written_with_another_key_is_caught(app, session, filled):
    real = app.config["AUDIT_KEY"]
    app.config["AUDIT_KEY"] = OTHER_KEY
    try:
        record(session, filled.investigator, "complaint.view", "complaint", 107)
        session.commit()
    finally:
        app.config["AUDIT_KEY"] = real
    record(session, filled.investigator, "complaint.view", "complaint", 108)
    session.commit()
    broken = verdict()
    assert (broken.seq, broken.reason) == (7, "hash_mismatch")


def test_a_forged_row_that_links_correctly_but_lacks_the_key_is_caught(app, session, filled, tamper):
    """The forger reads the head and computes a perfect-looking entry, with a key of their own."""
    head = chain()[-1]
    fields = canonical(7, START, filled.admin.id, filled.agency.id, "complaint.view", "complaint", 101)
    tamper("INSERT INTO audit_log (seq, at, actor_id, organization_id, action, record_type, record_id, "
           "prev_hash, hash) VALUES (7, :at, :actor, :org, 'complaint.view', 'complaint', 101, :prev, :hash)",
           at=START.replace(tzinfo=None) if BACKEND == "sqlite" else START, actor=filled.admin.id,
           org=filled.agency.id, prev=head.hash, hash=entry_hash(OTHER_KEY, head.hash, fields))
    broken = verdict()
    assert (broken.seq, broken.reason) == (7, "hash_mismatch")


def test_an_entry_off_the_chain_is_a_wrong_previous_hash(app, session, filled, tamper):
    """A correctly keyed entry that does not link to its predecessor (a fork)."""
    entries = chain()
    forked = "b" * 64
    fields = canonical(7, START, filled.admin.id, filled.agency.id, "complaint.view", "complaint", 101)
    tamper("INSERT INTO audit_log (seq, at, actor_id, organization_id, action, record_type, record_id, "
           "prev_hash, hash) VALUES (7, :at, :actor, :org, 'complaint.view', 'complaint', 101, :prev, :hash)",
           at=START.replace(tzinfo=None) if BACKEND == "sqlite" else START, actor=filled.admin.id,
           org=filled.agency.id, prev=forked, hash=entry_hash(app.config["AUDIT_KEY"], forked, fields))
    assert entries[-1].hash != forked
    broken = verdict()
    assert (broken.seq, broken.reason) == (7, "wrong_prev_hash")


def test_verification_needs_the_key(app, session, filled):
    broken = verdict(key=OTHER_KEY)
    assert (broken.seq, broken.reason) == (1, "hash_mismatch")


# ----------------------------------------------------------------- concurrency

def _writers(app, world, count: int, each: int):
    """`count` threads, each with its own session, appending `each` entries at once."""
    actors = [u.id for u in (world.admin, world.supervisor, world.investigator, world.liaison)]
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with app.app_context():
                session = db.new_session(app)
                try:
                    actor = session.get(User, actors[n % len(actors)])
                    session.commit()
                    barrier.wait(timeout=30)
                    for i in range(each):
                        record(session, actor, "complaint.view", "complaint", n * 100 + i)
                        session.commit()
                finally:
                    session.close()
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return errors


def test_twenty_concurrent_writers_leave_one_unforked_chain(app, session, world):
    errors = _writers(app, world, count=20, each=5)
    assert not errors, errors
    entries = chain()
    assert [e.seq for e in entries] == list(range(1, 101))
    assert sorted(e.record_id for e in entries) == sorted(n * 100 + i for n in range(20) for i in range(5))
    assert len({e.prev_hash for e in entries}) == 100  # no two entries claim the same predecessor
    result = verdict()
    assert result.ok and result.checked == 100


def _advisory_waiters(session) -> int:
    """Transactions queued on the audit append lock (a bigint advisory lock
    shows as classid = high 32 bits, objid = low 32 bits)."""
    return session.scalar(text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND classid = :high AND objid = :low AND database = (SELECT oid FROM pg_database "
        "WHERE datname = current_database())"), {"high": service.LOCK_ID >> 32, "low": service.LOCK_ID & 0xFFFFFFFF})


def _race(app, world, hook):
    """Two writers in threads, released together by a barrier, each appending
    one entry in its own session; `hook(n, prev_hash)` runs inside record()
    after the head was read and before the insert. Returns what each writer
    read as the head, what it committed, and the errors."""
    actors = [world.investigator.id, world.supervisor.id]
    start = threading.Barrier(2)
    read: dict[int, str] = {}
    committed: dict[int, int] = {}
    errors: dict[int, BaseException] = {}
    real_hash = service.entry_hash
    writer = threading.local()

    def hooked_hash(key, prev_hash, fields):
        read[writer.n] = prev_hash
        hook(writer.n, prev_hash)
        return real_hash(key, prev_hash, fields)

    def write(n: int) -> None:
        writer.n = n
        try:
            with app.app_context():
                session = db.new_session(app)
                try:
                    actor = session.get(User, actors[n])
                    session.commit()
                    start.wait(timeout=30)
                    committed[n] = record(session, actor, "complaint.view", "complaint", 500 + n).seq
                    session.commit()
                finally:
                    session.close()
        except BaseException as exc:  # reported to the test: a thread's failure must fail it
            errors[n] = exc

    service.entry_hash = hooked_hash
    try:
        threads = [threading.Thread(target=write, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        service.entry_hash = real_hash
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return read, committed, errors


@pytest.mark.postgresql_only
def test_without_the_lock_racing_writers_fail_on_the_unique_seq_and_never_fork(app, session, world, monkeypatch):
    """Last line of defence. The lock is taken away and both writers are held
    after reading the head until both have read it: the race is certain, and
    the second insert must fail on the unique seq instead of forking the chain."""
    monkeypatch.setattr(service, "_serialize_appends", lambda session: None)
    both_read = threading.Barrier(2)
    read, committed, errors = _race(app, world, lambda n, prev: both_read.wait(timeout=30))
    assert read[0] == read[1] == GENESIS, "both writers read the same head: the race happened"
    assert len(committed) == 1 and len(errors) == 1, (committed, errors)
    assert isinstance(next(iter(errors.values())), IntegrityError)
    entries = chain()
    assert [e.seq for e in entries] == [1] and entries[0].record_id == 500 + next(iter(committed))
    assert verdict().ok


@pytest.mark.postgresql_only
def test_concurrent_writers_queue_on_the_append_lock_and_never_fork(app, session, world):
    """Both writers start together; the first to hold the lock stays inside
    record() until the database shows the other one waiting for that lock:
    they overlapped for certain, and the chain is still one line."""
    observed: list[int] = []

    def first_holds_until_the_other_waits(n, prev_hash):
        if observed:
            return  # the second writer, let through after the first committed
        watcher = db.new_session(app)
        try:
            for _ in range(1000):  # polls the database for a state, not the clock
                waiting = _advisory_waiters(watcher)
                watcher.rollback()
                if waiting:
                    break
                walltime.sleep(0.01)
            observed.append(waiting)
        finally:
            watcher.close()

    read, committed, errors = _race(app, world, first_holds_until_the_other_waits)
    assert not errors, errors
    assert observed == [1], "the second writer waited on the first one's lock"
    assert sorted(committed.values()) == [1, 2]
    first, second = chain()
    assert read[[n for n, seq in committed.items() if seq == 1][0]] == GENESIS
    assert read[[n for n, seq in committed.items() if seq == 2][0]] == first.hash  # read after the first committed
    assert second.prev_hash == first.hash and verdict().ok


# ----------------------------------------------------------------- the page

SEQ_CELL = re.compile(r"<tr>\s*<td>(\d+)</td>")


def listed(client, query: str = "") -> tuple[int, str, list[int]]:
    response = client.get("/audit/" + query)
    html = response.get_data(as_text=True)
    return response.status_code, html, [int(s) for s in SEQ_CELL.findall(html)]


@pytest.mark.parametrize("role", ["supervisor", "investigator", "liaison", "organizer", "other_supervisor"])
def test_only_agency_admins_see_the_log(client, login, world, role):
    login(getattr(world, role))
    assert client.get("/audit/").status_code == 403


def test_the_log_needs_a_login(client):
    response = client.get("/audit/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_sees_only_their_agencys_entries_newest_first(client, login, session, world):
    record(session, world.investigator, "complaint.view", "complaint", 5001)       # seq 1
    record(session, world.other_investigator, "complaint.view", "complaint", 6001)  # seq 2, other agency
    record(session, world.liaison, "complaint.view", "complaint", 7001)             # seq 3, the partner
    record(session, world.supervisor, "complaint.export", "complaint", 5002)        # seq 4
    record(session, world.admin, "detention.reveal", "detention", 5003)             # seq 5
    session.commit()
    login(world.admin)
    status, html, seqs = listed(client)
    assert status == 200
    assert seqs == [5, 4, 1]
    assert "#5001" in html and "#5002" in html and "#5003" in html
    assert "#6001" not in html and "#7001" not in html
    assert world.supervisor.name in html and "Exported" in html and "Revealed" in html
    assert "<script" not in html and "style=" not in html
    # The person filter offers the agency's people only.
    assert f'<option value="{world.other_investigator.id}"' not in html
    assert f'<option value="{world.investigator.id}"' in html


def test_filters_by_person_record_and_local_dates(client, login, session, world, frozen):
    # START is 09:00 on 2 March in Los Angeles, the agency's zone.
    record(session, world.investigator, "complaint.view", "complaint", 11)   # seq 1, 2 March local
    frozen.set(START.replace(hour=23) + timedelta(hours=8, minutes=30))     # 07:30 UTC 3 March = 23:30 2 March local
    record(session, world.supervisor, "complaint.view", "complaint", 12)     # seq 2, 2 March local
    frozen.set(START + timedelta(days=1))
    record(session, world.investigator, "complaint.export", "complaint", 12)  # seq 3, 3 March local
    record(session, world.other_investigator, "complaint.view", "complaint", 12)  # seq 4, other agency
    frozen.set(START + timedelta(days=3))
    record(session, world.investigator, "detention.reveal", "detention", 12)  # seq 5, 5 March local
    session.commit()
    login(world.admin)

    assert listed(client, f"?person={world.investigator.id}")[2] == [5, 3, 1]
    assert listed(client, f"?person={world.supervisor.id}")[2] == [2]
    # Another agency's person is not a choice: the filter is ignored, the scope stays.
    assert listed(client, f"?person={world.other_investigator.id}")[2] == [5, 3, 2, 1]
    assert listed(client, "?record_type=complaint&record_id=12")[2] == [3, 2]
    assert listed(client, "?record_type=detention")[2] == [5]
    assert listed(client, "?record_id=11")[2] == [1]
    assert listed(client, "?from=2026-03-02&to=2026-03-02")[2] == [2, 1]  # 07:30 UTC on the 3rd is the 2nd here
    assert listed(client, "?from=2026-03-03")[2] == [5, 3]
    assert listed(client, "?to=2026-03-03")[2] == [3, 2, 1]
    assert listed(client, f"?from=2026-03-03&to=2026-03-04&person={world.investigator.id}"
                          "&record_type=complaint")[2] == [3]


def test_bad_filters_are_explained_not_a_crash(client, login, session, world):
    record(session, world.investigator, "complaint.view", "complaint", 1)
    session.commit()
    login(world.admin)
    for query in ("?from=yesterday", "?to=2026-02-30", "?record_id=abc", "?record_id=99999999999999999999",
                  "?from=2026-03-05&to=2026-03-01"):
        status, html, seqs = listed(client, query)
        assert status == 200, query
        assert 'class="error"' in html, query
        assert seqs == [1], query
    for query in ("?person=abc", "?person=99999999999999999999", "?record_type=x%00y", "?before=-1",
                  "?before=99999999999999999999999", "?after=abc", "?from=0001-01-01&to=9999-12-31"):
        status, _html, seqs = listed(client, query)
        assert (status, seqs) == (200, [1]), query


def test_pages_go_by_seq(client, login, session, world):
    for n in range(105):
        record(session, world.investigator, "complaint.view", "complaint", n)
    session.commit()
    login(world.admin)
    status, html, seqs = listed(client)
    assert seqs == list(range(105, 5, -1))
    older = re.search(r'href="([^"]*before=6[^"]*)"', html)
    assert older and "after=" not in html
    status, html, seqs = listed(client, "?before=6")
    assert seqs == [5, 4, 3, 2, 1]
    newer = re.search(r'href="/audit/\?([^"]*after=5[^"]*)"', html)
    assert newer and "before=" not in html
    assert listed(client, "?after=5")[2] == list(range(105, 5, -1))
    # Filters travel with the page links.
    _s, html, _seqs = listed(client, f"?person={world.investigator.id}")
    assert f"person={world.investigator.id}" in re.search(r'href="([^"]*before=6[^"]*)"', html).group(1)


# ----------------------------------------------------------------- the command line

def test_cli_verify_prints_ok(runner, session, filled):
    result = runner.invoke(args=["audit", "verify"])
    assert (result.exit_code, result.output) == (0, "OK\n")


def test_cli_verify_on_an_empty_log_prints_ok(runner):
    result = runner.invoke(args=["audit", "verify"])
    assert (result.exit_code, result.output) == (0, "OK\n")


def test_cli_verify_names_the_first_broken_entry_and_exits_1(runner, session, filled, tamper):
    tamper("UPDATE audit_log SET action = 'complaint.export' WHERE seq = 4")
    tamper("DELETE FROM audit_log WHERE seq = 5")
    result = runner.invoke(args=["audit", "verify", "--batch-size", "2"])
    assert result.exit_code == 1
    assert result.output.startswith("BROKEN seq 4: hash mismatch")


# ----------------------------------------------------------------- the key

def test_each_testing_app_has_its_own_key(app, database_url):
    from coenforce import create_app
    other = create_app({"DATABASE_URL": database_url})
    db.engine_for(other).dispose()
    assert app.config["AUDIT_KEY"] and other.config["AUDIT_KEY"] != app.config["AUDIT_KEY"]
    assert len(app.config["AUDIT_KEY"]) >= 32


def test_production_refuses_to_start_without_an_audit_key(monkeypatch, database_url):
    from config import ConfigError

    from coenforce import create_app
    monkeypatch.setenv("COENFORCE_ENV", "production")
    monkeypatch.setenv("COENFORCE_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("COENFORCE_ENCRYPTION_KEYS", "A" * 43 + "=")
    monkeypatch.delenv("COENFORCE_AUDIT_KEY", raising=False)
    with pytest.raises(ConfigError, match="COENFORCE_AUDIT_KEY"):
        create_app({"DATABASE_URL": database_url})
    monkeypatch.setenv("COENFORCE_AUDIT_KEY", "short")
    with pytest.raises(ConfigError, match="COENFORCE_AUDIT_KEY"):
        create_app({"DATABASE_URL": database_url})
    monkeypatch.setenv("COENFORCE_AUDIT_KEY", "k" * 48)
    started = create_app({"DATABASE_URL": database_url})
    db.engine_for(started).dispose()
    assert started.config["AUDIT_KEY"] == "k" * 48


def test_development_key_is_made_once_in_the_instance_folder(monkeypatch, tmp_path):
    import config
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    first = config.DevelopmentConfig.default_audit_key()
    assert first and config.DevelopmentConfig.default_audit_key() == first
    path = tmp_path / "audit_key"
    assert path.read_text().strip() == first and oct(path.stat().st_mode & 0o777) == "0o600"
