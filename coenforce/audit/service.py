"""Writing, verifying and reading the hash-chained audit log.

`record()` appends one entry in the caller's transaction, so the entry exists
exactly when the view, reveal or export it describes was served. Each entry's
hash is HMAC-SHA256(AUDIT_KEY, previous hash + its own canonical fields); the
key lives outside the database (COENFORCE_AUDIT_KEY), so someone who can write
to the database but has not the key cannot edit, remove or forge an entry
without `verify()` finding the first place the chain breaks.

What the chain cannot show on its own: entries cut off the end (the newest
ones). Compare the head `verify()` reports with one kept elsewhere to catch that.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coenforce import clock
from coenforce.audit.models import AuditEntry
from coenforce.partners.models import Organization, User
from coenforce.security import policy
from coenforce.validation import MAX_ID

GENESIS = "0" * 64  # the "previous hash" of the first entry
# The PostgreSQL advisory lock that serializes appends: any constant bigint the
# rest of the app does not use. These are the bytes "coeaudit".
LOCK_ID = int.from_bytes(b"coeaudit", "big")
_DOMAIN = b"coenforce-audit-v1\n"  # changes if the canonical encoding ever does

# Codes only, so that no personal data can ride along in a free-text field.
_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_RECORD_TYPE = re.compile(r"[a-z][a-z0-9_]*")


# ----------------------------------------------------------------- the chain

def canonical(seq: int, at: datetime, actor_id: int | None, organization_id: int | None, action: str,
              record_type: str, record_id: int | None, owner_organization_id: int | None = None) -> bytes:
    """An entry's fields as the exact bytes its hash covers. The owner came
    later: entries without one keep the encoding (and hashes) they were written with."""
    fields = {
        "seq": seq,
        # Microseconds and UTC always, so the text is the same whichever
        # database stored the time and however the caller wrote it.
        "at": clock.as_utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": actor_id,
        "organization_id": organization_id,
        "action": action,
        "record_type": record_type,
        "record_id": record_id,
    }
    if owner_organization_id is not None:
        fields["owner_organization_id"] = owner_organization_id
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def entry_hash(key: str | bytes, prev_hash: str, fields: bytes) -> str:
    """HMAC-SHA256 of the previous hash and an entry's canonical fields, in hex."""
    raw_key = key.encode("utf-8") if isinstance(key, str) else key
    return hmac.new(raw_key, _DOMAIN + prev_hash.encode("utf-8") + b"\n" + fields, hashlib.sha256).hexdigest()


def _configured_key() -> str:
    key = current_app.config.get("AUDIT_KEY")
    if not key:
        raise RuntimeError("AUDIT_KEY is not configured (set COENFORCE_AUDIT_KEY)")
    return key


def _serialize_appends(session: Session) -> None:
    """Make this transaction the only one appending until it ends."""
    if session.get_bind().dialect.name == "postgresql":
        # Held to the end of the transaction (commit or rollback). Under READ
        # COMMITTED the next statement sees everything the previous holder committed.
        session.execute(select(func.pg_advisory_xact_lock(LOCK_ID)))
    # SQLite: the app's transactions begin IMMEDIATE and hold the one write
    # lock already. A DEFERRED transaction that lost the race fails on the
    # insert (busy snapshot, or the unique seq): an error, never a fork.


