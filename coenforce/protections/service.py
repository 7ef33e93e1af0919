"""The rules of immigration protections on a case: T and U visa certification
requests on the jurisdiction's legal deadline, Statement of Interest letters
and labor-based deferred action grants, each on the escalation engine; the
agency's targets and its holiday calendar.

Each function receives input parsed by `schemas.py`, checks what needs the
database and raises before writing; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from coenforce import audit, clock, escalation
from coenforce.complaints.models import Complaint
from coenforce.complaints.service import get_complaint
from coenforce.enums import SubjectType
from coenforce.escalation import Deadline, DueDeadline, Holiday
from coenforce.escalation.ladder import Rung
from coenforce.partners.models import Organization, Role, User
from coenforce.partners.service import reachable
from coenforce.protections.models import (
    CERTIFICATION_CLOCK, LETTER_CLOCK, RENEWAL_CLOCK, CertificationRequest, DeferredActionGrant, InterestLetter,
    ProtectionSettings,
)
from coenforce.protections.schemas import (
    CertificationDecisionIn, CertificationIn, GrantIn, HolidayIn, LetterIn, LetterSentIn, SettingsIn,
)
from coenforce.protections.types import CertificationDecision
from coenforce.security import policy
from coenforce.validation import Conflict, NotAllowed, NotFound, ValidationError


# ---------------------------------------------------------------- settings

@dataclass(frozen=True)
class Targets:
    certification_days: int
    removal_business_days: int
    letter_business_days: int


def targets(session: Session, agency_id: int) -> Targets:
    """The agency's own targets, or the defaults of config.py."""
    row = session.get(ProtectionSettings, agency_id)
    if row is not None:
        return Targets(row.certification_days, row.removal_business_days, row.letter_business_days)
    config = current_app.config
    return Targets(config["PROTECTION_CERTIFICATION_DAYS"], config["PROTECTION_REMOVAL_BUSINESS_DAYS"],
                   config["PROTECTION_LETTER_BUSINESS_DAYS"])


def update_targets(session: Session, user: User, data: SettingsIn) -> Targets:
    """An agency admin sets the agency's targets (clocks already running keep their due times)."""
    if not policy.allowed(user, "protections.settings"):
        raise NotAllowed()
    return _store_targets(session, user.organization_id, data)


def _store_targets(session: Session, agency_id: int, data: SettingsIn) -> Targets:
    row = session.get(ProtectionSettings, agency_id) or ProtectionSettings(organization_id=agency_id)
    row.certification_days = data.certification_days
    row.removal_business_days = data.removal_business_days
    row.letter_business_days = data.letter_business_days
    row.updated_at = clock.now()
    session.add(row)
    session.flush()
    return targets(session, agency_id)


# ---------------------------------------------------------------- reading

@dataclass(frozen=True)
class Protections:
    """What the protections page of one complaint shows."""

    complaint: Complaint
    certifications: list[CertificationRequest]
    letters: list[InterestLetter]
    grants: list[DeferredActionGrant]
    targets: Targets


def view_protections(session: Session, user: User, complaint_id: int) -> Protections:
    """A complaint's protections: scoped, then recorded in the audit log (a
    certification request says something about a worker's situation)."""
    if not policy.allowed(user, "protections.view"):
        raise NotAllowed()
    complaint = get_complaint(session, user, complaint_id)
    audit.record(session, user, "protections.view", SubjectType.COMPLAINT, complaint.id,
                 owner_organization_id=complaint.agency_id)
    return protections_of(session, user, complaint)


def protections_of(session: Session, user: User, complaint: Complaint) -> Protections:
    """One query per kind of record (their clocks are loaded with them)."""
    def rows(model):
        return list(session.scalars(select(model).where(model.complaint_id == complaint.id,
                                                        policy.protection_scope(user, model))
                                    .order_by(model.id.desc())))
    return Protections(complaint, rows(CertificationRequest), rows(InterestLetter), rows(DeferredActionGrant),
                       targets(session, complaint.agency_id))


