"""Field encryption, blind indexes, key rotation and purging: the room that keeps
A-Numbers, names on detention records, family contacts and detention notes
unreadable to whoever gets a copy of the database without the keys.

What a model author writes (the detention module, later)::

    class Detention(Base):
        __tablename__ = "detentions"
        id: Mapped[int] = mapped_column(primary_key=True)
        a_number_enc: Mapped[str | None] = encrypted_column()
        a_number_bidx: Mapped[str | None] = blind_index_column()
        a_number = EncryptedField("a_number_enc", index="a_number_bidx", purpose="a_number")

    detention.a_number = "A-012-345-678"      # plaintext in memory only
    select(Detention).where(Detention.a_number.matches("12345678"))

Why two declarations and not one magic descriptor: the ciphertext is an
ordinary mapped column, so Alembic, the data inventory and a reviewer all see
it, and it can never be mistaken for plaintext (the `_enc` suffix). The
`EncryptedField` descriptor holds the plaintext in memory and is the only way
code reads or writes it.

How a value is sealed: AES-GCM under the first key of
`COENFORCE_ENCRYPTION_KEYS`, a random 96-bit nonce per value, and as
associated data the table, the column and the row's primary key, so a
ciphertext copied to another row or column fails to decrypt. The stored text
is `v1.<key id>.<base64url(nonce | ciphertext | tag)>`; the key id is an HMAC of
the key, not its position, so keys may be reordered freely. Keys live only in
the configuration, never in the database.

The row id problem: an autoincrement id is unknown before INSERT. When the
id is already known (a loaded row, or an id given by hand), assignment
encrypts at once. Otherwise the descriptor keeps the plaintext in memory, the
row is inserted with a NULL ciphertext, and a mapper `after_insert` hook
encrypts with the real id and writes it with a Core UPDATE on the flush's own
connection: same transaction, so a rollback takes both away. Reading decrypts
lazily, with the same associated data, and caches the plaintext against the
ciphertext it came from (a changed ciphertext is decrypted again).

Blind indexes: `blind_index(value, purpose)` is HMAC-SHA256 under a key
derived with HKDF from the FIRST encryption key and the purpose label, over a
normalised value (A-Numbers: no spaces, dashes or leading "A", 8 digits padded
to 9). Rotating the first key therefore changes every blind index:
`keys rotate` recomputes them, and until it has run, `matches()` looks the value
up under every configured key.

Rotation (`rotate_keys`, `flask --app wsgi keys rotate`): every encrypted
field of every model is decrypted with whichever key matches and re-encrypted
under the first, blind indexes are recomputed, in batches, each batch its own
transaction; the models come from coenforce's declarative registry (so a new
model cannot be forgotten) plus any registered with `register_model`.

Purging: `purge_fields` and `purge_rows` clear or delete, commit, and on
SQLite checkpoint the WAL with TRUNCATE, so that no old copy of a page stays in
the -wal file; `secure_delete` (coenforce/db.py) zeroes freed space in the
database file itself.

Limits: a model's encrypted columns must live in the table that holds its
primary key (no joined-table inheritance), and primary keys must not change
after a value is encrypted (the value would then fail to decrypt, loudly).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app, has_app_context
from sqlalchemy import (
    Column, ColumnElement, Engine, String, Table, Text, and_, event, inspect, or_, select, tuple_, update,
)
from sqlalchemy.orm import Mapper, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

log = logging.getLogger(__name__)

FORMAT_VERSION = "v1"
NONCE_BYTES = 12  # 96 bits: the size AES-GCM is designed for


class DecryptionError(Exception):
    """A stored value could not be decrypted. Names where, never what."""

    def __init__(self, table: str, column: str, row_id: str, reason: str) -> None:
        super().__init__(f"cannot decrypt {table}.{column} of row {row_id}: {reason}")
        self.table, self.column, self.row_id, self.reason = table, column, row_id, reason


# ----------------------------------------------------------------- keys

def _decode_key(encoded: str) -> bytes:
    raw = base64.urlsafe_b64decode(encoded.strip().encode())
    if len(raw) != 32:
        raise ValueError("an encryption key must be 32 bytes in URL-safe base64")
    return raw


def key_id(key: bytes) -> str:
    """A short public name for a key: an HMAC of a fixed label, so it says
    nothing about the key and does not change when keys are reordered."""
    digest = hmac.new(key, b"coenforce key id v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:6]).decode()  # 8 characters, no padding


def _derive(key: bytes, label: str) -> bytes:
    # HKDF keeps each blind index's key apart from the encryption key and from
    # every other purpose: knowing one index key reveals nothing of the others.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(key)


@dataclass(frozen=True)
class Keyring:
    """The configured keys in order: the first encrypts, all decrypt."""

    keys: tuple[tuple[str, bytes], ...]

    @classmethod
    def from_config(cls, encoded: Sequence[str]) -> Keyring:
        pairs: dict[str, bytes] = {}
        for text in encoded:
            key = _decode_key(text)
            pairs.setdefault(key_id(key), key)  # a key listed twice counts once
        if not pairs:
            raise ValueError("no encryption key is configured (COENFORCE_ENCRYPTION_KEYS)")
        return cls(tuple(pairs.items()))

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def key_for(self, kid: str) -> bytes | None:
        return dict(self.keys).get(kid)

    def index_key(self, purpose: str, key: bytes | None = None) -> bytes:
        return _derive(key if key is not None else self.keys[0][1], f"coenforce blind index v1: {purpose}")

    def __repr__(self) -> str:  # never print key material
        return f"Keyring(ids={[kid for kid, _ in self.keys]})"


def keyring_for(app: Flask) -> Keyring:
    """The app's keyring, built once per distinct ENCRYPTION_KEYS value."""
    keys = tuple(app.config["ENCRYPTION_KEYS"])
    cache = app.extensions.setdefault("coenforce.keyrings", {})
    if keys not in cache:
        cache[keys] = Keyring.from_config(keys)
    return cache[keys]