def record(session: Session, actor: User | None, action: str, record_type: str, record_id: int | None,
           *, organization_id: int | None = None, owner_organization_id: int | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction (commit it with the rest).

    `actor` is the user who saw or exported the record (None for the system,
    then pass `organization_id`). Call it late in the transaction: on
    PostgreSQL it holds the append lock until the commit.
    """
    if not isinstance(action, str) or len(action) > 64 or not _ACTION.fullmatch(action):
        raise ValueError("audit action must be a code like 'complaint.view'")
    if not isinstance(record_type, str) or len(record_type) > 32 or not _RECORD_TYPE.fullmatch(record_type):
        raise ValueError("audit record type must be a code like 'complaint'")
    if record_id is not None and (not isinstance(record_id, int) or isinstance(record_id, bool)
                                  or not 0 <= record_id <= MAX_ID):
        raise ValueError("audit record id must be a record's id (a 32-bit whole number)")
    key = _configured_key()
    actor_id = actor.id if actor is not None else None
    if actor is not None and organization_id is None:
        organization_id = actor.organization_id

    _serialize_appends(session)
    # One indexed read of the head (the primary key, newest first).
    head = session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq, prev_hash = (head.seq + 1, head.hash) if head is not None else (1, GENESIS)
    at = clock.as_utc(clock.now())
    entry = AuditEntry(seq=seq, at=at, actor_id=actor_id, organization_id=organization_id,
                       owner_organization_id=owner_organization_id, action=action, record_type=record_type,
                       record_id=record_id, prev_hash=prev_hash)
    entry.hash = entry_hash(key, prev_hash, canonical(seq, at, actor_id, organization_id, action,
                                                      record_type, record_id, owner_organization_id))
    session.add(entry)
    # Insert now: a second writer that read the same head fails here, on the
    # unique seq, inside its own transaction.
    session.flush()
    return entry


@dataclass(frozen=True)
class Verdict:
    """What `verify()` found: the whole chain sound, or where it first breaks."""

    ok: bool
    checked: int  # entries that passed
    head_seq: int | None = None  # the last sound entry
    head_hash: str | None = None
    seq: int | None = None  # the first broken entry
    reason: str | None = None  # "gap", "wrong_prev_hash" or "hash_mismatch"
    detail: str = ""

    def __str__(self) -> str:
        return "OK" if self.ok else f"seq {self.seq}: {self.detail}"


_COLUMNS = (AuditEntry.seq, AuditEntry.at, AuditEntry.actor_id, AuditEntry.organization_id,
            AuditEntry.owner_organization_id, AuditEntry.action, AuditEntry.record_type, AuditEntry.record_id,
            AuditEntry.prev_hash, AuditEntry.hash)


def verify(session: Session, *, key: str | bytes | None = None, batch_size: int = 1000) -> Verdict:
    """Walk the chain in seq order, in batches, and report the first broken entry."""
    key = key if key is not None else _configured_key()
    expected, prev_hash, checked, last = 1, GENESIS, 0, None
    while True:
        query = select(*_COLUMNS).order_by(AuditEntry.seq).limit(batch_size)
        if last is not None:
            query = query.where(AuditEntry.seq > last)
        # Plain rows, not ORM objects: a long log does not pile up in the session.
        rows = session.execute(query).all()
        for row in rows:
            broken = _check(key, row, expected, prev_hash)
            if broken is not None:
                reason, detail = broken
                return Verdict(False, checked, expected - 1 if checked else None, prev_hash if checked else None,
                               row.seq, reason, detail)
            expected, prev_hash, checked = row.seq + 1, row.hash, checked + 1
        if len(rows) < batch_size:
            return Verdict(True, checked, expected - 1 if checked else None, prev_hash if checked else None)
        last = rows[-1].seq


def _check(key, row, expected: int, prev_hash: str) -> tuple[str, str] | None:
    """Why this row breaks the chain, or None if it is sound."""
    if row.seq != expected:
        return "gap", f"gap in seq: expected {expected}, found {row.seq}"
    if row.prev_hash != prev_hash:
        return "wrong_prev_hash", f"wrong previous hash: it does not link to entry {row.seq - 1}"
    fields = canonical(row.seq, row.at, row.actor_id, row.organization_id, row.action, row.record_type,
                       row.record_id, row.owner_organization_id)
    expected_hash = entry_hash(key, row.prev_hash, fields).encode("ascii")
    # Bytes, not str: compare_digest refuses a str with non-ASCII text in it.
    if not hmac.compare_digest(expected_hash, str(row.hash).encode("utf-8")):
        return "hash_mismatch", "hash mismatch: the entry was changed, or not written with this key"
    return None


# ----------------------------------------------------------------- reading

@dataclass
class EntryFilter:
    """What the admin page narrows the list by; None means any."""

    actor_id: int | None = None
    record_type: str | None = None
    record_id: int | None = None
    since: datetime | None = None  # inclusive, UTC
    until: datetime | None = None  # exclusive, UTC


def list_entries(session: Session, user: User, where: EntryFilter | None = None, *,
                 before: int | None = None, after: int | None = None, limit: int = 100) -> list[AuditEntry]:
    """The entries `user` may read (an admin: their organization's), newest first, one page of `limit`.

    Pages go by seq, not offset, so an old page costs what a new one does:
    `before` gives the page older than that seq, `after` the page newer.
    """
    where = where or EntryFilter()
    query = select(AuditEntry).where(policy.audit_scope(user))
    if where.actor_id is not None:
        query = query.where(AuditEntry.actor_id == where.actor_id)
    if where.record_type is not None:
        query = query.where(AuditEntry.record_type == where.record_type)
    if where.record_id is not None:
        query = query.where(AuditEntry.record_id == where.record_id)
    if where.since is not None:
        query = query.where(AuditEntry.at >= where.since)
    if where.until is not None:
        query = query.where(AuditEntry.at < where.until)
    if after is not None:
        rows = session.scalars(query.where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(limit)).all()
        return list(reversed(rows))
    if before is not None:
        query = query.where(AuditEntry.seq < before)
    return list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit)).all())


def has_entries(session: Session, user: User, where: EntryFilter, *, before: int | None = None,
                after: int | None = None) -> bool:
    """Is there at least one matching entry older than `before` (or newer than `after`)?"""
    return bool(list_entries(session, user, where, before=before, after=after, limit=1))


def day_bounds(first: date | None, last: date | None, tz: str) -> tuple[datetime | None, datetime | None]:
    """Whole days `first`..`last` (inclusive) in zone `tz`, as a UTC [since, until) range."""
    zone = ZoneInfo(tz)

    def start_of(day: date) -> datetime | None:
        try:
            return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)
        except OverflowError:  # the first or last day a datetime can hold: no bound
            return None

    since = start_of(first) if first is not None else None
    until = None
    if last is not None and last < date.max:
        until = start_of(last + timedelta(days=1))
    return since, until


def outside_actors(session: Session, admin: User, entries: list[AuditEntry]) -> tuple[dict, dict]:
    """Names of the people of other organizations in these entries, and of those
    organizations: ({user id: name}, {organization id: name}), in two queries."""
    outside = {e.actor_id for e in entries if e.actor_id and e.organization_id != admin.organization_id}
    if not outside:
        return {}, {}
    people = session.execute(select(User.id, User.name, User.organization_id).where(User.id.in_(outside))).all()
    org_ids = {p.organization_id for p in people}
    names = dict(session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(org_ids)))
                 .tuples().all())
    return {p.id: p.name for p in people}, names


def organization_people(session: Session, admin: User) -> list[User]:
    """The admin's colleagues, for the person filter."""
    return list(session.scalars(select(User).where(policy.colleague_scope(admin))
                                .order_by(User.name, User.id)).all())
