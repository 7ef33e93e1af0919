"""The strategic-enforcement queue: employers ranked by the evidence the app
holds, so an agency can act without an individual complainant.

Each employer (one key for the spellings of its name, `employers.py`) has one
`EmployerEvidence` row per agency, recomputed from its reports and complaints
whenever one of them changes. The score is explained row by row:

    10 points per third-party report (declined ones do not count)
    15 points per retaliation complaint
    10 points per further organization reporting the same employer
     1 point per 10 workers affected (the largest estimate), at most 30
    20 points if the latest evidence is from the last 30 days, 10 if the last 90

Ties go to the most recent evidence, then the name's key.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import bindparam, case, delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from coenforce import clock
from coenforce.complaints.models import Complaint
from coenforce.db import UTCDateTime, paged, write_at_commit
from coenforce.partners.models import User
from coenforce.schemas import Page
from coenforce.security import policy
from coenforce.thirdparty.models import EmployerEvidence, ThirdPartyReport
from coenforce.thirdparty.schemas import QueueFilter
from coenforce.thirdparty.types import Industry, ReportStatus
from coenforce.validation import NotFound

REPORT_POINTS = 10
COMPLAINT_POINTS = 15
PARTNER_POINTS = 10
WORKERS_PER_POINT = 10
MAX_WORKER_POINTS = 30
# (within, points): the most recent band that the latest evidence falls in.
RECENCY = ((timedelta(days=30), 20), (timedelta(days=90), 10))


def recency_points(last: datetime, now: datetime) -> int:
    return next((bonus for within, bonus in RECENCY if last >= now - within), 0)


def score_sql(now: datetime):
    """The score as SQL, over EmployerEvidence (integers divide whole on both databases)."""
    row = EmployerEvidence
    return (REPORT_POINTS * row.reports + COMPLAINT_POINTS * row.complaints
            + PARTNER_POINTS * case((row.partners > 1, row.partners - 1), else_=0)
            + case((row.workers >= WORKERS_PER_POINT * MAX_WORKER_POINTS, MAX_WORKER_POINTS),
                   else_=row.workers // WORKERS_PER_POINT)
            + case(*[(row.last_evidence_at >= now - within, bonus) for within, bonus in RECENCY], else_=0))


@dataclass(frozen=True)
class Reason:
    points: int
    text: str


@dataclass(frozen=True)
class RankedEmployer:
    evidence: EmployerEvidence
    score: int
    reasons: list[Reason]


def reasons(row: EmployerEvidence, now: datetime) -> list[Reason]:
    """Why an employer ranks where it does, one line per part of its score."""
    found = []
    if row.reports:
        found.append(Reason(REPORT_POINTS * row.reports, ngettext(
            "%(num)s third-party report", "%(num)s third-party reports", row.reports)))
    if row.complaints:
        found.append(Reason(COMPLAINT_POINTS * row.complaints, ngettext(
            "%(num)s retaliation complaint", "%(num)s retaliation complaints", row.complaints)))
    if row.partners > 1:
        found.append(Reason(PARTNER_POINTS * (row.partners - 1), ngettext(
            "reported by %(num)s different organization", "reported by %(num)s different organizations",
            row.partners)))
    if row.workers >= WORKERS_PER_POINT:
        found.append(Reason(min(row.workers // WORKERS_PER_POINT, MAX_WORKER_POINTS), ngettext(
            "up to %(num)s worker affected", "up to %(num)s workers affected", row.workers)))
    recent = recency_points(row.last_evidence_at, now)
    if recent:
        days = max((now - row.last_evidence_at).days, 0)
        found.append(Reason(recent, ngettext("latest evidence %(num)s day ago", "latest evidence %(num)s days ago",
                                             days)))
    return found


# ---------------------------------------------------------------- reading

def _conditions(user: User, where: QueueFilter) -> list:
    conditions = [policy.evidence_scope(user)]
    if where.industry:
        conditions.append(EmployerEvidence.industry == where.industry)
    if where.area:
        conditions.append(func.lower(EmployerEvidence.area) == where.area.lower())
    if not where.include_investigated:
        conditions.append(EmployerEvidence.investigation_opened_at.is_(None))
    return conditions


def ranked(session: Session, user: User, where: QueueFilter, *, limit: int = 50, offset: int = 0) -> Page:
    """A page of the queue, highest score first, in two statements whatever its size."""
    now = clock.now()
    conditions = _conditions(user, where)
    score = score_sql(now).label("score")
    rows = session.execute(paged(
        select(EmployerEvidence, score).where(*conditions)
        .order_by(score.desc(), EmployerEvidence.last_evidence_at.desc(), EmployerEvidence.employer_key),
        limit, offset)).all()
    total = session.scalar(select(func.count()).select_from(EmployerEvidence).where(*conditions))
    return Page([RankedEmployer(row, score, reasons(row, now)) for row, score in rows], total, None)


def get(session: Session, user: User, key: str) -> EmployerEvidence:
    row = session.scalar(select(EmployerEvidence).where(policy.evidence_scope(user),
                                                        EmployerEvidence.employer_key == key))
    if row is None:
        raise NotFound()
    return row


# ---------------------------------------------------------------- keeping it current

def _lock(session: Session, agency_id: int, keys: list[str]) -> None:
    """On PostgreSQL, serialize recomputations of one employer so that two
    reports filed at once both count (SQLite serializes writers already)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(keys):
        digest = hashlib.sha256(f"{agency_id}:{key}".encode()).digest()
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                        {"k": int.from_bytes(digest[:8], "big", signed=True)})