def _get(session: Session, user: User, model, record_id: int):
    record = session.scalar(select(model).where(model.id == record_id, policy.protection_scope(user, model)))
    if record is None:
        raise NotFound()
    return record


def get_certification(session: Session, user: User, record_id: int) -> CertificationRequest:
    return _get(session, user, CertificationRequest, record_id)


def get_letter(session: Session, user: User, record_id: int) -> InterestLetter:
    return _get(session, user, InterestLetter, record_id)


def get_grant(session: Session, user: User, record_id: int) -> DeferredActionGrant:
    return _get(session, user, DeferredActionGrant, record_id)


def _may_manage(user: User) -> None:
    if not policy.allowed(user, "protections.manage"):
        raise NotAllowed()


def _open_clock(session: Session, record, *, kind: str, subject_type: SubjectType, starts_at: datetime,
                due_at: datetime) -> Deadline:
    deadline = escalation.open_deadline(
        session, kind=kind, subject_type=subject_type, subject_id=record.id, organization_id=record.agency_id,
        reference=record.reference, path=f"/complaints/{record.complaint_id}/protections",
        starts_at=starts_at, due_at=due_at)
    set_committed_value(record, "deadline", deadline)
    return deadline


# ---------------------------------------------------------------- T and U visa certification

def certification_due(session: Session, agency_id: int, requested_at: datetime,
                      removal_since: datetime | None) -> datetime:
    """The legal deadline: the end of the N-th calendar day after the request
    (90 by default); when the worker is in removal proceedings, the earlier of
    that and the end of the M-th business day (14 by default) after the agency
    learned of them (the request itself, when the request said so)."""
    goal = targets(session, agency_id)
    due = escalation.calendar_days_after(session, agency_id, requested_at, goal.certification_days)
    if removal_since is not None:
        due = min(due, escalation.business_days_after(session, agency_id, removal_since, goal.removal_business_days))
    return due


def request_certification(session: Session, user: User, complaint: Complaint,
                          data: CertificationIn) -> CertificationRequest:
    """Record a certification request; its legal deadline's clock starts."""
    _may_manage(user)
    now = clock.now()
    requested_at = data.requested_at or now
    record = CertificationRequest(
        agency_id=complaint.agency_id, complaint_id=complaint.id, certification_form=data.certification_form,
        requested_at=requested_at, requested_by=data.requested_by, removal_proceedings=data.removal_proceedings,
        removal_proceedings_noted_at=requested_at if data.removal_proceedings else None, recorded_by_id=user.id,
        created_at=now)
    session.add(record)
    session.flush()
    due = certification_due(session, complaint.agency_id, requested_at,
                            requested_at if data.removal_proceedings else None)
    _open_clock(session, record, kind=CERTIFICATION_CLOCK, subject_type=SubjectType.CERTIFICATION,
                starts_at=requested_at, due_at=due)
    return record


def note_removal_proceedings(session: Session, user: User, record: CertificationRequest) -> datetime:
    """The worker is in removal proceedings: the running deadline moves to the
    earlier of its due time and the business-day target counted from now.
    Returns the due time."""
    _may_manage(user)
    if record.removal_proceedings:
        raise Conflict(_l("This request is already marked as in removal proceedings."))
    if record.is_decided:
        raise Conflict(_l("This request has already been decided."))
    now = clock.now()
    record.removal_proceedings = True
    record.removal_proceedings_noted_at = now
    deadline = record.deadline
    due = min(deadline.due_at, certification_due(session, record.agency_id, record.requested_at, now))
    if due != deadline.due_at:
        escalation.reschedule(session, deadline, due)
    session.flush()
    return due


