"""The rules of third-party complaints: filing (by a partner, the agency or the
public), the acknowledgement and decision clocks, decisions and receipts.

Each function receives input parsed by `schemas.py`, checks what needs the
database and raises before writing; the caller commits.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from coenforce import audit, clock, escalation
from coenforce.complaints.models import Complaint
from coenforce.db import paged
from coenforce.employers import employer_key
from coenforce.enums import SubjectType
from coenforce.escalation import Deadline, DueDeadline
from coenforce.escalation.ladder import Rung
from coenforce.partners.models import Organization, OrgKind, Role, User
from coenforce.partners.service import agencies_working_with, agency_chosen, reachable
from coenforce.schemas import Page
from coenforce.security import policy
from coenforce.thirdparty import queue
from coenforce.thirdparty.models import ACK_CLOCK, DECISION_CLOCK, ReportViolation, ThirdPartyReport
from coenforce.thirdparty.schemas import DecisionIn, ReceiptIn, ReportFilter, ReportIn, ReportListQuery
from coenforce.thirdparty.types import STATUS_AFTER, Decision, ReportStatus, Source
from coenforce.validation import Conflict, NotAllowed, NotFound, ValidationError

# Receipt codes: 16 characters of an alphabet without look-alikes (80 bits),
# shown in groups of four. Only their digest is stored.
_RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


# ---------------------------------------------------------------- reading

def get_report(session: Session, user: User, report_id: int) -> ThirdPartyReport:
    """The report if `user` may see it; NotFound (404) otherwise."""
    report = session.scalar(select(ThirdPartyReport).where(
        ThirdPartyReport.id == report_id, policy.report_scope(user)))
    if report is None:
        raise NotFound()
    return report


def view_report(session: Session, user: User, report_id: int) -> ThirdPartyReport:
    """Open a report to read it: scoped, then recorded in the audit log."""
    report = get_report(session, user, report_id)
    audit.record(session, user, "third_party.view", SubjectType.THIRD_PARTY_COMPLAINT, report.id,
                 owner_organization_id=report.agency_id)
    return report


def _matching(user: User, where: ReportFilter) -> list:
    conditions = [policy.report_scope(user)]
    if where.status:
        conditions.append(ThirdPartyReport.status == where.status)
    if where.industry:
        conditions.append(ThirdPartyReport.industry == where.industry)
    if where.state:
        # The clock that matters: acknowledgement until acknowledged, then the decision.
        conditions.append(or_(
            and_(ThirdPartyReport.acknowledged_at.is_(None), _clock_in_state(ACK_CLOCK, where.state)),
            and_(ThirdPartyReport.acknowledged_at.is_not(None), _clock_in_state(DECISION_CLOCK, where.state))))
    return conditions


def _clock_in_state(kind: str, state) -> object:
    return select(Deadline.id).where(
        Deadline.subject_type == SubjectType.THIRD_PARTY_COMPLAINT, Deadline.subject_id == ThirdPartyReport.id,
        Deadline.kind == kind, Deadline.state_at(clock.now()) == state).exists()


def _newest_first(session: Session, user: User, where: ReportFilter, *, limit: int, offset: int = 0,
                  after: int | None = None, with_filer: bool = False) -> Page:
    """A page of the reports `user` may see that match, newest first, with how many match
    in all and, when more follow, the last id (the API's cursor)."""
    conditions = _matching(user, where)
    total = session.scalar(select(func.count()).select_from(ThirdPartyReport).where(*conditions))
    if after is not None:
        conditions.append(ThirdPartyReport.id < after)
    query = select(ThirdPartyReport).where(*conditions).order_by(ThirdPartyReport.id.desc())
    if with_filer:  # the list page names the filing organization of each row
        query = query.options(selectinload(ThirdPartyReport.filed_by_org))
    reports = list(session.scalars(paged(query, limit + 1, offset)).unique().all())
    more = len(reports) > limit
    reports = reports[:limit]
    return Page(reports, total, (reports[-1].id,) if more else None)


def list_reports(session: Session, user: User, where: ReportFilter, *, limit: int = 50, offset: int = 0) -> Page:
    """The list page: a page by number."""
    return _newest_first(session, user, where, limit=limit, offset=offset, with_filer=True)


def page_of_reports(session: Session, user: User, query: ReportListQuery) -> Page:
    """The API's pages, keyed on the id."""
    return _newest_first(session, user, query, limit=query.limit, after=query.after[0] if query.after else None)


def agency_choices(session: Session, user: User | None) -> list[Organization]:
    """Agencies a report can go to: those the user works with or, for the public, every agency."""
    if user is None:
        return list(session.scalars(select(Organization).where(Organization.kind == OrgKind.AGENCY)
                                    .order_by(Organization.name)))
    return agencies_working_with(session, user)


# ---------------------------------------------------------------- filing

def _agency(session: Session, user: User | None, agency_id: int | None) -> Organization:
    if user is None:
        return agency_chosen(agency_choices(session, None), agency_id, _l("Choose one of the agencies listed."))
    return agency_chosen(agency_choices(session, user), agency_id)


def file_report(session: Session, user: User, data: ReportIn) -> ThirdPartyReport:
    """A partner's or the agency's report: both clocks start at once."""
    if not policy.allowed(user, "thirdparty.create"):
        raise NotAllowed()
    agency = _agency(session, user, data.agency_id)
    source = Source.AGENCY if user.is_agency_staff else Source.PARTNER
    return _file(session, agency, data, source=source, org_id=user.organization_id, user_id=user.id)


def file_public_report(session: Session, data: ReportIn) -> tuple[ThirdPartyReport, str]:
    """A report from the public page and its receipt code (shown once; only
    its digest is kept). Nothing about the reporter is taken."""
    agency = _agency(session, None, data.agency_id)
    code = "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(16))
    report = _file(session, agency, data, source=Source.PUBLIC, org_id=None, user_id=None,
                   receipt_digest=_receipt_digest(code))
    return report, "-".join(code[i:i + 4] for i in range(0, 16, 4))


def _file(session: Session, agency: Organization, data: ReportIn, *, source: Source, org_id: int | None,
          user_id: int | None, receipt_digest: str | None = None) -> ThirdPartyReport:
    now = clock.now()
    report = ThirdPartyReport(
        agency_id=agency.id, source=source, filed_by_org_id=org_id, filed_by_user_id=user_id,
        employer_name=data.employer_name, employer_key=employer_key(data.employer_name),
        worksite_address=data.worksite_address, area=data.area, industry=data.industry,
        workers_affected=data.workers_affected, description=data.description,
        can_connect_workers=data.can_connect_workers, status=ReportStatus.RECEIVED, received_at=now,
        receipt_digest=receipt_digest, created_at=now,
        violations=[ReportViolation(type=t) for t in data.violation_types],
    )
    session.add(report)
    session.flush()
    config = current_app.config
    clocks = {}
    for kind, target in ((ACK_CLOCK, timedelta(hours=config["THIRD_PARTY_ACK_HOURS"])),
                         (DECISION_CLOCK, timedelta(days=config["THIRD_PARTY_DECISION_DAYS"]))):
        clocks[kind] = escalation.open_deadline(
            session, kind=kind, subject_type=SubjectType.THIRD_PARTY_COMPLAINT, subject_id=report.id,
            organization_id=agency.id, reference=report.reference, path=f"/third-party/{report.id}",
            starts_at=now, due_at=now + target)
    set_committed_value(report, "ack_deadline", clocks[ACK_CLOCK])
    set_committed_value(report, "decision_deadline", clocks[DECISION_CLOCK])
    queue.refresh(session, agency.id, [report.employer_key])
    return report


# ---------------------------------------------------------------- acknowledging and deciding

def _undecided(report: ThirdPartyReport) -> None:
    if report.is_decided:
        raise Conflict(_l("This report has already been decided."))


def acknowledge(session: Session, user: User, report: ThirdPartyReport) -> None:
    """The agency has read the report: the acknowledgement clock stops."""
    if not policy.allowed(user, "thirdparty.acknowledge"):
        raise NotAllowed()
    if report.acknowledged_at is not None:
        raise Conflict(_l("This report has already been acknowledged."))
    _acknowledge(session, user, report)
    session.flush()


def _acknowledge(session: Session, user: User, report: ThirdPartyReport) -> None:
    now = clock.now()
    report.acknowledged_at = now
    report.acknowledged_by_id = user.id
    if report.status == ReportStatus.RECEIVED:
        report.status = ReportStatus.ACKNOWLEDGED
    escalation.stop_deadline(session, report.ack_deadline, now)


def decide(session: Session, user: User, report: ThirdPartyReport, data: DecisionIn) -> None:
    """Open an investigation, queue for strategic enforcement, or decline with a
    reason the filer reads. Deciding acknowledges too; both clocks stop."""
    if not policy.allowed(user, "thirdparty.decide"):
        raise NotAllowed()
    _undecided(report)
    if data.decision == Decision.DECLINE and not data.reason:
        raise ValidationError({"reason": _l("Say why the report is declined: the filer reads it.")})
    if data.decision == Decision.INVESTIGATE and not (data.case_reference or data.linked_complaint_id):
        raise ValidationError({"case_reference": _l("Give the investigation's case number or link a complaint.")})
    if data.linked_complaint_id is not None:
        complaint = session.scalar(select(Complaint.id).where(
            Complaint.id == data.linked_complaint_id, Complaint.agency_id == report.agency_id))
        if complaint is None:
            raise ValidationError({"linked_complaint_id": _l("Choose a complaint of this agency.")})
    if data.public_reply and report.source != Source.PUBLIC:
        raise ValidationError({"public_reply": _l("Only a report from the public page has a public reply.")})
    _decide(session, user, report, data.decision, reason=data.reason, case_reference=data.case_reference,
            linked_complaint_id=data.linked_complaint_id, public_reply=data.public_reply)
    queue.refresh(session, report.agency_id, [report.employer_key])
    session.flush()


def _decide(session: Session, user: User, report: ThirdPartyReport, decision: Decision, *, reason=None,
            case_reference=None, linked_complaint_id=None, public_reply=None) -> None:
    now = clock.now()
    if report.acknowledged_at is None:
        _acknowledge(session, user, report)
    report.decision = decision
    report.status = STATUS_AFTER[decision]
    report.decision_reason = reason
    report.case_reference = case_reference
    report.linked_complaint_id = linked_complaint_id
    report.public_reply = public_reply
    report.decided_at = now
    report.decided_by_id = user.id
    escalation.stop_deadline(session, report.decision_deadline, now)


def investigate_employer(session: Session, user: User, agency_id: int, key: str, case_reference: str) -> int:
    """Open an investigation from the strategic queue: the employer's undecided
    and queued reports are decided as investigated under `case_reference`.
    Returns how many reports it decided."""
    if not policy.allowed(user, "strategic.investigate"):
        raise NotAllowed()
    evidence = queue.get(session, user, key)
    if evidence.investigation_opened_at is not None:
        raise Conflict(_l("An investigation of this employer is already open."))
    reports = session.scalars(select(ThirdPartyReport).where(
        ThirdPartyReport.agency_id == agency_id, ThirdPartyReport.employer_key == key,
        ThirdPartyReport.status.in_((ReportStatus.RECEIVED, ReportStatus.ACKNOWLEDGED, ReportStatus.QUEUED)))
    ).unique().all()
    for report in reports:
        _decide(session, user, report, Decision.INVESTIGATE, case_reference=case_reference,
                reason=report.decision_reason if report.status == ReportStatus.QUEUED else None)
    evidence.investigation_opened_at = clock.now()
    evidence.investigation_opened_by_id = user.id
    evidence.case_reference = case_reference
    queue.refresh(session, agency_id, [key])
    session.flush()
    return len(reports)


# ---------------------------------------------------------------- receipts

def _receipt_digest(code: str) -> str:
    plain = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(plain.encode()).hexdigest()


def report_for_receipt(session: Session, data: ReceiptIn) -> ThirdPartyReport:
    """The public report a receipt code names; NotFound for any other code."""
    report = session.scalar(select(ThirdPartyReport).where(
        ThirdPartyReport.receipt_digest == _receipt_digest(data.code)))
    if report is None:
        raise NotFound()
    return report


# ---------------------------------------------------------------- escalation

RECIPIENT_GROUPS = frozenset({"supervisors", "agency_admins", "partnership_contacts"})


def recipients(session: Session, items: list[tuple[DueDeadline, Rung]]) -> list[list[int]]:
    """The user ids each rung of a report's clocks tells, in three queries for all."""
    ids = {deadline.subject_id for deadline, _rung in items}
    # report id -> (agency, filing partner or None)
    reports = {report_id: (agency_id, filed_by) for report_id, agency_id, filed_by in session.execute(
        select(ThirdPartyReport.id, ThirdPartyReport.agency_id, ThirdPartyReport.filed_by_org_id)
        .where(ThirdPartyReport.id.in_(ids)))}
    people = reachable(session, {agency_id for agency_id, _by in reports.values()},
                       {filed_by for _agency, filed_by in reports.values() if filed_by})
    resolved = []
    for deadline, rung in items:
        agency_id, filed_by = reports.get(deadline.subject_id, (None, None))
        found: list[int] = []
        for group in (rung.to if agency_id is not None else ()):
            if group == "supervisors":
                found += people.of(agency_id, Role.SUPERVISOR)
            elif group == "agency_admins":
                found += people.of(agency_id, Role.AGENCY_ADMIN)
            elif group == "partnership_contacts" and filed_by:
                found += people.contacts_of(agency_id, filed_by)
        resolved.append(found)
    return resolved
