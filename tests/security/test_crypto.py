"""Field encryption, blind indexes, key rotation and purging, attacked from the
database side: raw SQL moves and flips ciphertexts, keys change under the data,
and after a purge the SQLite files are read byte by byte.

No production model encrypts yet, so these tests bring their own model on a
metadata of their own (Alembic's metadata in coenforce/models.py stays as it is)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import MetaData, String, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from coenforce import create_app
from coenforce.db import db
from coenforce.security import crypto
from coenforce.security.crypto import (
    DecryptionError, EncryptedField, Keyring, blind_index, blind_index_column, checkpoint_wal, encrypted_column,
    key_id, purge_fields, purge_rows, register_model, rotate_keys, unregister_model,
)

from tests.conftest import BACKEND, fresh

TABLE = "crypto_test_secrets"


class CryptoTestBase(DeclarativeBase):
    metadata = MetaData()


class Secret(CryptoTestBase):
    __tablename__ = TABLE

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(40), default="")
    a_number_enc: Mapped[str | None] = encrypted_column()
    a_number_bidx: Mapped[str | None] = blind_index_column()
    notes_enc: Mapped[str | None] = encrypted_column()

    a_number = EncryptedField("a_number_enc", index="a_number_bidx", purpose="a_number")
    notes = EncryptedField("notes_enc")


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def kid(key: str) -> str:
    return key_id(base64.urlsafe_b64decode(key))


@pytest.fixture
def secrets(app, session):
    """The test model's table in the test database, registered for rotation."""
    engine = db.engine_for(app)
    CryptoTestBase.metadata.create_all(engine)
    register_model(Secret)
    yield Secret
    unregister_model(Secret)
    session.close()  # on PostgreSQL an open transaction would block the DROP
    CryptoTestBase.metadata.drop_all(engine)


@pytest.fixture
def use_keys(app):
    """Set the app's ENCRYPTION_KEYS (first encrypts, all decrypt)."""
    def use(*keys: str) -> None:
        app.config["ENCRYPTION_KEYS"] = list(keys)
    return use


def add(session, **values) -> int:
    fresh(session)
    secret = Secret(label=values.pop("label", ""))
    for name, value in values.items():
        setattr(secret, name, value)
    session.add(secret)
    session.commit()
    return secret.id


def reload(session, secret_id: int) -> Secret:
    """The row as the database has it: a new object, no plaintext in memory."""
    fresh(session)
    session.expunge_all()
    return session.get(Secret, secret_id)


def raw(session, secret_id: int) -> dict:
    fresh(session)
    row = session.execute(text(f"SELECT * FROM {TABLE} WHERE id = :id"), {"id": secret_id}).mappings().one()
    return dict(row)


def set_raw(session, secret_id: int, column: str, value: str | None) -> None:
    fresh(session)
    session.execute(text(f"UPDATE {TABLE} SET {column} = :v WHERE id = :id"), {"v": value, "id": secret_id})
    session.commit()


# ----------------------------------------------------------------- sealing

def test_round_trip_stores_only_ciphertext(secrets, session, app):
    value, notes = "A-012-345-678", "Sister Rosa Delgado, 555-0100"
    secret_id = add(session, a_number=value, notes=notes)
    row = raw(session, secret_id)
    current = kid(app.config["ENCRYPTION_KEYS"][0])
    assert row["a_number_enc"].startswith(f"v1.{current}.") and row["notes_enc"].startswith(f"v1.{current}.")
    stored = " ".join(str(v) for v in row.values())
    assert "012345678" not in stored and "345-678" not in stored and "Rosa" not in stored

    secret = reload(session, secret_id)
    assert (secret.a_number, secret.notes) == (value, notes)

    secret.notes = "moved to another facility"  # a loaded row has its id: sealed at once
    session.commit()
    assert reload(session, secret_id).notes == "moved to another facility"
    assert raw(session, secret_id)["notes_enc"] != row["notes_enc"]

    secret = reload(session, secret_id)
    secret.a_number = None
    session.commit()
    assert raw(session, secret_id)["a_number_enc"] is None and raw(session, secret_id)["a_number_bidx"] is None
    assert reload(session, secret_id).a_number is None


def test_sealed_with_the_real_id_inside_the_flush_transaction(secrets, session):
    fresh(session)
    secret = Secret()
    secret.notes = "waits for its id"
    assert secret.notes == "waits for its id" and secret.notes_enc is None
    session.add(secret)
    session.flush()
    # Same transaction, before any commit: the UPDATE after INSERT has run.
    stored = session.execute(text(f"SELECT notes_enc FROM {TABLE} WHERE id = :id"), {"id": secret.id}).scalar()
    assert stored is not None and stored == secret.notes_enc
    session.rollback()
    assert session.execute(text(f"SELECT count(*) FROM {TABLE}")).scalar() == 0