def current_keyring() -> Keyring:
    if not has_app_context():
        raise RuntimeError("field encryption needs an app context: the keys come from its configuration")
    return keyring_for(current_app._get_current_object())


# ----------------------------------------------------------------- sealing

def associated_data(table: str, column: str, identity: Sequence[Any]) -> bytes:
    """What binds a ciphertext to its place; JSON so that no two places encode alike."""
    return json.dumps(["coenforce-field", FORMAT_VERSION, table, column, [str(v) for v in identity]]).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encrypt_value(plaintext: str, ad: bytes, keyring: Keyring) -> str:
    kid, key = keyring.keys[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), ad)
    return f"{FORMAT_VERSION}.{kid}.{_b64(nonce + sealed)}"


def stored_key_id(stored: str) -> str | None:
    """The key id of a stored value, or None if it is not in our format."""
    parts = stored.split(".")
    return parts[1] if len(parts) == 3 and parts[0] == FORMAT_VERSION else None


def decrypt_value(stored: str, ad: bytes, keyring: Keyring, where: tuple[str, str, str]) -> str:
    """Decrypt, or raise DecryptionError naming `where` (table, column, row id)."""
    kid = stored_key_id(stored)
    if kid is None:
        raise DecryptionError(*where, "not a coenforce ciphertext")
    key = keyring.key_for(kid)
    if key is None:
        raise DecryptionError(*where, f"key {kid} is not among the configured keys")
    try:
        blob = _unb64(stored.split(".")[2])
    except (ValueError, binascii.Error):
        raise DecryptionError(*where, "malformed ciphertext") from None
    if len(blob) < NONCE_BYTES + 16:
        raise DecryptionError(*where, "malformed ciphertext")
    try:
        plain = AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], ad)
    except InvalidTag:
        # `from None`: the chained exception would add nothing, and nothing here may carry data.
        raise DecryptionError(*where, "authentication failed (altered, or moved from another row or column)") from None
    return plain.decode("utf-8")


# ----------------------------------------------------------------- blind indexes

_SEPARATORS = re.compile(r"[\s\-.]+")


def normalize_a_number(value: str) -> str:
    """Nine digits: separators and a leading 'A' or '#' dropped, 8 digits padded (DOMAIN.md)."""
    digits = _SEPARATORS.sub("", value).upper().lstrip("A#")
    if not digits.isascii() or not digits.isdigit() or len(digits) not in (8, 9):
        raise ValueError("an A-Number has 8 or 9 digits")  # the value itself stays out of messages
    return digits.zfill(9)


def normalize_text(value: str) -> str:
    return _SEPARATORS.sub("", value).casefold()


NORMALIZERS: dict[str, Callable[[str], str]] = {"a_number": normalize_a_number}


def _index_with(index_key: bytes, value: str, purpose: str) -> str:
    normalized = NORMALIZERS.get(purpose, normalize_text)(value)
    return hmac.new(index_key, normalized.encode("utf-8"), hashlib.sha256).hexdigest()


