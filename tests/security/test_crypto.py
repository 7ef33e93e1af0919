"""Field encryption, blind indexes, key rotation and purging, attacked from the
database side: raw SQL moves and flips ciphertexts, keys change under the data,
and after a purge the SQLite files are read byte by byte.

These tests bring their own model on a metadata of their own (Alembic's
metadata in coenforce/models.py stays as it is); the command line is tested on
the one production model that encrypts, User's TOTP secret."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import MetaData, String, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from coenforce import create_app
from coenforce.db import db
from coenforce.detentions.a_number import normalize_a_number
from coenforce.partners.models import User
from coenforce.security.crypto import rotation, sealing
from coenforce.security.crypto.columns import (
    EncryptedField, blind_index_column, encrypted_column, fields_of, row_key_column,
)
from coenforce.security.crypto.purge import checkpoint_wal, purge_fields, purge_rows
from coenforce.security.crypto.rotation import encrypted_models
from coenforce.security.crypto.sealing import DecryptionError, Keyring, blind_index, key_id

from tests.conftest import BACKEND, db_read, db_write

TABLE = "crypto_test_secrets"


class CryptoTestBase(DeclarativeBase):
    metadata = MetaData()


class Secret(CryptoTestBase):
    __tablename__ = TABLE

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(40), default="")
    row_key: Mapped[str] = row_key_column()
    a_number_enc: Mapped[str | None] = encrypted_column()
    a_number_bidx: Mapped[str | None] = blind_index_column()
    notes_enc: Mapped[str | None] = encrypted_column()

    a_number = EncryptedField("a_number_enc", index="a_number_bidx", purpose="a_number",
                              normalize=normalize_a_number)
    notes = EncryptedField("notes_enc")


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def kid(key: str) -> str:
    return key_id(base64.urlsafe_b64decode(key))


@pytest.fixture
def secrets(app, session):
    """The test model's table in the test database."""
    engine = db.engine_for(app)
    CryptoTestBase.metadata.create_all(engine)
    yield Secret
    session.close()  # on PostgreSQL an open transaction would block the DROP
    CryptoTestBase.metadata.drop_all(engine)


@pytest.fixture
def use_keys(app):
    """Set the app's ENCRYPTION_KEYS (first encrypts, all decrypt)."""
    def use(*keys: str) -> None:
        app.config["ENCRYPTION_KEYS"] = list(keys)
    return use


def rotate(session, **kw) -> dict:
    return rotation.rotate_keys(session, [Secret], **kw)


def add(**values) -> int:
    with db_write() as s:
        secret = Secret(label=values.pop("label", ""))
        for name, value in values.items():
            setattr(secret, name, value)
        s.add(secret)
        s.flush()
        return secret.id


def reload(secret_id: int) -> Secret:
    """The row as the database has it: a new object, no plaintext in memory."""
    with db_read() as s:
        return s.get(Secret, secret_id)


def change(secret_id: int, **values) -> None:
    """Load the row in a session of its own, set fields, commit."""
    with db_write() as s:
        secret = s.get(Secret, secret_id)
        for name, value in values.items():
            setattr(secret, name, value)


def raw(secret_id: int) -> dict:
    with db_read() as s:
        return dict(s.execute(text(f"SELECT * FROM {TABLE} WHERE id = :id"), {"id": secret_id}).mappings().one())


def set_raw(secret_id: int, column: str, value: str | None) -> None:
    with db_write() as s:
        s.execute(text(f"UPDATE {TABLE} SET {column} = :v WHERE id = :id"), {"v": value, "id": secret_id})


# ----------------------------------------------------------------- sealing

