"""Key rotation (`flask --app wsgi keys rotate`).

Every encrypted field of the models given is decrypted with whichever key
matches and sealed again under the first (v1 values become v2), blind indexes
are recomputed, in batches, each batch its own transaction. The caller says
which models: the command line passes `encrypted_models(Base.registry)`, every
mapped model with an EncryptedField, so a new model cannot be forgotten.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, or_, select, tuple_, update
from sqlalchemy.orm import Session, registry as Registry

from coenforce.security.crypto.columns import Place, fields_of
from coenforce.security.crypto.sealing import (
    FORMAT_VERSION, DecryptionError, Keyring, Normalizer, associated_data, current_keyring, decrypt_value,
    encrypt_value, index_with, stored_key_id, stored_version,
)


def encrypted_models(registry: Registry) -> list[type]:
    """Every model mapped in `registry` that has an EncryptedField, by name."""
    return sorted((m.class_ for m in registry.mappers if fields_of(m.class_)), key=lambda c: c.__name__)


@dataclass(frozen=True)
class _Field:
    place: Place
    index: Column | None
    purpose: str
    normalize: Normalizer


@dataclass
class _Target:
    """One table's encrypted columns, for rotation through Core."""

    table: Table
    primary_key: list[Column]
    row_key: Column
    fields: list[_Field]


def _targets(models: Iterable[type]) -> list[_Target]:
    by_table: dict[str, _Target] = {}
    for cls in models:
        for field in fields_of(cls).values():
            place = field.place(cls)
            index = place.mapper.columns[field.index] if field.index else None
            target = by_table.setdefault(place.table.name, _Target(
                place.table, list(place.mapper.primary_key), place.row_key, []))
            # A single-table subclass shares its parent's columns: rotate each column once.
            if all(f.place.column is not place.column for f in target.fields):
                target.fields.append(_Field(place, index, field.purpose, field.normalize))
    return list(by_table.values())


def _batches(session: Session, target: _Target, size: int) -> Iterable[list[Any]]:
    """Rows holding any ciphertext, in primary-key order, a batch at a time."""
    columns = target.primary_key + [target.row_key] + [
        c for f in target.fields for c in (f.place.column, f.index) if c is not None]
    holding = or_(*(f.place.column.is_not(None) for f in target.fields))
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


def rotate_keys(session: Session, models: Iterable[type], *, batch_size: int = 500,
                keyring: Keyring | None = None,
                on_error: Callable[[DecryptionError], None] | None = None) -> dict[str, int]:
    """Re-encrypt every encrypted value of `models` under the first key and
    recompute every blind index; each batch commits on its own. Counts: rows
    and fields seen, values re-encrypted or already under the first key, blind
    indexes rewritten, rows skipped because someone changed them meanwhile,
    values no configured key can decrypt (each reported to `on_error`, left as they are)."""
    keyring = keyring or current_keyring()
    counts = dict.fromkeys(("rows", "fields", "reencrypted", "already_current", "blind_indexes",
                            "skipped", "undecryptable"), 0)
    for target in _targets(models):
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
    row_key = row[target.row_key]
    changes: dict[str, str] = {}
    for field in target.fields:
        ct_column = field.place.column
        stored = row[ct_column]
        if stored is None:
            continue
        counts["fields"] += 1
        try:
            plain = decrypt_value(stored, field.place.ad_for(stored, row_key, identity), keyring,
                                  field.place.where(identity))
        except DecryptionError as exc:
            counts["undecryptable"] += 1
            if on_error:
                on_error(exc)
            continue
        if stored_key_id(stored) == keyring.current_id and stored_version(stored) == FORMAT_VERSION:
            counts["already_current"] += 1
        else:
            changes[ct_column.name] = encrypt_value(
                plain, associated_data(target.table.name, ct_column.name, row_key), keyring)
            counts["reencrypted"] += 1
        if field.index is not None:
            index = index_with(keyring.index_key(field.purpose), plain, field.normalize)
            if row[field.index] != index:
                changes[field.index.name] = index
                counts["blind_indexes"] += 1
    if not changes:
        return
    # Compare-and-set on every ciphertext read (and the row key they were read
    # with): a value written meanwhile is not overwritten with an older one.
    unchanged = [f.place.column.is_(None) if row[f.place.column] is None else f.place.column == row[f.place.column]
                 for f in target.fields]
    key = [c == v for c, v in zip(target.primary_key, identity)]
    result = session.execute(update(target.table).where(*key, target.row_key == row_key, *unchanged)
                             .values(changes))
    if result.rowcount == 0:
        counts["skipped"] += 1
