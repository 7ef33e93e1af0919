"""The encrypted column type: what a model declares, and the descriptor that
seals on assignment and opens on read (see the package's docstring for an example).

A row's key is 16 random bytes (hex) made in Python the first time one of its
fields is sealed, or at INSERT for a row that never holds a secret. A new
object can therefore be sealed at once, before the database has given it an
id, with no flush hook; the ciphertext is bound to that key for good.

Reading decrypts lazily and caches the plaintext against the ciphertext it
came from (a changed ciphertext, say after a refresh, is decrypted again).
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ColumnElement, String, Table, Text, inspect
from sqlalchemy.orm import Mapper, mapped_column

from coenforce.security.crypto.sealing import (
    FORMAT_VERSION, LEGACY_VERSION, DecryptionError, Keyring, Normalizer, associated_data, blind_index, blind_index_candidates,
    current_keyring, decrypt_value, encrypt_value, legacy_associated_data, normalize_text, stored_version,
)

ROW_KEY_BYTES = 16


def new_row_key() -> str:
    return secrets.token_hex(ROW_KEY_BYTES)


def row_key_column(**kwargs: Any) -> Any:
    """The row's own key, the associated data of its encrypted fields. Unique,
    so no two rows can accept each other's ciphertexts."""
    return mapped_column(String(2 * ROW_KEY_BYTES), nullable=False, unique=True, index=True, default=new_row_key,
                         **kwargs)


def encrypted_column(**kwargs: Any) -> Any:
    """The mapped column that stores an EncryptedField's ciphertext."""
    return mapped_column(Text, nullable=True, **kwargs)


def blind_index_column(**kwargs: Any) -> Any:
    """The mapped column that stores a blind index (hex HMAC-SHA256), indexed for lookups."""
    kwargs.setdefault("index", True)
    return mapped_column(String(64), nullable=True, **kwargs)


_CACHE = "_coenforce_plaintexts"


@dataclass(frozen=True)
class Place:
    """Where a field's ciphertext lives, resolved from the mapper once."""

    mapper: Mapper
    table: Table
    column: Column
    row_key: Column

    def where(self, identity: Iterable[Any] | None) -> tuple[str, str, str]:
        row = ",".join(str(v) for v in identity) if identity is not None else "(not yet inserted)"
        return self.table.name, self.column.name, row

    def ad_for(self, stored: str, row_key: str | None, identity: tuple | None) -> bytes:
        """The associated data `stored` was sealed with, by its format version."""
        version = stored_version(stored)
        if version == FORMAT_VERSION:
            if not row_key:
                raise DecryptionError(*self.where(identity), "the row has no row key")
            return associated_data(self.table.name, self.column.name, row_key)
        if version == LEGACY_VERSION:
            if identity is None:
                raise DecryptionError(*self.where(identity), "a v1 value needs the row's id")
            return legacy_associated_data(self.table.name, self.column.name, identity)
        return b""  # not ours: decrypt_value refuses it with its own reason

    def open(self, stored: str, row_key: str | None, identity: tuple | None, keyring: Keyring | None = None) -> str:
        return decrypt_value(stored, self.ad_for(stored, row_key, identity), keyring or current_keyring(),
                             self.where(identity))


class EncryptedField:
    """A plaintext attribute stored encrypted in the mapped column `column`
    (attribute name; default `<name>_enc`), with an optional blind index
    column `index` for exact-match lookups under `purpose` (default: the name),
    normalised by `normalize` first. `row_key` names the model's row key attribute."""

    def __init__(self, column: str | None = None, *, index: str | None = None, purpose: str | None = None,
                 normalize: Normalizer = normalize_text, row_key: str = "row_key") -> None:
        self.column_key = column
        self.index = index
        self.purpose = purpose
        self.normalize = normalize
        self.row_key = row_key
        self.name = ""
        self._places: dict[type, Place] = {}

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.column_key = self.column_key or f"{name}_enc"
        self.purpose = self.purpose or name

    def place(self, cls: type) -> Place:
        if cls not in self._places:
            mapper = inspect(cls)
            column = mapper.columns.get(self.column_key)
            if column is None:
                raise TypeError(f"{cls.__name__}.{self.name}: no mapped column {self.column_key!r}")
            row_key = mapper.columns.get(self.row_key)
            if row_key is None:
                raise TypeError(f"{cls.__name__}.{self.name}: no row key column {self.row_key!r} "
                                "(declare it with row_key_column())")
            if row_key.table is not column.table:
                raise TypeError(f"{cls.__name__}.{self.name}: the row key must be in the ciphertext's table")
            self._places[cls] = Place(mapper, column.table, column, row_key)
        return self._places[cls]

    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return _FieldOnClass(self, owner)
        stored = getattr(obj, self.column_key)
        if stored is None:
            return None
        known = obj.__dict__.get(_CACHE, {}).get(self.name)
        if known is not None and known[0] == stored:
            return known[1]
        plain = self.place(type(obj)).open(stored, getattr(obj, self.row_key), _identity(obj))
        obj.__dict__.setdefault(_CACHE, {})[self.name] = (stored, plain)
        return plain

    def __set__(self, obj: Any, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{self.name} takes text or None")
        place = self.place(type(obj))
        if self.index is not None:
            setattr(obj, self.index, None if value is None else blind_index(value, self.purpose,
                                                                           normalize=self.normalize))
        cache = obj.__dict__.setdefault(_CACHE, {})
        if value is None:
            setattr(obj, self.column_key, None)
            cache.pop(self.name, None)
            return
        row_key = getattr(obj, self.row_key)
        if not row_key:
            row_key = new_row_key()
            setattr(obj, self.row_key, row_key)
        stored = encrypt_value(value, associated_data(place.table.name, place.column.name, row_key),
                               current_keyring())
        setattr(obj, self.column_key, stored)
        cache[self.name] = (stored, value)


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
        return column.in_(blind_index_candidates(value, self.field.purpose, normalize=self.field.normalize))


def _identity(obj: Any) -> tuple | None:
    """The row's primary key (v1 values and error messages), or None before INSERT."""
    identity = inspect(obj).mapper.primary_key_from_instance(obj)
    return None if any(v is None for v in identity) else tuple(identity)


def fields_of(cls: type) -> dict[str, EncryptedField]:
    """The EncryptedFields of a model, its mixins and bases included."""
    found: dict[str, EncryptedField] = {}
    for klass in reversed(cls.__mro__):
        found.update({name: attr for name, attr in vars(klass).items() if isinstance(attr, EncryptedField)})
    return found