def test_round_trip_stores_only_ciphertext(secrets, session, app):
    value, notes = "A-012-345-678", "Sister Rosa Delgado, 555-0100"
    secret_id = add(a_number=value, notes=notes)
    row = raw(secret_id)
    current = kid(app.config["ENCRYPTION_KEYS"][0])
    assert row["a_number_enc"].startswith(f"v2.{current}.") and row["notes_enc"].startswith(f"v2.{current}.")
    stored = " ".join(str(v) for v in row.values())
    assert "012345678" not in stored and "345-678" not in stored and "Rosa" not in stored

    secret = reload(secret_id)
    assert (secret.a_number, secret.notes) == (value, notes)

    change(secret_id, notes="moved to another facility")
    assert reload(secret_id).notes == "moved to another facility"
    assert raw(secret_id)["notes_enc"] != row["notes_enc"]

    change(secret_id, a_number=None)
    assert raw(secret_id)["a_number_enc"] is None and raw(secret_id)["a_number_bidx"] is None
    assert reload(secret_id).a_number is None


def test_sealed_at_assignment_before_the_row_has_an_id(secrets, session):
    secret = Secret()
    secret.notes = "needs no id"
    stored, row_key = secret.notes_enc, secret.row_key
    assert secret.id is None and stored.startswith("v2.") and len(row_key) == 32
    assert secret.notes == "needs no id"
    # Inserted by Core, with no ORM flush and so no hook of any kind: it reads back.
    secret_id = session.execute(insert(Secret).values(row_key=row_key, notes_enc=stored)
                                .returning(Secret.id)).scalar_one()
    session.commit()
    assert reload(secret_id).notes == "needs no id"


def test_many_rows_in_one_flush_and_an_id_given_by_hand(secrets, session):
    batch = [Secret(label=str(n)) for n in range(5)]
    for n, secret in enumerate(batch):
        secret.notes = f"note {n}"
    by_hand = Secret(id=1000)
    by_hand.notes = "sealed at once"
    changed = Secret(id=2000)
    changed.notes = "sealed before the id changed to 2001"
    changed.id = 2001  # the id is not part of the associated data any more
    plain = Secret(label="never held a secret")  # gets its row key at INSERT
    session.add_all([*batch, by_hand, changed, plain])
    session.commit()
    ids, plain_id = [secret.id for secret in batch], plain.id
    for n, secret_id in enumerate(ids):
        assert reload(secret_id).notes == f"note {n}"
    assert reload(1000).notes == "sealed at once"
    assert reload(2001).notes == "sealed before the id changed to 2001"
    keys = [row["row_key"] for row in (raw(i) for i in [*ids, 1000, 2001, plain_id])]
    assert len(set(keys)) == len(keys) and all(len(k) == 32 for k in keys)


def test_a_row_key_cannot_be_shared_by_two_rows(secrets, session):
    """Copying a victim's ciphertext together with its row key is refused by the database."""
    victim = add(notes="victim's")
    other = add(notes="other's")
    with pytest.raises(IntegrityError):
        set_raw(other, "row_key", raw(victim)["row_key"])
    assert reload(other).notes == "other's"


def test_same_value_twice_gives_different_ciphertexts(secrets, session):
    first = add(notes="same words")
    second = add(notes="same words")
    a, b = raw(first)["notes_enc"], raw(second)["notes_enc"]
    assert a != b
    assert a.split(".")[2][:16] != b.split(".")[2][:16]  # the nonces differ, not just the AD
    change(first, notes="same words")
    assert raw(first)["notes_enc"] != a


def test_ciphertext_copied_to_another_row_fails(secrets, session):
    victim = add(a_number="A-987-654-321")
    other = add(a_number="A-111-222-333")
    stolen = raw(victim)["a_number_enc"]
    set_raw(other, "a_number_enc", stolen)
    with pytest.raises(DecryptionError) as caught:
        reload(other).a_number
    message = str(caught.value)
    assert f"{TABLE}.a_number_enc" in message and f"row {other}" in message
    assert "987" not in message and "111" not in message and stolen[10:30] not in message
    assert reload(victim).a_number == "A-987-654-321"


def test_ciphertext_copied_to_another_column_fails(secrets, session):
    secret_id = add(a_number="A-987-654-321", notes="a note")
    set_raw(secret_id, "notes_enc", raw(secret_id)["a_number_enc"])
    with pytest.raises(DecryptionError, match=f"{TABLE}.notes_enc of row {secret_id}"):
        reload(secret_id).notes