def test_many_rows_in_one_flush_and_an_id_given_by_hand(secrets, session):
    fresh(session)
    batch = [Secret(label=str(n)) for n in range(5)]
    for n, secret in enumerate(batch):
        secret.notes = f"note {n}"
    by_hand = Secret(id=1000)
    by_hand.notes = "sealed at once with id 1000"
    changed = Secret(id=2000)
    changed.notes = "sealed for 2000, inserted as 2001"
    changed.id = 2001
    session.add_all([*batch, by_hand, changed])
    session.commit()
    ids = [secret.id for secret in batch]
    for n, secret_id in enumerate(ids):
        assert reload(session, secret_id).notes == f"note {n}"
    assert reload(session, 1000).notes == "sealed at once with id 1000"
    assert reload(session, 2001).notes == "sealed for 2000, inserted as 2001"


def test_same_value_twice_gives_different_ciphertexts(secrets, session):
    first = add(session, notes="same words")
    second = add(session, notes="same words")
    a, b = raw(session, first)["notes_enc"], raw(session, second)["notes_enc"]
    assert a != b
    assert a.split(".")[2][:16] != b.split(".")[2][:16]  # the nonces differ, not just the AD
    secret = reload(session, first)
    secret.notes = "same words"
    session.commit()
    assert raw(session, first)["notes_enc"] != a


def test_ciphertext_copied_to_another_row_fails(secrets, session):
    victim = add(session, a_number="A-987-654-321")
    other = add(session, a_number="A-111-222-333")
    stolen = raw(session, victim)["a_number_enc"]
    set_raw(session, other, "a_number_enc", stolen)
    with pytest.raises(DecryptionError) as caught:
        reload(session, other).a_number
    message = str(caught.value)
    assert f"{TABLE}.a_number_enc" in message and f"row {other}" in message
    assert "987" not in message and "111" not in message and stolen[10:30] not in message
    assert reload(session, victim).a_number == "A-987-654-321"


def test_ciphertext_copied_to_another_column_fails(secrets, session):
    secret_id = add(session, a_number="A-987-654-321", notes="a note")
    set_raw(session, secret_id, "notes_enc", raw(session, secret_id)["a_number_enc"])
    with pytest.raises(DecryptionError, match=f"{TABLE}.notes_enc of row {secret_id}"):
        reload(session, secret_id).notes


@pytest.mark.parametrize("position", [0, 11, 12, -17, -1], ids=["nonce", "nonce-end", "body", "tag-start", "tag-end"])
def test_a_flipped_bit_fails(secrets, session, position):
    secret_id = add(session, notes="do not alter me")
    version, key, payload = raw(session, secret_id)["notes_enc"].split(".")
    blob = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    blob[position] ^= 0x01
    set_raw(session, secret_id, "notes_enc", f"{version}.{key}.{base64.urlsafe_b64encode(bytes(blob)).decode()}")
    with pytest.raises(DecryptionError, match="authentication failed"):
        reload(session, secret_id).notes


@pytest.mark.parametrize("stored, reason", [
    ("v1.AAAAAAAA.AAAA", "is not among the configured keys"),
    ("v2.x.y", "not a coenforce ciphertext"),
    ("plain text someone wrote by hand", "not a coenforce ciphertext"),
])
def test_foreign_or_malformed_text_fails(secrets, session, stored, reason):
    secret_id = add(session, notes="original")
    set_raw(session, secret_id, "notes_enc", stored)
    with pytest.raises(DecryptionError, match=reason):
        reload(session, secret_id).notes


def test_malformed_payload_under_a_known_key_fails(secrets, session, app):
    secret_id = add(session, notes="original")
    set_raw(session, secret_id, "notes_enc", f"v1.{kid(app.config['ENCRYPTION_KEYS'][0])}.c2hvcnQ")
    with pytest.raises(DecryptionError, match="malformed"):
        reload(session, secret_id).notes


# ----------------------------------------------------------------- keys

