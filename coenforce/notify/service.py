"""Putting notices in the outbox and taking them back out.

Callers pass their own session: a notice is inserted in the same transaction
as the change that caused it, so it exists exactly when that change does.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import and_, bindparam, text, update
from sqlalchemy.orm import Session

from coenforce import clock
from coenforce.db import UTCDateTime
from coenforce.notify.models import Notice, NoticeStatus
from coenforce.partners.models import User


@dataclass(frozen=True)
class Message:
    """How to word a kind of notice: a title and a lead sentence (lazy strings)."""

    title: object
    lead: object


def register_messages(app: Flask, messages: dict[str, Message]) -> None:
    """Declare the wording of notice kinds (from a module's init_app, with its notices.py)."""
    app.extensions.setdefault("coenforce.notify.messages", {}).update(messages)


def _messages() -> dict[str, Message]:
    return current_app.extensions.get("coenforce.notify.messages", {})


def message_for(kind: str) -> Message:
    return _messages()[kind]


def enqueue(session: Session, *, recipient: User, kind: str, dedupe_key: str, organization_id: int,
            subject_type: str, subject_id: int, context: dict, deadline_id: int | None = None) -> bool:
    """Insert one notice unless its dedupe key exists already; True if inserted."""
    row = dict(organization_id=organization_id, deadline_id=deadline_id, subject_type=subject_type,
               subject_id=subject_id, kind=kind, recipient_id=recipient.id, dedupe_key=dedupe_key, context=context)
    return bool(enqueue_many(session, [row]))


def enqueue_many(session: Session, rows: list[dict]) -> set[str]:
    """Insert notices (dicts of Notice columns) in one statement, skipping dedupe
    keys that exist already; returns the keys actually inserted."""
    if not rows:
        return set()
    unknown = {row["kind"] for row in rows} - set(_messages())
    if unknown:
        raise KeyError(f"no message registered for notice kinds {sorted(unknown)}")
    now = clock.now()
    # The unique dedupe key makes a second tick, or a second process, a no-op;
    # RETURNING says which rows went in (rowcount is not reliable here on psycopg).
    postgres = session.get_bind().dialect.name == "postgresql"
    return set(session.execute(_INSERT_MANY if postgres else _INSERT_MANY_SQLITE, {
        "rows": json.dumps(rows), "status": NoticeStatus.PENDING.value, "now": now}).scalars())


def enqueue_to_each(session: Session, messages: list[dict]) -> list[int]:
    """Insert one notice per recipient of each message, in one statement, skipping
    dedupe keys that exist already; returns how many went in for each message.

    A message is a dict of Notice columns with `recipient_ids` (distinct) instead
    of `recipient_id`, and `dedupe_prefix` instead of `dedupe_key`: each notice's
    key is the prefix followed by its recipient's id, so a prefix names one message."""
    if not messages:
        return []
    unknown = {message["kind"] for message in messages} - set(_messages())
    if unknown:
        raise KeyError(f"no message registered for notice kinds {sorted(unknown)}")
    if session.get_bind().dialect.name == "postgresql":
        # The context and columns travel once per message, not once per person, and
        # the counts come back per message: a tenth of the rows to encode and read.
        counted = dict(session.execute(_INSERT_TO_EACH, {
            "rows": json.dumps(messages), "status": NoticeStatus.PENDING.value, "now": clock.now()}).all())
        return [counted.get(message["dedupe_prefix"], 0) for message in messages]
    rows = [dict(message, recipient_id=user_id, dedupe_key=f"{message['dedupe_prefix']}{user_id}")
            for message in messages for user_id in message["recipient_ids"]]
    for row in rows:
        del row["recipient_ids"], row["dedupe_prefix"]
    inserted = enqueue_many(session, rows)
    return [sum(f"{message['dedupe_prefix']}{user_id}" in inserted for user_id in message["recipient_ids"])
            for message in messages]


# PostgreSQL: one statement whose text is the same for any number of notices,
# so the server parses it once per connection, with the rows as one JSON
# document (encoded and decoded in C rather than value by value). When any row
# goes in, the same statement wakes the dispatchers (see _WAKE_DISPATCHER): no
# round trip of its own.
_INSERT_MANY = text("""
    WITH inserted AS (
        INSERT INTO notices (organization_id, deadline_id, subject_type, subject_id, kind, recipient_id,
                             dedupe_key, context, status, attempts, next_attempt_at, created_at)
        SELECT v.organization_id, v.deadline_id, v.subject_type, v.subject_id, v.kind, v.recipient_id,
               v.dedupe_key, v.context, :status, 0, :now, :now
        FROM json_to_recordset(CAST(:rows AS json))
             AS v(organization_id integer, deadline_id integer, subject_type text, subject_id integer, kind text,
                  recipient_id integer, dedupe_key text, context json)
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING dedupe_key
    ), woken AS MATERIALIZED (SELECT pg_notify('coenforce_notices', '') FROM inserted LIMIT 1)
    SELECT dedupe_key FROM inserted, woken
""")


# SQLite: _INSERT_MANY with SQLite's JSON functions (json_each yields the rows;
# WHERE true tells its parser that ON CONFLICT belongs to the INSERT).
_INSERT_MANY_SQLITE = text("""
    INSERT INTO notices (organization_id, deadline_id, subject_type, subject_id, kind, recipient_id, dedupe_key,
                         context, status, attempts, next_attempt_at, created_at)
    SELECT json_extract(value, '$.organization_id'), json_extract(value, '$.deadline_id'),
           json_extract(value, '$.subject_type'), json_extract(value, '$.subject_id'), json_extract(value, '$.kind'),
           json_extract(value, '$.recipient_id'), json_extract(value, '$.dedupe_key'),
           json_extract(value, '$.context'), :status, 0, :now, :now
    FROM json_each(:rows) WHERE true
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING dedupe_key
""").bindparams(bindparam("now", type_=UTCDateTime()))


# PostgreSQL: enqueue_to_each in one statement (as _INSERT_MANY, waking the
# dispatchers too); a message's count is read back by the prefix of its keys,
# the key less the recipient's id.
_INSERT_TO_EACH = text("""
    WITH inserted AS (
        INSERT INTO notices (organization_id, deadline_id, subject_type, subject_id, kind, recipient_id,
                             dedupe_key, context, status, attempts, next_attempt_at, created_at)
        SELECT v.organization_id, v.deadline_id, v.subject_type, v.subject_id, v.kind, CAST(r.id AS integer),
               v.dedupe_prefix || r.id, v.context, :status, 0, :now, :now
        FROM json_to_recordset(CAST(:rows AS json))
             AS v(organization_id integer, deadline_id integer, subject_type text, subject_id integer, kind text,
                  recipient_ids json, dedupe_prefix text, context json)
        CROSS JOIN LATERAL json_array_elements_text(v.recipient_ids) AS r(id)
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING dedupe_key, recipient_id
    ), woken AS MATERIALIZED (SELECT pg_notify('coenforce_notices', '') FROM inserted LIMIT 1)
    SELECT left(dedupe_key, -length(CAST(recipient_id AS text))), count(*) FROM inserted, woken GROUP BY 1
""")


# The dispatcher LISTENs on this channel (coenforce.notify.dispatcher.CHANNEL).
# Notifications with the same payload in one transaction are folded into one.
_WAKE_DISPATCHER = text("SELECT pg_notify('coenforce_notices', '')")


def wake_dispatcher(session: Session) -> None:
    """PostgreSQL: tell listening dispatchers that a notice is due. Delivered at
    commit, and not at all on rollback; SQLite's dispatcher polls instead."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_WAKE_DISPATCHER)


def cancel_pending(session: Session, deadline_id: int) -> int:
    """Cancel a stopped deadline's notices that have not left yet."""
    result = session.execute(
        update(Notice)
        .where(and_(Notice.deadline_id == deadline_id, Notice.status == NoticeStatus.PENDING))
        .values(status=NoticeStatus.CANCELLED, last_error="deadline stopped before sending")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