@pytest.mark.parametrize("position", [0, 11, 12, -17, -1], ids=["nonce", "nonce-end", "body", "tag-start", "tag-end"])
def test_a_flipped_bit_fails(secrets, session, position):
    secret_id = add(notes="do not alter me")
    version, key, payload = raw(secret_id)["notes_enc"].split(".")
    blob = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    blob[position] ^= 0x01
    set_raw(secret_id, "notes_enc", f"{version}.{key}.{base64.urlsafe_b64encode(bytes(blob)).decode()}")
    with pytest.raises(DecryptionError, match="authentication failed"):
        reload(secret_id).notes


@pytest.mark.parametrize("stored, reason", [
    ("v2.AAAAAAAA.AAAA", "is not among the configured keys"),
    ("v3.x.y", "not a coenforce ciphertext"),
    ("plain text someone wrote by hand", "not a coenforce ciphertext"),
])
def test_foreign_or_malformed_text_fails(secrets, session, stored, reason):
    secret_id = add(notes="original")
    set_raw(secret_id, "notes_enc", stored)
    with pytest.raises(DecryptionError, match=reason):
        reload(secret_id).notes


def test_malformed_payload_under_a_known_key_fails(secrets, session, app):
    secret_id = add(notes="original")
    set_raw(secret_id, "notes_enc", f"v2.{kid(app.config['ENCRYPTION_KEYS'][0])}.c2hvcnQ")
    with pytest.raises(DecryptionError, match="malformed"):
        reload(secret_id).notes


# ----------------------------------------------------------------- keys

def test_old_key_decrypts_while_listed_in_any_position(secrets, session, use_keys):
    old, new = new_key(), new_key()
    use_keys(old)
    secret_id = add(notes="written under the old key")
    use_keys(new, old)
    assert reload(secret_id).notes == "written under the old key"
    fresh_id = add(notes="written under the new key")
    assert raw(fresh_id)["notes_enc"].startswith(f"v2.{kid(new)}.")
    use_keys(old, new)  # reordering: key ids do not depend on position
    assert reload(secret_id).notes == "written under the old key"
    assert reload(fresh_id).notes == "written under the new key"
    use_keys(new)
    with pytest.raises(DecryptionError, match=f"key {kid(old)} is not among"):
        reload(secret_id).notes


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
    current_id = add(a_number="A-999-000-000", notes="under the new key already")
    expected[current_id] = ("A-999-000-000", "under the new key already")
    counts = rotate(session, batch_size=3)
    assert counts == {"rows": 8, "fields": 13, "reencrypted": 11, "already_current": 2,
                      "blind_indexes": 7, "skipped": 0, "undecryptable": 0}

    assert read_all_with_only(database_url, new) == expected
    with db_read() as s:
        for row in s.execute(text(f"SELECT * FROM {TABLE}")).mappings():
            for column in ("a_number_enc", "notes_enc"):
                assert row[column] is None or row[column].startswith(f"v2.{kid(new)}.")
    assert rotate(session, batch_size=3)["reencrypted"] == 0  # a second run has nothing to do


def test_a_value_no_key_can_read_is_reported_not_hidden(secrets, session):
    good = add(notes="fine")
    bad = add(notes="will be damaged")
    set_raw(bad, "notes_enc", "v2.AAAAAAAA.AAAA")
    errors: list[DecryptionError] = []
    counts = rotate(session, on_error=errors.append)
    assert counts["undecryptable"] == 1 and counts["already_current"] == 1
    assert [(e.column, e.row_id) for e in errors] == [("notes_enc", str(bad))]
    assert reload(good).notes == "fine"


def test_rotation_does_not_overwrite_a_value_written_meanwhile(secrets, session, use_keys, app, monkeypatch):
    old, new = new_key(), new_key()
    use_keys(old)
    secret_id = add(notes="before rotation")
    use_keys(new, old)
    newer = sealing.encrypt_value("written meanwhile",
                                  sealing.associated_data(TABLE, "notes_enc", raw(secret_id)["row_key"]),
                                  sealing.keyring_for(app))
    read_batches = rotation._batches

    def batches_then_a_write(s, target, size):
        for rows in read_batches(s, target, size):
            # Another writer changes the row after rotation read it.
            s.execute(text(f"UPDATE {TABLE} SET notes_enc = :v WHERE id = :id"), {"v": newer, "id": secret_id})
            yield rows
    monkeypatch.setattr(rotation, "_batches", batches_then_a_write)
    counts = rotate(session)
    assert counts["skipped"] == 1 and counts["reencrypted"] == 1
    assert reload(secret_id).notes == "written meanwhile"


