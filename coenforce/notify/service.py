"""Putting notices in the outbox and taking them back out.

Callers pass their own session: a notice is inserted in the same transaction
as the change that caused it, so it exists exactly when that change does.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import and_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from coenforce import clock
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
    table = Notice.__table__
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # The unique dedupe key makes a second tick, or a second process, a no-op;
    # RETURNING says which rows went in (rowcount is not reliable here on psycopg).
    stmt = insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.dedupe_key)
    full = [dict(row, status=NoticeStatus.PENDING.value, attempts=0, next_attempt_at=now, created_at=now)
            for row in rows]
    return set(session.execute(stmt, full).scalars())


def cancel_pending(session: Session, deadline_id: int) -> int:
    """Cancel a stopped deadline's notices that have not left yet."""
    result = session.execute(
        update(Notice)
        .where(and_(Notice.deadline_id == deadline_id, Notice.status == NoticeStatus.PENDING))
        .values(status=NoticeStatus.CANCELLED, last_error="deadline stopped before sending")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