def test_old_key_decrypts_while_listed_in_any_position(secrets, session, use_keys):
    old, new = new_key(), new_key()
    use_keys(old)
    secret_id = add(session, notes="written under the old key")
    use_keys(new, old)
    assert reload(session, secret_id).notes == "written under the old key"
    fresh_id = add(session, notes="written under the new key")
    assert raw(session, fresh_id)["notes_enc"].startswith(f"v1.{kid(new)}.")
    use_keys(old, new)  # reordering: key ids do not depend on position
    assert reload(session, secret_id).notes == "written under the old key"
    assert reload(session, fresh_id).notes == "written under the new key"
    use_keys(new)
    with pytest.raises(DecryptionError, match=f"key {kid(old)} is not among"):
        reload(session, secret_id).notes


def read_all_with_only(database_url: str, key: str) -> dict[int, tuple]:
    """Every row decrypted by an app that holds only `key`."""
    only = create_app({"DATABASE_URL": database_url, "ENCRYPTION_KEYS": [key]})
    try:
        with only.app_context():
            s = db.new_session(only, sqlite_begin="DEFERRED")
            try:
                return {r.id: (r.a_number, r.notes) for r in s.scalars(select(Secret).order_by(Secret.id))}
            finally:
                s.close()
    finally:
        db.engine_for(only).dispose()


def test_rotation_leaves_nothing_only_an_old_key_can_read(secrets, session, use_keys, database_url):
    old, new = new_key(), new_key()
    use_keys(old)
    fresh(session)
    written = [("A-%03d-000-000" % n, None if n % 3 == 0 else f"note {n}") for n in range(7)]
    rows = []
    for a_number, notes in written:
        secret = Secret()
        secret.a_number, secret.notes = a_number, notes
        rows.append(secret)
    session.add_all(rows)
    session.commit()
    expected = {s.id: pair for s, pair in zip(rows, written)}
    with pytest.raises(DecryptionError):  # the check below can tell
        read_all_with_only(database_url, new)

    use_keys(new, old)
    current_id = add(session, a_number="A-999-000-000", notes="under the new key already")
    expected[current_id] = ("A-999-000-000", "under the new key already")
    fresh(session)
    counts = rotate_keys(session, batch_size=3)
    assert counts == {"rows": 8, "fields": 13, "reencrypted": 11, "already_current": 2,
                      "blind_indexes": 7, "skipped": 0, "undecryptable": 0}

    assert read_all_with_only(database_url, new) == expected
    fresh(session)
    for row in session.execute(text(f"SELECT * FROM {TABLE}")).mappings():
        for column in ("a_number_enc", "notes_enc"):
            assert row[column] is None or row[column].startswith(f"v1.{kid(new)}.")
    assert rotate_keys(session, batch_size=3)["reencrypted"] == 0  # a second run has nothing to do


def test_a_value_no_key_can_read_is_reported_not_hidden(secrets, session):
    good = add(session, notes="fine")
    bad = add(session, notes="will be damaged")
    set_raw(session, bad, "notes_enc", "v1.AAAAAAAA.AAAA")
    errors: list[DecryptionError] = []
    fresh(session)
    counts = rotate_keys(session, on_error=errors.append)
    assert counts["undecryptable"] == 1 and counts["already_current"] == 1
    assert [(e.column, e.row_id) for e in errors] == [("notes_enc", str(bad))]
    assert reload(session, good).notes == "fine"


def test_rotation_does_not_overwrite_a_value_written_meanwhile(secrets, session, use_keys, app, monkeypatch):
    old, new = new_key(), new_key()
    use_keys(old)
    secret_id = add(session, notes="before rotation")
    use_keys(new, old)
    newer = crypto.encrypt_value("written meanwhile", crypto.associated_data(TABLE, "notes_enc", (secret_id,)),
                                 crypto.keyring_for(app))
    read_batches = crypto._batches

    def batches_then_a_write(s, target, size):
        for rows in read_batches(s, target, size):
            # Another writer changes the row after rotation read it.
            s.execute(text(f"UPDATE {TABLE} SET notes_enc = :v WHERE id = :id"), {"v": newer, "id": secret_id})
            yield rows
    monkeypatch.setattr(crypto, "_batches", batches_then_a_write)
    fresh(session)
    counts = rotate_keys(session)
    assert counts["skipped"] == 1 and counts["reencrypted"] == 1
    assert reload(session, secret_id).notes == "written meanwhile"


# ----------------------------------------------------------------- blind indexes