# ----------------------------------------------------------------- blind indexes

def a_number_index(value: str, keyring: Keyring, purpose: str = "a_number") -> str:
    return blind_index(value, purpose, keyring, normalize=normalize_a_number)


def test_blind_index_normalises_and_is_keyed():
    keyring, other = Keyring.from_config([new_key()]), Keyring.from_config([new_key()])
    forms = ["12345678", "012345678", "A-012-345-678", "a012 345 678", "A#012.345.678"]
    assert len({a_number_index(form, keyring) for form in forms}) == 1
    index = a_number_index("12345678", keyring)
    assert index != a_number_index("123456789", keyring)
    assert index != a_number_index("12345678", other)
    assert index != a_number_index("012345678", keyring, "worker_name")  # the purpose is part of the key
    assert index != blind_index("12345678", "a_number", keyring)  # so is the normalisation
    assert blind_index("Rosa  Delgado", "worker_name", keyring) == blind_index("rosadelgado", "worker_name", keyring)
    unkeyed = [hashlib.sha256(v.encode()).hexdigest() for v in ("12345678", "012345678", "A-012-345-678")]
    assert index not in unkeyed
    raw_key = keyring.keys[0][1]  # derived, not the encryption key itself
    assert index != hmac.new(raw_key, b"012345678", hashlib.sha256).hexdigest()


@pytest.mark.parametrize("bad", ["1234567", "1234567890", "A-12-34", "B12345678", "٠١٢٣٤٥٦٧٨"])
def test_a_number_that_cannot_be_normalised_is_refused_without_echo(bad):
    with pytest.raises(ValueError) as caught:
        a_number_index(bad, Keyring.from_config([new_key()]))
    assert bad not in str(caught.value)


def test_lookup_finds_the_row_before_and_after_rotation(secrets, session, use_keys):
    old, new = new_key(), new_key()
    use_keys(old)
    secret_id = add(a_number="A-012-345-678")
    add(a_number="A-999-999-999")
    def lookup():  # built anew each time: the candidates come from the keys configured now
        with db_read() as s:
            return s.scalars(select(Secret.id).where(Secret.a_number.matches("12345678"))).all()
    assert lookup() == [secret_id]
    use_keys(new, old)  # a new first key: old indexes still found until rotation
    assert lookup() == [secret_id]
    rotate(session)
    use_keys(new)
    assert lookup() == [secret_id]
    assert raw(secret_id)["a_number_bidx"] == blind_index("12345678", "a_number",
                                                                   normalize=normalize_a_number)


# ----------------------------------------------------------------- the command line

def test_the_command_line_rotates_every_model_that_encrypts(app):
    from coenforce.db import Base
    from coenforce import models  # noqa: F401
    from coenforce.detentions.models import AlertTask, DetentionAlert
    from coenforce.protections.models import CertificationRequest, DeferredActionGrant, InterestLetter
    # Found by their EncryptedFields, not listed by hand.
    assert set(encrypted_models(Base.registry)) == {User, DetentionAlert, AlertTask, CertificationRequest,
                                                    InterestLetter, DeferredActionGrant}
    assert encrypted_models(CryptoTestBase.registry) == [Secret]
    assert set(fields_of(User)) == {"totp_secret"}