def decide_certification(session: Session, user: User, record: CertificationRequest,
                         data: CertificationDecisionIn) -> None:
    """Certified or declined (a reason is required to decline); the clock stops."""
    _may_manage(user)
    if record.is_decided:
        raise Conflict(_l("This request has already been decided."))
    if data.decision == CertificationDecision.DECLINED and not data.note:
        raise ValidationError({"note": _l("Say why the certification is declined.")})
    now = clock.now()
    record.decision = data.decision
    record.decision_note = data.note
    record.decided_at = now
    record.decided_by_id = user.id
    escalation.stop_deadline(session, record.deadline, now)
    session.flush()


# ---------------------------------------------------------------- Statement of Interest

def request_letter(session: Session, user: User, complaint: Complaint, data: LetterIn) -> InterestLetter:
    """Record a request for a Statement of Interest; the clock to send it starts."""
    _may_manage(user)
    now = clock.now()
    requested_at = data.requested_at or now
    letter = InterestLetter(agency_id=complaint.agency_id, complaint_id=complaint.id, requested_at=requested_at,
                            requested_by=data.requested_by, recorded_by_id=user.id, created_at=now)
    letter.note = data.note
    session.add(letter)
    session.flush()
    due = escalation.business_days_after(session, complaint.agency_id, requested_at,
                                         targets(session, complaint.agency_id).letter_business_days)
    _open_clock(session, letter, kind=LETTER_CLOCK, subject_type=SubjectType.INTEREST_LETTER,
                starts_at=requested_at, due_at=due)
    return letter


def letter_sent(session: Session, user: User, letter: InterestLetter, data: LetterSentIn) -> None:
    """The letter went out: to whom and when; its clock stops."""
    _may_manage(user)
    if letter.sent_at is not None:
        raise Conflict(_l("This letter has already been sent."))
    sent_at = data.sent_at or clock.now()
    if sent_at < letter.requested_at:
        raise ValidationError({"sent_at": _l("Cannot be before the request.")})
    letter.sent_at = sent_at
    letter.sent_to = data.sent_to
    letter.sent_by_id = user.id
    if data.note:
        letter.note = data.note
    escalation.stop_deadline(session, letter.deadline, sent_at)
    session.flush()


# ---------------------------------------------------------------- deferred action

def expiry_time(session: Session, agency_id: int, expires_on: date) -> datetime:
    """The moment a grant's expiry notices hang from: PROTECTION_EXPIRY_HOUR
    on the expiry date in the agency's time zone (nobody is woken at midnight)."""
    zone = ZoneInfo(session.scalar(select(Organization.timezone).where(Organization.id == agency_id)))
    hour = current_app.config["PROTECTION_EXPIRY_HOUR"]
    return datetime.combine(expires_on, time(hour), tzinfo=zone).astimezone(timezone.utc)


def record_grant(session: Session, user: User, complaint: Complaint, data: GrantIn) -> DeferredActionGrant:
    """Record an existing grant; the renewal reminders (120 days before, and at expiry) are scheduled."""
    _may_manage(user)
    if data.expires_on <= data.granted_on:
        raise ValidationError({"expires_on": _l("Must be after the grant date.")})
    zone = ZoneInfo(complaint.agency.timezone)
    if data.expires_on <= clock.now().astimezone(zone).date():
        raise ValidationError({"expires_on": _l("This grant has expired: record a grant that is still running.")})
    now = clock.now()
    grant = DeferredActionGrant(agency_id=complaint.agency_id, complaint_id=complaint.id, granted_on=data.granted_on,
                                expires_on=data.expires_on, recorded_by_id=user.id, created_at=now)
    grant.note = data.note
    session.add(grant)
    session.flush()
    _open_clock(session, grant, kind=RENEWAL_CLOCK, subject_type=SubjectType.DEFERRED_ACTION, starts_at=now,
                due_at=expiry_time(session, complaint.agency_id, data.expires_on))
    return grant