def blind_index(value: str, purpose: str, keyring: Keyring | None = None) -> str:
    """The HMAC blind index of `value` under the first key, for exact-match lookups."""
    keyring = keyring or current_keyring()
    return _index_with(keyring.index_key(purpose), value, purpose)


def blind_index_candidates(value: str, purpose: str, keyring: Keyring | None = None) -> list[str]:
    """The index under every configured key, the first key's first: rows
    written before a new first key was added are found until `keys rotate` runs."""
    keyring = keyring or current_keyring()
    return [_index_with(keyring.index_key(purpose, key), value, purpose) for _kid, key in keyring.keys]


# ----------------------------------------------------------------- the model API

def encrypted_column(**kwargs: Any) -> Any:
    """The mapped column that stores an EncryptedField's ciphertext."""
    return mapped_column(Text, nullable=True, **kwargs)


def blind_index_column(**kwargs: Any) -> Any:
    """The mapped column that stores a blind index (hex HMAC-SHA256), indexed for lookups."""
    kwargs.setdefault("index", True)
    return mapped_column(String(64), nullable=True, **kwargs)


_CACHE = "_coenforce_plaintexts"


@dataclass(frozen=True)
class _Known:
    """A plaintext held in memory with the ciphertext it belongs to; identity
    None means not yet encrypted (the row has no id yet)."""

    ciphertext: str | None
    plaintext: str | None
    identity: tuple | None


@dataclass(frozen=True)
class _Place:
    """Where a field's ciphertext lives, resolved from the mapper once."""

    mapper: Mapper
    table: Table
    column: Column

    def where(self, identity: tuple) -> tuple[str, str, str]:
        return self.table.name, self.column.name, ",".join(str(v) for v in identity)

    def ad(self, identity: tuple) -> bytes:
        return associated_data(self.table.name, self.column.name, identity)