def test_blind_index_normalises_and_is_keyed():
    keyring, other = Keyring.from_config([new_key()]), Keyring.from_config([new_key()])
    forms = ["12345678", "012345678", "A-012-345-678", "a012 345 678", "A#012.345.678"]
    assert len({blind_index(form, "a_number", keyring) for form in forms}) == 1
    index = blind_index("12345678", "a_number", keyring)
    assert index != blind_index("123456789", "a_number", keyring)
    assert index != blind_index("12345678", "a_number", other)
    assert index != blind_index("012345678", "worker_name", keyring)  # the purpose is part of the key
    unkeyed = [hashlib.sha256(v.encode()).hexdigest() for v in ("12345678", "012345678", "A-012-345-678")]
    assert index not in unkeyed
    raw_key = keyring.keys[0][1]  # derived, not the encryption key itself
    assert index != hmac.new(raw_key, b"012345678", hashlib.sha256).hexdigest()


@pytest.mark.parametrize("bad", ["1234567", "1234567890", "A-12-34", "B12345678", "٠١٢٣٤٥٦٧٨"])
def test_a_number_that_cannot_be_normalised_is_refused_without_echo(bad):
    with pytest.raises(ValueError) as caught:
        blind_index(bad, "a_number", Keyring.from_config([new_key()]))
    assert bad not in str(caught.value)


def test_lookup_finds_the_row_before_and_after_rotation(secrets, session, use_keys):
    old, new = new_key(), new_key()
    use_keys(old)
    secret_id = add(session, a_number="A-012-345-678")
    add(session, a_number="A-999-999-999")
    def lookup():  # built anew each time: the candidates come from the keys configured now
        return session.scalars(select(Secret.id).where(Secret.a_number.matches("12345678"))).all()
    assert lookup() == [secret_id]
    use_keys(new, old)  # a new first key: old indexes still found until rotation
    fresh(session)
    assert lookup() == [secret_id]
    fresh(session)
    rotate_keys(session)
    use_keys(new)
    fresh(session)
    assert lookup() == [secret_id]
    assert raw(session, secret_id)["a_number_bidx"] == blind_index("12345678", "a_number")


# ----------------------------------------------------------------- the command line

def test_keys_rotate_command_prints_one_json_object(secrets, session, use_keys, runner):
    old, new = new_key(), new_key()
    use_keys(old)
    secret_id = add(session, a_number="A-012-345-678", notes="a note")
    use_keys(new, old)
    fresh(session)
    result = runner.invoke(args=["keys", "rotate", "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"rows": 1, "fields": 2, "reencrypted": 2, "already_current": 0,
                                         "blind_indexes": 1, "skipped": 0, "undecryptable": 0}
    assert raw(session, secret_id)["notes_enc"].startswith(f"v1.{kid(new)}.")

    set_raw(session, secret_id, "notes_enc", "v1.AAAAAAAA.AAAA")
    failed = runner.invoke(args=["keys", "rotate"])
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["undecryptable"] == 1
    assert f"{TABLE}.notes_enc of row {secret_id}" in failed.stderr


# ----------------------------------------------------------------- purging

def sqlite_files(database_url: str) -> bytes:
    path = Path(make_url(database_url).database)
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


@pytest.mark.skipif(BACKEND != "sqlite", reason="reads the SQLite database and WAL files byte by byte; "
                                                "PostgreSQL keeps dead tuples until VACUUM")
def test_purge_leaves_no_trace_in_the_sqlite_files(secrets, session, app, database_url):
    canary = "CANARY-" + os.urandom(8).hex()
    kept_id = add(session, label="kept", notes=canary, a_number="A-024-681-357")
    deleted_id = add(session, label="deleted", notes=canary + "-row")
    before = raw(session, kept_id)
    traces = [before["notes_enc"].encode(), before["a_number_bidx"].encode(),
              raw(session, deleted_id)["notes_enc"].encode()]
    fresh(session)
    data = sqlite_files(database_url)
    assert all(trace in data for trace in traces)  # the check can see them at all
    assert canary.encode() not in data  # plaintext never reaches the database at all

    session.close()
    # Another connection stays open, idle, as a busy server's would: SQLite
    # then cannot fold the WAL back in when the purging connection closes,
    # so only purge's own checkpoint can clear it.
    other = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    try:
        other.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
        assert checkpoint_wal(db.engine_for(app))  # pages into the main file first: the harder case
        assert all(trace in Path(make_url(database_url).database).read_bytes() for trace in traces)

        kept, deleted = session.get(Secret, kept_id), session.get(Secret, deleted_id)
        assert purge_fields(session, [kept], "notes", "a_number") is True
        assert purge_rows(session, [deleted]) is True
        data = sqlite_files(database_url)
    finally:
        other.close()
    assert [trace for trace in traces + [canary.encode()] if trace in data] == []
    assert raw(session, kept_id)["label"] == "kept"