def test_keys_rotate_command_prints_one_json_object(session, use_keys, runner, make_org, make_user):
    old, new = new_key(), new_key()
    use_keys(old)
    agency = make_org("agency")
    with_totp = make_user(agency, "investigator")
    make_user(agency, "supervisor", two_factor=False)  # no secret: not counted
    with db_read() as s:
        secret = s.get(User, with_totp.id).totp_secret
    use_keys(new, old)
    result = runner.invoke(args=["keys", "rotate", "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"rows": 1, "fields": 1, "reencrypted": 1, "already_current": 0,
                                         "blind_indexes": 0, "skipped": 0, "undecryptable": 0}
    with db_read() as s:
        stored = s.execute(text("SELECT totp_secret_enc FROM users WHERE id = :id"), {"id": with_totp.id}).scalar()
    assert stored.startswith(f"v2.{kid(new)}.")
    use_keys(new)
    with db_read() as s:
        assert s.get(User, with_totp.id).totp_secret == secret

    with db_write() as s:
        s.execute(text("UPDATE users SET totp_secret_enc = 'v2.AAAAAAAA.AAAA' WHERE id = :id"), {"id": with_totp.id})
    failed = runner.invoke(args=["keys", "rotate"])
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["undecryptable"] == 1
    assert f"users.totp_secret_enc of row {with_totp.id}" in failed.stderr
    assert secret not in failed.output


# ----------------------------------------------------------------- format v1 (bound to the row's id)

def seal_v1(plaintext: str, key: str, column: str, row_id: int) -> str:
    """A value as the earlier code sealed it, built from the documented format
    (not from the code under test): AES-GCM, AD = JSON of the place and the id."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    raw_key = base64.urlsafe_b64decode(key)
    ad = json.dumps(["coenforce-field", "v1", TABLE, column, [str(row_id)]]).encode()
    nonce = os.urandom(12)
    blob = nonce + AESGCM(raw_key).encrypt(nonce, plaintext.encode(), ad)
    return f"v1.{kid(key)}.{base64.urlsafe_b64encode(blob).decode().rstrip('=')}"


def test_v1_values_stay_readable_and_rotation_rewrites_them_as_v2(secrets, session, use_keys, app):
    key = new_key()
    use_keys(key)
    first, second = add(label="a"), add(label="b")
    set_raw(first, "notes_enc", seal_v1("written by the old code", key, "notes_enc", first))
    set_raw(second, "notes_enc", seal_v1("another", key, "notes_enc", second))
    assert reload(first).notes == "written by the old code"

    # Bound to the id: moved to another row it fails, like a v2 value.
    set_raw(second, "notes_enc", raw(first)["notes_enc"])
    with pytest.raises(DecryptionError, match="authentication failed"):
        reload(second).notes

    counts = rotate(session)
    assert (counts["reencrypted"], counts["already_current"], counts["undecryptable"]) == (1, 0, 1)
    assert raw(first)["notes_enc"].startswith(f"v2.{kid(key)}.")
    assert reload(first).notes == "written by the old code"


@pytest.mark.parametrize("relabel", [("v2", "v1"), ("v1", "v2")], ids=["v2-as-v1", "v1-as-v2"])
def test_a_value_relabelled_with_the_other_version_fails(secrets, session, use_keys, relabel):
    key = new_key()
    use_keys(key)
    secret_id = add(notes="current format")
    if relabel[0] == "v1":
        set_raw(secret_id, "notes_enc", seal_v1("old format", key, "notes_enc", secret_id))
    stored = raw(secret_id)["notes_enc"]
    assert stored.startswith(relabel[0] + ".")
    set_raw(secret_id, "notes_enc", relabel[1] + stored[2:])
    with pytest.raises(DecryptionError, match="authentication failed"):
        reload(secret_id).notes


# ----------------------------------------------------------------- purging

def sqlite_files(database_url: str) -> bytes:
    path = Path(make_url(database_url).database)
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


@pytest.mark.skipif(BACKEND != "sqlite", reason="reads the SQLite database and WAL files byte by byte; "
                                                "PostgreSQL keeps dead tuples until VACUUM")
def test_purge_leaves_no_trace_in_the_sqlite_files(secrets, session, app, database_url):
    canary = "CANARY-" + os.urandom(8).hex()
    kept_id = add(label="kept", notes=canary, a_number="A-024-681-357")
    deleted_id = add(label="deleted", notes=canary + "-row")
    before = raw(kept_id)
    traces = [before["notes_enc"].encode(), before["a_number_bidx"].encode(),
              raw(deleted_id)["notes_enc"].encode()]
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
    assert raw(kept_id)["label"] == "kept"