def refresh(session: Session, agency_id: int, keys: list[str] | None = None) -> int:
    """Recompute the evidence of the employers `keys` of an agency (all of them
    with None) from their reports and complaints. Returns the rows written."""
    session.flush()
    if keys is not None:
        keys = sorted({k for k in keys if k})
        if not keys:
            return 0
        _lock(session, agency_id, keys)

    def scoped(query, model):
        query = query.where(model.agency_id == agency_id)
        return query.where(model.employer_key.in_(keys)) if keys is not None else query

    counted = ThirdPartyReport.status != ReportStatus.DECLINED
    found: dict[str, dict] = {}
    for row in session.execute(scoped(
            select(ThirdPartyReport.employer_key, func.count(), func.count(ThirdPartyReport.filed_by_org_id.distinct()),
                   func.coalesce(func.max(ThirdPartyReport.workers_affected), 0),
                   func.max(ThirdPartyReport.received_at))
            .where(counted).group_by(ThirdPartyReport.employer_key), ThirdPartyReport)):
        found[row[0]] = {"reports": row[1], "partners": row[2], "complaints": 0, "workers": row[3],
                         "last_evidence_at": row[4]}
    # The latest report's spelling, industry and area describe the employer.
    latest = scoped(select(ThirdPartyReport.employer_key, func.max(ThirdPartyReport.id).label("id"))
                    .where(counted).group_by(ThirdPartyReport.employer_key), ThirdPartyReport).subquery()
    for key, name, industry, area in session.execute(
            select(ThirdPartyReport.employer_key, ThirdPartyReport.employer_name, ThirdPartyReport.industry,
                   ThirdPartyReport.area).join(latest, latest.c.id == ThirdPartyReport.id)):
        found[key].update(employer_name=name, industry=industry, area=area)
    for key, count, workers, last, name in session.execute(scoped(
            select(Complaint.employer_key, func.count(), func.max(Complaint.workers_affected),
                   func.max(Complaint.received_at), func.max(Complaint.employer_name))
            .group_by(Complaint.employer_key), Complaint)):
        entry = found.setdefault(key, {"reports": 0, "partners": 0, "workers": 0, "last_evidence_at": last,
                                       "employer_name": name, "industry": Industry.OTHER, "area": None})
        entry["complaints"] = count
        entry["workers"] = max(entry["workers"], workers or 0)
        entry["last_evidence_at"] = max(entry["last_evidence_at"], last)

    stale = delete(EmployerEvidence).where(EmployerEvidence.agency_id == agency_id,
                                           EmployerEvidence.investigation_opened_at.is_(None))
    gone = [k for k in (keys or []) if k not in found]
    if keys is None:
        session.execute(stale)  # all of them: the rows found are written again below
    elif gone:
        session.execute(stale.where(EmployerEvidence.employer_key.in_(gone)))
    rows = [{"agency_id": agency_id, "employer_key": key, **e} for key, e in found.items()]
    _upsert(session, rows)
    return len(rows)


# One statement, the same on both databases, whose text never changes: SQLAlchemy
# cannot cache its dialects' ON CONFLICT inserts, and filing a complaint runs this.
_NOTE_COMPLAINT = text("""
    INSERT INTO employer_evidence (agency_id, employer_key, employer_name, industry, reports, partners, complaints,
                                   workers, last_evidence_at)
    VALUES (:agency_id, :employer_key, :employer_name, :industry, 0, 0, 1, :workers, :at)
    ON CONFLICT (agency_id, employer_key) DO UPDATE SET
        complaints = employer_evidence.complaints + 1,
        workers = CASE WHEN excluded.workers > employer_evidence.workers
                       THEN excluded.workers ELSE employer_evidence.workers END,
        last_evidence_at = CASE WHEN excluded.last_evidence_at > employer_evidence.last_evidence_at
                                THEN excluded.last_evidence_at ELSE employer_evidence.last_evidence_at END
""").bindparams(bindparam("at", type_=UTCDateTime()))


def note_complaint(session: Session, agency_id: int, key: str, name: str, workers: int, at: datetime) -> None:
    """Count a new retaliation complaint against its employer, in one statement
    (complaints only ever add to the evidence, so no recomputation is needed)
    sent with the commit: the filing reads no evidence back."""
    if not key:
        return
    write_at_commit(session, _NOTE_COMPLAINT, {"agency_id": agency_id, "employer_key": key, "employer_name": name,
                                               "industry": Industry.OTHER.value, "workers": workers, "at": at})


def _insert(session: Session):
    """The database's INSERT that takes ON CONFLICT (both dialects have one)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _upsert(session: Session, rows: list[dict], chunk: int = 2_000) -> None:
    if not rows:
        return
    insert = _insert(session)
    for start in range(0, len(rows), chunk):
        statement = insert(EmployerEvidence).values(rows[start:start + chunk])
        updated = {name: statement.excluded[name] for name in rows[0] if name not in ("agency_id", "employer_key")}
        session.execute(statement.on_conflict_do_update(index_elements=["agency_id", "employer_key"],
                                                        set_=updated))
    # Rows already loaded in this session are now stale.
    for loaded in [o for o in session.identity_map.values() if isinstance(o, EmployerEvidence)]:
        session.expire(loaded)


REASON_HELP = _l("Points: 10 per report, 15 per retaliation complaint, 10 per further organization reporting, "
                 "1 per 10 workers affected (at most 30), and 20 for evidence in the last 30 days or 10 in the "
                 "last 90.")