class EncryptedField:
    """A plaintext attribute stored encrypted in the mapped column `column`
    (attribute name; default `<name>_enc`), with an optional blind index
    column `index` for exact-match lookups under `purpose` (default: the name)."""

    def __init__(self, column: str | None = None, *, index: str | None = None, purpose: str | None = None) -> None:
        self.column_key = column
        self.index = index
        self.purpose = purpose
        self.name = ""
        self._places: dict[type, _Place] = {}

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.column_key = self.column_key or f"{name}_enc"
        self.purpose = self.purpose or name

    def place(self, cls: type) -> _Place:
        if cls not in self._places:
            mapper = inspect(cls)
            column = mapper.columns.get(self.column_key)
            if column is None:
                raise TypeError(f"{cls.__name__}.{self.name}: no mapped column {self.column_key!r}")
            table = column.table
            if [c.name for c in mapper.primary_key] != [c.name for c in table.primary_key.columns]:
                raise TypeError(f"{cls.__name__}.{self.name}: the column must be in the primary key's table")
            self._places[cls] = _Place(mapper, table, column)
        return self._places[cls]

    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return _FieldOnClass(self, owner)
        known: _Known | None = obj.__dict__.get(_CACHE, {}).get(self.name)
        if known is not None and known.identity is None:
            return known.plaintext  # not flushed yet: nothing to decrypt
        stored = getattr(obj, self.column_key)
        if stored is None:
            return None
        if known is not None and known.ciphertext == stored:
            return known.plaintext
        identity = _identity(obj)
        place = self.place(type(obj))
        plain = decrypt_value(stored, place.ad(identity), current_keyring(), place.where(identity))
        obj.__dict__.setdefault(_CACHE, {})[self.name] = _Known(stored, plain, identity)
        return plain

    def __set__(self, obj: Any, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{self.name} takes text or None")
        place = self.place(type(obj))
        if self.index is not None:
            setattr(obj, self.index, None if value is None else blind_index(value, self.purpose))
        cache = obj.__dict__.setdefault(_CACHE, {})
        identity = _identity(obj)
        if value is None:
            setattr(obj, self.column_key, None)
            cache.pop(self.name, None)
            return
        if identity is None:
            # No id yet: the value waits in memory and after_insert seals it.
            setattr(obj, self.column_key, None)
            cache[self.name] = _Known(None, value, None)
            return
        stored = encrypt_value(value, place.ad(identity), current_keyring())
        setattr(obj, self.column_key, stored)
        cache[self.name] = _Known(stored, value, identity)


@dataclass(frozen=True)
class _FieldOnClass:
    """`Model.field` at class level: builds lookups."""

    field: EncryptedField
    model: type

    def matches(self, value: str) -> ColumnElement[bool]:
        """A WHERE clause for rows whose value equals `value` (after normalisation)."""
        if self.field.index is None:
            raise TypeError(f"{self.model.__name__}.{self.field.name} has no blind index to search")
        column = getattr(self.model, self.field.index)
        return column.in_(blind_index_candidates(value, self.field.purpose))


def _identity(obj: Any) -> tuple | None:
    """The row's primary key, or None while the database has not given it yet."""
    identity = inspect(obj).mapper.primary_key_from_instance(obj)
    return None if any(v is None for v in identity) else tuple(identity)


def fields_of(cls: type) -> dict[str, EncryptedField]:
    """The EncryptedFields of a model, its mixins and bases included."""
    found: dict[str, EncryptedField] = {}
    for klass in reversed(cls.__mro__):
        found.update({name: attr for name, attr in vars(klass).items() if isinstance(attr, EncryptedField)})
    return found


@event.listens_for(Mapper, "after_insert")
def _seal_after_insert(mapper: Mapper, connection: Any, target: Any) -> None:
    """Encrypt the values that waited for this row's id, in the flush's own transaction."""
    cache: dict[str, _Known] = target.__dict__.get(_CACHE) or {}
    identity = _identity(target)
    for name, known in list(cache.items()):
        # A ciphertext made for another identity (an id given by hand and
        # changed, a re-added object after a rollback) is sealed again too.
        if known.plaintext is None or known.identity == identity:
            continue
        field = fields_of(type(target))[name]
        place = field.place(type(target))
        stored = encrypt_value(known.plaintext, place.ad(identity), current_keyring())
        key = and_(*(c == v for c, v in zip(mapper.primary_key, identity)))
        connection.execute(update(place.table).where(key).values({place.column: stored}))
        set_committed_value(target, field.column_key, stored)
        cache[name] = _Known(stored, known.plaintext, identity)


# ----------------------------------------------------------------- registry

_EXTRA_MODELS: list[type] = []


def register_model(cls: type) -> None:
    """Add a model outside coenforce's Base (tests, plugins) to rotation.
    Models on coenforce's Base are found without registering."""
    if cls not in _EXTRA_MODELS:
        _EXTRA_MODELS.append(cls)


def unregister_model(cls: type) -> None:
    if cls in _EXTRA_MODELS:
        _EXTRA_MODELS.remove(cls)


def encrypted_models() -> list[type]:
    """Every mapped model with an EncryptedField."""
    from coenforce import models  # noqa: F401  (imports every model, so the registry is complete)
    from coenforce.db import Base
    found = [m.class_ for m in Base.registry.mappers if fields_of(m.class_)]
    return sorted(found, key=lambda c: c.__name__) + [c for c in _EXTRA_MODELS if c not in found]


# ----------------------------------------------------------------- rotation

@dataclass
class _Target:
    """One table's encrypted columns, for rotation through Core."""

    table: Table
    primary_key: list[Column]
    fields: list[tuple[Column, Column | None, str]]  # ciphertext, blind index, purpose


def _targets(models: Iterable[type]) -> list[_Target]:
    by_table: dict[str, _Target] = {}
    for cls in models:
        for field in fields_of(cls).values():
            place = field.place(cls)
            index = place.mapper.columns[field.index] if field.index else None
            target = by_table.setdefault(place.table.name, _Target(place.table, list(place.mapper.primary_key), []))
            # A single-table subclass shares its parent's columns: rotate each column once.
            if all(c is not place.column for c, _i, _p in target.fields):
                target.fields.append((place.column, index, field.purpose))
    return list(by_table.values())


def _batches(session: Session, target: _Target, size: int) -> Iterable[list[Any]]:
    """Rows holding any ciphertext, in primary-key order, a batch at a time."""
    columns = target.primary_key + [c for f in target.fields for c in f[:2] if c is not None]
    holding = or_(*(ct.is_not(None) for ct, _i, _p in target.fields))
    last: tuple | None = None
    while True:
        query = select(*columns).where(holding).order_by(*target.primary_key).limit(size)
        if last is not None:
            query = query.where(tuple_(*target.primary_key) > tuple_(*last) if len(last) > 1
                                else target.primary_key[0] > last[0])
        rows = session.execute(query).mappings().all()
        if not rows:
            return
        yield rows
        last = tuple(rows[-1][c] for c in target.primary_key)


def rotate_keys(session: Session, batch_size: int = 500, keyring: Keyring | None = None,
                models: Iterable[type] | None = None,
                on_error: Callable[[DecryptionError], None] | None = None) -> dict[str, int]:
    """Re-encrypt every encrypted value under the first key and recompute
    every blind index; each batch commits on its own. Counts: rows and fields
    seen, values re-encrypted or already under the first key, blind indexes
    rewritten, rows skipped because someone changed them meanwhile, values no
    configured key can decrypt (each reported to `on_error`, left as they are)."""
    keyring = keyring or current_keyring()
    counts = dict.fromkeys(("rows", "fields", "reencrypted", "already_current", "blind_indexes",
                            "skipped", "undecryptable"), 0)
    for target in _targets(encrypted_models() if models is None else models):
        for rows in _batches(session, target, batch_size):
            for row in rows:
                counts["rows"] += 1
                _rotate_row(session, target, row, keyring, counts, on_error)
            session.commit()  # a batch per transaction: short locks on a large table
        session.commit()  # ends the read that found no further batch
    return counts


def _rotate_row(session: Session, target: _Target, row: Any, keyring: Keyring, counts: dict[str, int],
                on_error: Callable[[DecryptionError], None] | None) -> None:
    identity = tuple(row[c] for c in target.primary_key)
    changes: dict[str, str] = {}
    for ct_column, index_column, purpose in target.fields:
        stored = row[ct_column]
        if stored is None:
            continue
        counts["fields"] += 1
        ad = associated_data(target.table.name, ct_column.name, identity)
        where = (target.table.name, ct_column.name, ",".join(str(v) for v in identity))
        try:
            plain = decrypt_value(stored, ad, keyring, where)
        except DecryptionError as exc:
            counts["undecryptable"] += 1
            if on_error:
                on_error(exc)
            continue
        if stored_key_id(stored) == keyring.current_id:
            counts["already_current"] += 1
        else:
            changes[ct_column.name] = encrypt_value(plain, ad, keyring)
            counts["reencrypted"] += 1
        if index_column is not None:
            index = _index_with(keyring.index_key(purpose), plain, purpose)
            if row[index_column] != index:
                changes[index_column.name] = index
                counts["blind_indexes"] += 1
    if not changes:
        return
    # Compare-and-set on every ciphertext read: a value written meanwhile is
    # not overwritten with an older one (it was sealed with a configured key).
    unchanged = [ct.is_(None) if row[ct] is None else ct == row[ct] for ct, _i, _p in target.fields]
    key = [c == v for c, v in zip(target.primary_key, identity)]
    result = session.execute(update(target.table).where(*key, *unchanged).values(changes))
    if result.rowcount == 0:
        counts["skipped"] += 1


# ----------------------------------------------------------------- purging

def clear_fields(objects: Iterable[Any], *names: str) -> None:
    """Set the named attributes (encrypted fields or plain columns) to None;
    an encrypted field's blind index goes with it. The caller commits."""
    for obj in objects:
        encrypted = fields_of(type(obj))
        for name in names:
            if name not in encrypted and name not in inspect(type(obj)).columns:
                raise AttributeError(f"{type(obj).__name__} has no column or encrypted field {name!r}")
            setattr(obj, name, None)


def checkpoint_wal(engine: Engine) -> bool:
    """On SQLite, copy the WAL into the database file and truncate it, so no
    old version of a page stays in the -wal file. True when it completed;
    False when a reader kept it from finishing (run it again later).
    PostgreSQL has no such step here: a dead row version stays in its table
    file until (auto)vacuum reclaims it."""
    if engine.dialect.name != "sqlite":
        return True
    # A raw connection outside any transaction: a checkpoint inside BEGIN
    # IMMEDIATE (coenforce/db.py) could not truncate the log.
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy, _log_frames, _copied = cursor.fetchone()
        cursor.close()
    finally:
        raw.close()
    if busy:
        log.warning("WAL checkpoint after a purge could not finish: a reader is active; retry later")
    return not busy


def purge_fields(session: Session, objects: Iterable[Any], *names: str) -> bool:
    """Clear sensitive fields, commit, and checkpoint the WAL (see checkpoint_wal)."""
    clear_fields(objects, *names)
    session.commit()
    return checkpoint_wal(session.get_bind().engine)


def purge_rows(session: Session, objects: Iterable[Any]) -> bool:
    """Delete rows, commit, and checkpoint the WAL (see checkpoint_wal)."""
    for obj in objects:
        session.delete(obj)
    session.commit()
    return checkpoint_wal(session.get_bind().engine)
