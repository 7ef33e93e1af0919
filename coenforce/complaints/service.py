"""The rules of retaliation complaints: intake, the response clock, actions,
assignment, sharing, damages and closing. Views and the API only call these.

Each function validates everything first and raises ValidationError before
writing; the caller commits.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from coenforce import clock, escalation, notify
from coenforce.complaints.models import (
    Complaint, ComplaintRetaliation, ComplaintShare, DamageItem, ResponseAction,
)
from coenforce.complaints.types import ACTION_TYPES, ATTORNEY_LIST_LANGUAGES, RETALIATION_TYPES
from coenforce.escalation.ladder import Rung
from coenforce.escalation.models import Deadline
from coenforce.partners.models import Organization, Partnership, User
from coenforce.security import policy
from coenforce.validation import Conflict, Fields, NotAllowed, ValidationError

CLOCK_KIND = "complaint_response"
SUBJECT = "complaint"


# ---------------------------------------------------------------- reading

def get_complaint(session: Session, user: User, complaint_id: int) -> Complaint | None:
    """The complaint if `user` may see it, else None (shown as 404)."""
    return session.scalar(select(Complaint).where(Complaint.id == complaint_id, policy.complaint_scope(user)))


def clock_of(session: Session, complaint: Complaint) -> Deadline:
    return escalation.service.deadline_for(session, SUBJECT, complaint.id, CLOCK_KIND)


def clock_summary(deadline: Deadline, now: datetime | None = None) -> dict:
    """The clock as the API and the pages show it."""
    now = now or clock.now()
    end = deadline.stopped_at or now
    return {
        "started_at": deadline.starts_at,
        "due_at": deadline.due_at,
        "stopped_at": deadline.stopped_at,
        "state": deadline.state(now),
        "target_hours": round((deadline.due_at - deadline.starts_at) / timedelta(hours=1), 2),
        "remaining_seconds": int((deadline.due_at - now).total_seconds()) if deadline.stopped_at is None else None,
        "elapsed_seconds": int((end - deadline.starts_at).total_seconds()),
    }


def _state_condition(state: str, now: datetime):
    if state == "running":
        return and_(Deadline.stopped_at.is_(None), Deadline.due_at > now)
    if state == "met":
        return and_(Deadline.stopped_at.is_not(None), Deadline.stopped_at <= Deadline.due_at)
    return or_(and_(Deadline.stopped_at.is_(None), Deadline.due_at <= now), Deadline.stopped_at > Deadline.due_at)


def list_complaints(session: Session, user: User, *, state: str | None = None, assignee_id: int | None = None,
                    unassigned: bool = False, employer: str | None = None, status: str | None = None,
                    limit: int = 200, offset: int = 0) -> list[tuple[Complaint, Deadline]]:
    """Complaints `user` may see, with their clocks, most urgent first."""
    now = clock.now()
    query = (
        select(Complaint, Deadline)
        .join(Deadline, and_(Deadline.subject_type == SUBJECT, Deadline.subject_id == Complaint.id,
                             Deadline.kind == CLOCK_KIND))
        .where(policy.complaint_scope(user))
    )
    if state:
        query = query.where(_state_condition(state, now))
    if assignee_id is not None:
        query = query.where(Complaint.assignee_id == assignee_id)
    if unassigned:
        query = query.where(Complaint.assignee_id.is_(None))
    if employer:
        pattern = "%" + employer.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(func.lower(Complaint.employer_name).like(pattern, escape="\\"))
    if status:
        query = query.where(Complaint.status == status)
    # Running clocks first, nearest due first; then the rest, newest first.
    query = query.order_by(Deadline.stopped_at.is_not(None), Deadline.due_at, Complaint.id.desc())
    return list(session.execute(query.limit(limit).offset(offset)).tuples())


def partner_choices(session: Session, agency_id: int) -> list[Organization]:
    """Partners the agency may share a complaint with."""
    return list(session.scalars(
        select(Organization).join(Partnership, Partnership.partner_id == Organization.id)
        .where(Partnership.agency_id == agency_id).order_by(Organization.name)))


def agency_choices(session: Session, user: User) -> list[Organization]:
    """Agencies `user` may file a complaint with."""
    if user.is_agency_staff:
        return [user.organization]
    return list(session.scalars(
        select(Organization).join(Partnership, Partnership.agency_id == Organization.id)
        .where(Partnership.partner_id == user.organization_id).order_by(Organization.name)))


def assignable_staff(session: Session, agency_id: int) -> list[User]:
    return list(session.scalars(select(User).where(
        User.organization_id == agency_id, User.active.is_(True),
        User.role.in_(("investigator", "supervisor", "agency_admin"))).order_by(User.name)))


# ---------------------------------------------------------------- intake

def open_complaint(session: Session, user: User, data: dict) -> Complaint:
    """Take a retaliation complaint and start its response clock."""
    if not policy.allowed(user, "complaint.create"):
        raise NotAllowed()
    f = Fields()
    agencies = {a.id: a for a in agency_choices(session, user)}
    agency = _choose_agency(f, data, agencies)
    employer_name = f.text(data, "employer_name", required=True, max_length=200)
    types = f.choices(data, "retaliation_types", RETALIATION_TYPES, required=True)
    description = f.text(data, "description", required=True, max_length=10_000, multiline=True)
    labor_dispute = f.text(data, "labor_dispute", max_length=5_000, multiline=True)
    worksite_address = f.text(data, "worksite_address", max_length=300)
    language = f.choice(data, "language", ATTORNEY_LIST_LANGUAGES, default="en")
    workers = f.integer(data, "workers_affected", minimum=1, maximum=100_000)
    received_at = f.time(data, "received_at", default=clock.now())
    shared_with = _partner_ids(f, data, session, agency)
    f.raise_if_any()

    now = clock.now()
    if user.role == "liaison" and user.organization_id not in shared_with:
        shared_with.append(user.organization_id)  # the filing partner always follows its case
    complaint = Complaint(
        agency_id=agency.id, filed_by_org_id=user.organization_id, filed_by_user_id=user.id,
        employer_name=employer_name, worksite_address=worksite_address, description=description,
        labor_dispute=labor_dispute, language=language, workers_affected=workers or 1,
        received_at=received_at, status="open", created_at=now,
        retaliation=[ComplaintRetaliation(type=t) for t in types],
        shares=[ComplaintShare(partner_id=p, shared_at=now) for p in shared_with],
    )
    session.add(complaint)
    session.flush()
    escalation.open_deadline(
        session, kind=CLOCK_KIND, subject_type=SUBJECT, subject_id=complaint.id, organization_id=agency.id,
        reference=complaint.reference, path=f"/complaints/{complaint.id}", starts_at=received_at,
        due_at=received_at + timedelta(hours=agency.response_target_hours),
    )
    return complaint


def _choose_agency(f: Fields, data: dict, agencies: dict[int, Organization]) -> Organization | None:
    if len(agencies) == 1 and data.get("agency_id") in (None, ""):
        return next(iter(agencies.values()))
    agency_id = f.integer(data, "agency_id", required=True, minimum=1, maximum=2**31 - 1)
    if agency_id is not None and agency_id not in agencies:
        f.fail("agency_id", _l("Choose an agency your organization works with."))
        return None
    return agencies.get(agency_id)


def _partner_ids(f: Fields, data: dict, session: Session, agency: Organization | None) -> list[int]:
    raw = data.get("shared_with")
    if raw in (None, "", []):
        return []
    if not isinstance(raw, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in raw):
        f.fail("shared_with", _l("Must be a list of organization ids."))
        return []
    if agency is None:
        return []
    allowed = {p.id for p in partner_choices(session, agency.id)}
    if any(v not in allowed for v in raw):
        f.fail("shared_with", _l("Only partners of this agency can follow its complaints."))
        return []
    return list(dict.fromkeys(raw))


# ---------------------------------------------------------------- actions

def qualifying_actions() -> set[str]:
    return set(current_app.config["QUALIFYING_ACTIONS"])


def record_action(session: Session, user: User, complaint: Complaint, data: dict) -> ResponseAction:
    """Record a response action; the first qualifying one stops the clock."""
    if not policy.allowed(user, "complaint.act"):
        raise NotAllowed()
    if complaint.status == "closed":
        raise Conflict(_l("This complaint is closed."))
    f = Fields()
    action_type = f.choice(data, "type", ACTION_TYPES, required=True)
    taken_at = f.time(data, "taken_at", default=clock.now())
    note = f.text(data, "note", max_length=5_000, multiline=True)
    language = None
    if action_type == "attorney_list_provided":
        language = f.choice(data, "language", ATTORNEY_LIST_LANGUAGES, default=complaint.language)
    if taken_at is not None and taken_at < complaint.received_at:
        f.fail("taken_at", _l("Cannot be before the complaint was received."))
    f.raise_if_any()

    qualifying = action_type in qualifying_actions()
    action = ResponseAction(
        complaint_id=complaint.id, type=action_type, qualifying=qualifying, taken_at=taken_at, note=note,
        language=language, recorded_by_id=user.id, recorded_at=clock.now(),
    )
    session.add(action)
    if action_type == "attorney_list_provided" and (
            complaint.attorney_list_provided_at is None or taken_at < complaint.attorney_list_provided_at):
        complaint.attorney_list_provided_at = taken_at
        complaint.attorney_list_language = language
    if qualifying:
        escalation.stop_deadline(session, clock_of(session, complaint), taken_at)
        if complaint.status == "open":
            complaint.status = "responding"
    session.flush()
    return action


def assign(session: Session, user: User, complaint: Complaint, assignee_id: int | None) -> None:
    """Give the complaint to an investigator (or take it back with None)."""
    taking = assignee_id == user.id
    if not (policy.allowed(user, "complaint.assign") or (taking and policy.allowed(user, "complaint.take"))):
        raise NotAllowed()
    if complaint.status == "closed":
        raise Conflict(_l("This complaint is closed."))
    if assignee_id is not None:
        staff = {u.id for u in assignable_staff(session, complaint.agency_id)}
        if assignee_id not in staff:
            raise ValidationError({"assignee_id": _l("Choose an active member of this agency.")})
    complaint.assignee_id = assignee_id
    session.flush()


def share(session: Session, user: User, complaint: Complaint, partner_ids: list[int]) -> None:
    """Set which partner organizations follow the complaint (the filer always does)."""
    if not policy.allowed(user, "complaint.share"):
        raise NotAllowed()
    f = Fields()
    ids = _partner_ids(f, {"shared_with": partner_ids}, session, complaint.agency)
    f.raise_if_any()
    keep = set(ids)
    if complaint.filed_by_org_id != complaint.agency_id:
        keep.add(complaint.filed_by_org_id)
    now = clock.now()
    complaint.shares = [s for s in complaint.shares if s.partner_id in keep] + [
        ComplaintShare(partner_id=p, shared_at=now) for p in sorted(keep - set(complaint.shared_with))]
    session.flush()


def close(session: Session, user: User, complaint: Complaint, note: str | None) -> None:
    """Close the complaint; a running clock stops as breached or met where it stands."""
    if not policy.may_close(user, complaint):
        raise NotAllowed()
    if complaint.status == "closed":
        raise Conflict(_l("This complaint is closed."))
    f = Fields()
    closing_note = f.text({"note": note}, "note", required=True, max_length=5_000, multiline=True)
    f.raise_if_any()
    now = clock.now()
    complaint.status = "closed"
    complaint.closed_at = now
    complaint.closing_note = closing_note
    # A clock still running ends at the closing: met if the case was closed
    # inside the target, breached after it; either way escalation stops.
    escalation.stop_deadline(session, clock_of(session, complaint), now)
    session.flush()


# ---------------------------------------------------------------- damages

def _cents(f: Fields, data: dict, field: str) -> int:
    value = data.get(field)
    if value in (None, ""):
        return 0
    try:
        amount = Decimal(str(value).replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        f.fail(field, _l("Must be an amount such as 1250.00."))
        return 0
    if not amount.is_finite() or amount < 0 or amount > Decimal("1000000000"):
        f.fail(field, _l("Must be an amount between 0 and 1,000,000,000."))
        return 0
    if amount != amount.quantize(Decimal("0.01")):
        f.fail(field, _l("At most two decimal places."))
        return 0
    return int(amount * 100)


def add_damages(session: Session, user: User, complaint: Complaint, data: dict) -> DamageItem:
    """Record damages for one violation basis."""
    if not policy.allowed(user, "complaint.damages"):
        raise NotAllowed()
    f = Fields()
    item = DamageItem(
        complaint_id=complaint.id,
        basis=f.text(data, "basis", required=True, max_length=200),
        workers=f.integer(data, "workers", minimum=1, maximum=100_000) or 1,
        violations=f.integer(data, "violations", minimum=1, maximum=100_000) or 1,
        claimed_cents=_cents(f, data, "claimed"),
        statutory_max_cents=_cents(f, data, "statutory_max"),
        assessed_cents=_cents(f, data, "assessed"),
        recovered_cents=_cents(f, data, "recovered"),
        recorded_by_id=user.id, recorded_at=clock.now(),
    )
    f.raise_if_any()
    session.add(item)
    session.flush()
    return item


def damages_totals(complaint: Complaint) -> dict[str, int]:
    totals = {k: sum(getattr(d, f"{k}_cents") for d in complaint.damages)
              for k in ("claimed", "statutory_max", "assessed", "recovered")}
    # The gap between what the law allows and what was assessed: the
    # checklist asks for damages "to the fullest extent".
    totals["unassessed"] = max(0, totals["statutory_max"] - totals["assessed"])
    return totals


# ---------------------------------------------------------------- escalation

def _recipients(session: Session, items: list[tuple[Deadline, Rung]]) -> list[list[User]]:
    """Resolve the recipient groups of many complaint-clock rungs with three queries in all."""
    ids = {deadline.subject_id for deadline, _rung in items}
    cases = {row.id: row for row in session.execute(
        select(Complaint.id, Complaint.agency_id, Complaint.assignee_id).where(Complaint.id.in_(ids)))}
    shares: dict[int, list[int]] = defaultdict(list)
    for row in session.execute(select(ComplaintShare.complaint_id, ComplaintShare.partner_id)
                               .where(ComplaintShare.complaint_id.in_(ids))):
        shares[row.complaint_id].append(row.partner_id)
    agencies = {case.agency_id for case in cases.values()}
    partners = {p for partner_ids in shares.values() for p in partner_ids}
    assignees = {case.assignee_id for case in cases.values() if case.assignee_id}
    users = session.scalars(select(User).where(User.active.is_(True), or_(
        and_(User.organization_id.in_(agencies), User.role.in_(("supervisor", "agency_admin"))),
        and_(User.organization_id.in_(partners), User.role == "liaison"),
        User.id.in_(assignees)))).all()
    by_id = {user.id: user for user in users}
    by_role: dict[tuple[int, str], list[User]] = defaultdict(list)
    for user in users:
        by_role[(user.organization_id, user.role)].append(user)

    resolved = []
    for deadline, rung in items:
        case = cases.get(deadline.subject_id)
        if case is None or (rung.only_if == "unassigned" and case.assignee_id is not None):
            resolved.append([])
            continue
        assignee = by_id.get(case.assignee_id)
        supervisors = by_role[(case.agency_id, "supervisor")]
        people: list[User] = []
        for group in rung.to:
            if group == "supervisors":
                people += supervisors
            elif group == "agency_admins":
                people += by_role[(case.agency_id, "agency_admin")]
            elif group == "assignee" and assignee is not None:
                people.append(assignee)
            elif group == "assignee_or_supervisors":
                people += [assignee] if assignee is not None else supervisors
            elif group == "partner_liaisons":
                for partner_id in sorted(shares[case.id]):
                    people += by_role[(partner_id, "liaison")]
        resolved.append(people)
    return resolved


escalation.register_kind(escalation.DeadlineKind(
    name=CLOCK_KIND, recipients=_recipients,
    groups=frozenset({"supervisors", "agency_admins", "assignee", "assignee_or_supervisors", "partner_liaisons"}),
    conditions=frozenset({"unassigned"}),
))

_RUNG_WORDING = {
    "intake": (_l("New retaliation complaint"),
               _l("A retaliation complaint was received. The response clock has started.")),
    "unassigned": (_l("Retaliation complaint still unassigned"),
                   _l("Nobody has been assigned to this retaliation complaint yet.")),
    "reminder": (_l("Reminder: retaliation complaint awaits a response"),
                 _l("No qualifying response has been recorded yet.")),
    "warning": (_l("Warning: response target nearly reached"),
                _l("The response target is close and no qualifying response has been recorded.")),
    "breach": (_l("Response target missed"),
               _l("The response target passed without a qualifying response.")),
    "overdue": (_l("Retaliation complaint still overdue"),
                _l("This retaliation complaint is still waiting for a qualifying response.")),
}
for _rung, (_title, _lead) in _RUNG_WORDING.items():
    notify.register_message(f"{CLOCK_KIND}.{_rung}", _title, _lead)
