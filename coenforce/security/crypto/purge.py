"""Purging: `purge_fields` and `purge_rows` clear or delete, commit, and on
SQLite checkpoint the WAL with TRUNCATE, so that no old copy of a page stays in
the -wal file; `secure_delete` (coenforce/db.py) zeroes freed space in the
database file itself."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session

from coenforce.security.crypto.columns import fields_of

log = logging.getLogger(__name__)


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