def renewal_filed(session: Session, user: User, grant: DeferredActionGrant) -> None:
    """The renewal was filed: the reminders stop."""
    _may_manage(user)
    if grant.renewal_filed_at is not None:
        raise Conflict(_l("The renewal has already been recorded."))
    now = clock.now()
    grant.renewal_filed_at = now
    grant.renewal_filed_by_id = user.id
    escalation.stop_deadline(session, grant.deadline, now)
    session.flush()


# ---------------------------------------------------------------- holidays

def list_holidays(session: Session, user: User) -> list[Holiday]:
    if not policy.allowed(user, "holidays.manage"):
        raise NotAllowed()
    return list(session.scalars(select(Holiday).where(policy.holiday_scope(user)).order_by(Holiday.date)))


def add_holiday(session: Session, user: User, data: HolidayIn) -> Holiday:
    if not policy.allowed(user, "holidays.manage"):
        raise NotAllowed()
    return _add_holiday(session, user.organization_id, data)


def _add_holiday(session: Session, agency_id: int, data: HolidayIn) -> Holiday:
    taken = session.scalar(select(Holiday.id).where(Holiday.organization_id == agency_id, Holiday.date == data.date))
    if taken is not None:
        raise ValidationError({"date": _l("This day is already a holiday.")})
    holiday = Holiday(organization_id=agency_id, date=data.date, name=data.name, created_at=clock.now())
    session.add(holiday)
    session.flush()
    return holiday


def remove_holiday(session: Session, user: User, holiday_id: int) -> None:
    if not policy.allowed(user, "holidays.manage"):
        raise NotAllowed()
    holiday = session.scalar(select(Holiday).where(Holiday.id == holiday_id, policy.holiday_scope(user)))
    if holiday is None:
        raise NotFound()
    session.delete(holiday)
    session.flush()


# ---------------------------------------------------------------- who is told

RECIPIENT_GROUPS = frozenset({"assignee", "assignee_or_supervisors", "supervisors", "agency_admins"})
_SUBJECTS = {SubjectType.CERTIFICATION: CertificationRequest, SubjectType.INTEREST_LETTER: InterestLetter,
             SubjectType.DEFERRED_ACTION: DeferredActionGrant}


def recipients(session: Session, items: list[tuple[DueDeadline, Rung]]) -> list[list[int]]:
    """The user ids each rung tells: the case's assignee and the agency's
    supervisors and admins, for a whole batch in at most five queries."""
    wanted: dict[SubjectType, set[int]] = {}
    for deadline, _rung in items:
        wanted.setdefault(SubjectType(deadline.subject_type), set()).add(deadline.subject_id)
    cases: dict[tuple[str, int], tuple[int, int | None]] = {}
    for subject_type, ids in wanted.items():
        model = _SUBJECTS[subject_type]
        for record_id, agency_id, assignee_id in session.execute(
                select(model.id, Complaint.agency_id, Complaint.assignee_id)
                .join(Complaint, Complaint.id == model.complaint_id).where(model.id.in_(ids))):
            cases[(subject_type.value, record_id)] = (agency_id, assignee_id)
    people = reachable(session, {agency for agency, _ in cases.values()}, set(),
                       people={assignee for _, assignee in cases.values() if assignee})
    resolved = []
    for deadline, rung in items:
        case = cases.get((SubjectType(deadline.subject_type).value, deadline.subject_id))
        found: list[int] = []
        if case is not None:
            agency_id, assignee = case
            assignee = assignee if assignee in people.active else None
            supervisors = people.of(agency_id, Role.SUPERVISOR)
            for group in rung.to:
                if group == "supervisors":
                    found += supervisors
                elif group == "agency_admins":
                    found += people.of(agency_id, Role.AGENCY_ADMIN)
                elif group == "assignee" and assignee is not None:
                    found.append(assignee)
                elif group == "assignee_or_supervisors":
                    found += [assignee] if assignee is not None else supervisors
        resolved.append(list(dict.fromkeys(found)))
    return resolved
