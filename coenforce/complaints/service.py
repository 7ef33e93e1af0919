"""The rules of retaliation complaints: intake, the response clock, actions,
assignment, sharing, damages and closing. Views and the API only call these.

Each function receives input already parsed by `schemas.py`, checks what
needs the database, and raises before writing; the caller commits.
"""
from __future__ import annotations

import functools
from collections import defaultdict
from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from flask_babel import lazy_gettext as _l
from pydantic import TypeAdapter
from sqlalchemy import Select, String, and_, bindparam, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import ColumnElement

from coenforce import audit, clock, escalation
from coenforce.complaints.models import (
    RESPONSE_CLOCK, Complaint, ComplaintRetaliation, ComplaintShare, DamageItem, ResponseAction, ShareEvent,
    reference_of,
)
from coenforce.complaints.schemas import (
    ActionIn, AssignIn, CloseIn, ComplaintFilter, ComplaintIn, ComplaintListQuery, ComplaintSummaryOut, DamagesIn,
    ShareIn,
)
from coenforce.complaints.types import ActionType, ComplaintStatus, RetaliationType
from coenforce.db import as_dicts, insert_loaded, paged
from coenforce.employers import employer_key
from coenforce.enums import SubjectType
from coenforce.escalation import ClockState, Deadline, DueDeadline, clock_reading
from coenforce.escalation.ladder import Rung
from coenforce.partners.models import AGENCY_ROLES, Organization, Partnership, PartnershipStatus, Role, User
from coenforce.partners.service import agencies_working_with, agency_chosen, reachable
from coenforce.schemas import Page
from coenforce.security import policy
from coenforce.thirdparty import queue as strategic_queue
from coenforce.validation import Conflict, NotAllowed, NotFound, ValidationError


# ---------------------------------------------------------------- reading

def get_complaint(session: Session, user: User, complaint_id: int) -> Complaint:
    """The complaint if `user` may see it; NotFound (404) otherwise."""
    complaint = session.scalar(select(Complaint).where(Complaint.id == complaint_id, policy.complaint_scope(user)))
    if complaint is None:
        raise NotFound()
    return complaint


def view_complaint(session: Session, user: User, complaint_id: int) -> Complaint:
    """Open a complaint to read it: scoped, then recorded in the audit log."""
    complaint = get_complaint(session, user, complaint_id)
    audit.record(session, user, "complaint.view", SubjectType.COMPLAINT, complaint.id,
                 owner_organization_id=complaint.agency_id)
    return complaint


# ---------------------------------------------------------------- lists
#
# A list is one statement: the page's rows with their retaliation types and
# partner ids (each joined into one text), whether they have any action, and
# the number that match in all; plus one statement for the actions of the rows
# that have some. Each shape of list (the caller's scope, the filters given,
# the order) is built once and run with its values as parameters, so a request
# neither builds nor analyses SQL again.

def _condition(name: str):
    """The condition of one filter, on complaints joined to their clocks."""
    if name == "state":
        return Deadline.state_at(bindparam("now", required=True)) == bindparam("state", required=True)
    if name == "assignee_id":
        return Complaint.assignee_id == bindparam("assignee_id", required=True)
    if name == "unassigned":
        return Complaint.assignee_id.is_(None)
    if name == "employer":
        return func.lower(Complaint.employer_name).like(bindparam("employer", required=True), escape="\\")
    if name == "status":
        return Complaint.status == bindparam("status", required=True)
    if name == "after":  # the API's cursor: past the last item's (due time, id)
        due_at, last_id = bindparam("after_due", required=True), bindparam("after_id", required=True)
        return or_(Deadline.due_at > due_at, and_(Deadline.due_at == due_at, Deadline.subject_id > last_id))
    raise KeyError(name)


def _filters(user: User, where: ComplaintFilter, unassigned: bool = False) -> tuple[ColumnElement, tuple, dict]:
    """The caller's scope, the names of the filters `where` uses and the values of all."""
    scope, params = policy.complaint_scope_template(user)
    names = []
    if where.state:
        names.append("state")
        params.update(now=clock.now(), state=where.state.value)
    if where.assignee_id is not None:
        names.append("assignee_id")
        params["assignee_id"] = where.assignee_id
    if unassigned:
        names.append("unassigned")
    if where.employer:
        names.append("employer")
        params["employer"] = "%" + where.employer.lower().replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_") + "%"
    if where.status:
        names.append("status")
        params["status"] = where.status
    return scope, tuple(names), params


_TYPES = (select(func.aggregate_strings(ComplaintRetaliation.type, ","))
          .where(ComplaintRetaliation.complaint_id == Complaint.id).scalar_subquery())
_SHARES = (select(func.aggregate_strings(cast(ComplaintShare.partner_id, String), ","))
           .where(ComplaintShare.complaint_id == Complaint.id).scalar_subquery())
_SUMMARY = (Complaint.id, Complaint.agency_id, Complaint.filed_by_org_id, Complaint.employer_name,
            Complaint.description, Complaint.labor_dispute, Complaint.worksite_address, Complaint.language,
            Complaint.workers_affected, Complaint.received_at, Complaint.status, Complaint.assignee_id,
            Complaint.attorney_list_provided_at, Complaint.attorney_list_language, Complaint.closed_at,
            Deadline.starts_at, Deadline.due_at, Deadline.stopped_at, User.name.label("assignee_name"),
            _TYPES.label("types"), _SHARES.label("shares"),
            select(ResponseAction.id).where(ResponseAction.complaint_id == Complaint.id).exists().label("acted"))
# Pages list running clocks first (nearest due first), then the rest, newest
# first; the API keys its pages on (due time, id), which never change. The API's
# id is the clock's subject_id (the same number): the index on clocks in due
# order ends with it, so the database walks the index without sorting.
_ORDERS = {"pages": (Deadline.stopped_at.is_not(None), Deadline.due_at, Complaint.id.desc()),
           "api": (Deadline.due_at, Deadline.subject_id)}
_ACTION = (ResponseAction.complaint_id, ResponseAction.id, ResponseAction.type, ResponseAction.qualifying,
           ResponseAction.taken_at, ResponseAction.note, ResponseAction.language,
           ResponseAction.recorded_by_id.label("recorded_by"), ResponseAction.recorded_at)
_ACTIONS_OF = (select(*_ACTION).where(ResponseAction.complaint_id.in_(bindparam("ids", expanding=True)))
               .order_by(ResponseAction.taken_at, ResponseAction.id))
_summaries = TypeAdapter(list[ComplaintSummaryOut])


@functools.lru_cache(maxsize=256)
def _count_statement(scope: ColumnElement, names: tuple) -> Select:
    # Every complaint has its response clock from intake on (both are written in
    # one transaction), so the count joins the clocks only to filter on them.
    count = select(func.count()).select_from(Complaint)
    if "state" in names:
        count = count.join(Complaint.deadline)
    return count.where(scope, *(_condition(name) for name in names))


@functools.lru_cache(maxsize=256)
def _page_statement(scope: ColumnElement, names: tuple, order: str, after: bool) -> Select:
    """One shape of list. The page is chosen first, so the per-row columns are
    computed for its rows only; the total (of the rows matching before the
    cursor) is computed once, as it refers to no outer row."""
    conditions = [scope, *(_condition(name) for name in names + (("after",) if after else ()))]
    page = paged(select(Complaint.id).select_from(Complaint).join(Complaint.deadline).where(*conditions)
                 .order_by(*_ORDERS[order])).subquery("page")
    total = _count_statement(scope, names).correlate(None).scalar_subquery().label("total")
    return (select(*_SUMMARY, total).select_from(Complaint).join(page, page.c.id == Complaint.id)
            .join(Complaint.deadline).outerjoin(User, User.id == Complaint.assignee_id).order_by(*_ORDERS[order]))


def _page_rows(session: Session, filters: tuple, order: str, limit: int, offset: int = 0,
               after: tuple | None = None) -> tuple[list, int]:
    """The rows of one page and how many match in all."""
    scope, names, params = filters
    if after is not None:
        params = {**params, "after_due": after[0], "after_id": after[1]}
    connection = session.connection()
    rows = as_dicts(connection.execute(_page_statement(scope, names, order, after is not None),
                                       {**params, "limit": limit, "offset": offset}))
    if rows:
        return rows, rows[0]["total"]
    # An empty page past the first still says how many there are.
    beyond_start = offset > 0 or after is not None
    return rows, connection.scalar(_count_statement(scope, names), params) if beyond_start else 0


def _types(joined: str | None) -> list[RetaliationType]:
    """The retaliation types a list row carries as one text, in order."""
    return sorted(_RETALIATION_TYPE[value] for value in joined.split(",")) if joined else []


_RETALIATION_TYPE = {member.value: member for member in RetaliationType}


def _partner_ids(joined: str | None) -> list[int]:
    """The partner ids a list row or recipients row carries as one text, in order."""
    return sorted(int(partner) for partner in joined.split(",")) if joined else []


def _summary_rows(session: Session, rows: list[dict]) -> list[dict]:
    """List rows as dicts shaped like ComplaintSummaryOut (see schemas.row_serializer);
    one more query for the actions of all rows together."""
    actions = defaultdict(list)
    acted = [row["id"] for row in rows if row["acted"]]
    if acted:
        for action in as_dicts(session.connection().execute(_ACTIONS_OF, {"ids": acted})):
            actions[action["complaint_id"]].append(action)
    now = clock.now()
    for row in rows:  # each row becomes its item: the columns as they are, and what is made of them
        row.update(
            reference=reference_of(row["id"]), retaliation_types=_types(row["types"]),
            shared_with=_partner_ids(row["shares"]), actions=actions.get(row["id"], []),
            attorney_list={"provided_at": row["attorney_list_provided_at"], "language": row["attorney_list_language"]},
            clock=clock_reading(row["starts_at"], row["due_at"], row["stopped_at"], now))
    return rows


def list_complaints(session: Session, user: User, where: ComplaintFilter | None = None, *,
                    unassigned: bool = False, limit: int = 50, offset: int = 0) -> Page:
    """A page of the complaints `user` may see, running clocks first (nearest due
    first), then the rest, newest first; with the number that match in all."""
    rows, total = _page_rows(session, _filters(user, where or ComplaintFilter(), unassigned), "pages", limit, offset)
    return Page(_summaries.validate_python(_summary_rows(session, rows)), total, None)


def page_of_complaints(session: Session, user: User, query: ComplaintListQuery) -> Page:
    """The API's pages: due order (nearest first), keyed on (due time, id), so
    following the pages gives every complaint exactly once."""
    rows, total = _page_rows(session, _filters(user, query), "api", query.limit + 1, after=query.after)
    more = len(rows) > query.limit
    rows = rows[:query.limit]
    return Page(_summary_rows(session, rows), total, (rows[-1]["due_at"], rows[-1]["id"]) if more else None,
                shaped=True)


def clock_counts(session: Session, scope) -> dict[str, int]:
    """How many complaint clocks in `scope` are running, met and breached."""
    state = Deadline.state_at(clock.now())
    running, met, total = session.execute(
        select(func.count().filter(state == ClockState.RUNNING), func.count().filter(state == ClockState.MET),
               func.count())
        .select_from(Complaint).join(Complaint.deadline).where(scope)).one()
    return {"running": running, "met": met, "breached": total - running - met, "total": total}


def partner_choices(session: Session, agency_id: int) -> list[Organization]:
    """Partners the agency may share a complaint with: those of active partnerships."""
    return list(session.scalars(
        select(Organization).join(Partnership, Partnership.partner_id == Organization.id)
        .where(Partnership.agency_id == agency_id, Partnership.status == PartnershipStatus.ACTIVE)
        .order_by(Organization.name)))


def partnerships_of(session: Session, complaint: Complaint) -> list[Partnership]:
    """The partnerships a complaint is shared through, with their points of contact."""
    if not complaint.shared_with:
        return []
    return list(session.scalars(select(Partnership).where(
        Partnership.agency_id == complaint.agency_id, Partnership.partner_id.in_(complaint.shared_with))))


def agency_choices(session: Session, user: User) -> list[Organization]:
    """Agencies `user` may file a complaint with (a partner: those of its active partnerships)."""
    return agencies_working_with(session, user)


def assignable_staff(session: Session, agency_id: int) -> list[User]:
    return list(session.scalars(select(User).where(
        User.organization_id == agency_id, User.active.is_(True),
        User.role.in_(AGENCY_ROLES)).order_by(User.name)))


def workload(session: Session, user: User) -> dict[str, int]:
    """Agency staff's open complaints: assigned to them, and nobody's."""
    open_ = Complaint.status != ComplaintStatus.CLOSED
    return {
        "mine": session.scalar(select(func.count()).select_from(Complaint).where(
            policy.complaint_scope(user), Complaint.assignee_id == user.id, open_)),
        "unassigned": session.scalar(select(func.count()).select_from(Complaint).where(
            policy.complaint_scope(user), Complaint.assignee_id.is_(None), open_)),
    }


# ---------------------------------------------------------------- intake

def open_complaint(session: Session, user: User, data: ComplaintIn) -> Complaint:
    """Take a retaliation complaint and start its response clock."""
    if not policy.allowed(user, "complaint.create"):
        raise NotAllowed()
    agency = agency_chosen(agency_choices(session, user), data.agency_id)
    shared_with = _partners_of(session, agency, data.shared_with)
    if user.role == Role.LIAISON and user.organization_id not in shared_with:
        shared_with.append(user.organization_id)  # the filing partner always follows its case

    now = clock.now()
    received_at = data.received_at or now
    [complaint] = insert_loaded(session, Complaint, [dict(
        agency_id=agency.id, filed_by_org_id=user.organization_id, filed_by_user_id=user.id,
        employer_name=data.employer_name, employer_key=employer_key(data.employer_name),
        worksite_address=data.worksite_address, description=data.description,
        labor_dispute=data.labor_dispute, language=data.language, workers_affected=data.workers_affected,
        received_at=received_at, status=ComplaintStatus.OPEN, created_at=now,
    )])
    retaliation = insert_loaded(session, ComplaintRetaliation, [
        dict(complaint_id=complaint.id, type=t) for t in sorted(data.retaliation_types)], at_commit=True)
    shares = insert_loaded(session, ComplaintShare, [
        dict(complaint_id=complaint.id, partner_id=p, shared_at=now) for p in shared_with])
    share_events = insert_loaded(session, ShareEvent, [
        dict(complaint_id=complaint.id, partner_id=p, shared=True, by_user_id=user.id, at=now) for p in shared_with])
    # Everything a new complaint has is known here (it has no actions or damages
    # yet): say so, rather than have the response query for it.
    for name, value in (("retaliation", retaliation), ("shares", shares), ("share_events", share_events),
                        ("actions", []), ("damage_items", [])):
        set_committed_value(complaint, name, value)
    deadline = escalation.open_deadline(
        session, kind=RESPONSE_CLOCK, subject_type=SubjectType.COMPLAINT, subject_id=complaint.id,
        organization_id=agency.id, reference=complaint.reference, path=f"/complaints/{complaint.id}",
        starts_at=received_at, due_at=received_at + timedelta(hours=agency.response_target_hours),
    )
    set_committed_value(complaint, "deadline", deadline)
    # A retaliation complaint is evidence against its employer in the strategic queue.
    strategic_queue.note_complaint(session, agency.id, complaint.employer_key, complaint.employer_name,
                                   complaint.workers_affected, received_at)
    return complaint


def _partners_of(session: Session, agency: Organization, partner_ids: list[int]) -> list[int]:
    """The given partner ids, refused unless each is a partner of the agency."""
    if not partner_ids:
        return []
    allowed = {p.id for p in partner_choices(session, agency.id)}
    if any(p not in allowed for p in partner_ids):
        raise ValidationError({"shared_with": _l("Only partners of this agency can follow its complaints.")})
    return list(partner_ids)


# ---------------------------------------------------------------- actions

def qualifying_actions() -> set[ActionType]:
    """The actions that stop the response clock (QUALIFYING_ACTIONS)."""
    return {ActionType(a) for a in current_app.config["QUALIFYING_ACTIONS"]}


def _open(complaint: Complaint) -> None:
    if complaint.is_closed:
        raise Conflict(_l("This complaint is closed."))


def record_action(session: Session, user: User, complaint: Complaint, data: ActionIn) -> ResponseAction:
    """Record a response action; the first qualifying one stops the clock."""
    if not policy.allowed(user, "complaint.act"):
        raise NotAllowed()
    _open(complaint)
    taken_at = data.taken_at or clock.now()
    if taken_at < complaint.received_at:
        raise ValidationError({"taken_at": _l("Cannot be before the complaint was received.")})
    language = None
    if data.type == ActionType.ATTORNEY_LIST_PROVIDED:
        language = data.language or complaint.language

    qualifying = data.type in qualifying_actions()
    action = ResponseAction(
        complaint_id=complaint.id, type=data.type, qualifying=qualifying, taken_at=taken_at, note=data.note,
        language=language, recorded_by_id=user.id, recorded_at=clock.now(),
    )
    session.add(action)
    if language is not None and (
            complaint.attorney_list_provided_at is None or taken_at < complaint.attorney_list_provided_at):
        complaint.attorney_list_provided_at = taken_at
        complaint.attorney_list_language = language
    if qualifying:
        escalation.stop_deadline(session, complaint.deadline, taken_at)
        if complaint.status == ComplaintStatus.OPEN:
            complaint.status = ComplaintStatus.RESPONDING
    session.flush()
    return action


def assign(session: Session, user: User, complaint: Complaint, data: AssignIn) -> None:
    """Give the complaint to a member of its agency (or to nobody with None)."""
    taking = data.assignee_id == user.id
    if not (policy.allowed(user, "complaint.assign") or (taking and policy.allowed(user, "complaint.take"))):
        raise NotAllowed()
    _open(complaint)
    if data.assignee_id is not None:
        staff = {u.id for u in assignable_staff(session, complaint.agency_id)}
        if data.assignee_id not in staff:
            raise ValidationError({"assignee_id": _l("Choose an active member of this agency.")})
    complaint.assignee_id = data.assignee_id
    session.flush()


def share(session: Session, user: User, complaint: Complaint, data: ShareIn) -> None:
    """Set which partner organizations follow the complaint, recording who shared
    or revoked and when. The filer always follows; a new partner must be one of
    an active partnership, while sharing with a paused or ended one may be kept."""
    if not policy.allowed(user, "complaint.share"):
        raise NotAllowed()
    current = set(complaint.shared_with)
    keep = set(data.shared_with)
    _partners_of(session, complaint.agency, sorted(keep - current))
    if complaint.filed_by_org_id != complaint.agency_id:
        keep.add(complaint.filed_by_org_id)
    now = clock.now()
    complaint.shares = [s for s in complaint.shares if s.partner_id in keep] + [
        ComplaintShare(partner_id=p, shared_at=now) for p in sorted(keep - current)]
    complaint.share_events += [ShareEvent(partner_id=p, shared=p in keep, by_user_id=user.id, at=now)
                               for p in sorted(keep ^ current)]
    session.flush()


def close(session: Session, user: User, complaint: Complaint, data: CloseIn) -> None:
    """Close the complaint; a running clock stops as breached or met where it stands."""
    if not policy.may_close(user, complaint):
        raise NotAllowed()
    _open(complaint)
    now = clock.now()
    complaint.status = ComplaintStatus.CLOSED
    complaint.closed_at = now
    complaint.closing_note = data.note
    # A clock still running ends at the closing: met if the case was closed
    # inside the target, breached after it; either way escalation stops.
    escalation.stop_deadline(session, complaint.deadline, now)
    session.flush()


# ---------------------------------------------------------------- damages

def add_damages(session: Session, user: User, complaint: Complaint, data: DamagesIn) -> DamageItem:
    """Record damages for one violation basis."""
    if not policy.allowed(user, "complaint.damages"):
        raise NotAllowed()
    item = DamageItem(
        complaint_id=complaint.id, basis=data.basis, workers=data.workers, violations=data.violations,
        claimed_cents=data.claimed, statutory_max_cents=data.statutory_max, assessed_cents=data.assessed,
        recovered_cents=data.recovered, recorded_by_id=user.id, recorded_at=clock.now(),
    )
    session.add(item)
    session.flush()
    return item


# ---------------------------------------------------------------- escalation

RECIPIENT_GROUPS = frozenset({"supervisors", "agency_admins", "assignee", "assignee_or_supervisors",
                              "partner_liaisons", "partnership_contacts"})


class _Case(NamedTuple):
    """What a complaint's notices need of it (a tuple: an outage tick reads thousands)."""

    agency_id: int
    assignee_id: int | None
    shares: list[int]  # partner ids, in order


# Built once: every complaint-clock notice's recipients are found with it (the
# partners a case is shared with come in its row, as in lists).
_CASES = select(Complaint.id, Complaint.agency_id, Complaint.assignee_id, _SHARES.label("shares")).where(
    Complaint.id.in_(bindparam("ids", expanding=True)))


def recipients(session: Session, items: list[tuple[DueDeadline, Rung]]) -> list[list[int]]:
    """The user ids each complaint-clock rung tells, for many rungs with four queries in all."""
    ids = {deadline.subject_id for deadline, _rung in items}
    cases = {complaint_id: _Case(agency_id, assignee_id, _partner_ids(shares))
             for complaint_id, agency_id, assignee_id, shares in session.execute(_CASES, {"ids": list(ids)})}
    people = reachable(session, {case.agency_id for case in cases.values()},
                       {p for case in cases.values() for p in case.shares}, liaisons=True,
                       people={case.assignee_id for case in cases.values() if case.assignee_id})

    resolved = []
    for deadline, rung in items:
        case = cases.get(deadline.subject_id)
        if case is None or (rung.only_if == "unassigned" and case.assignee_id is not None):
            resolved.append([])
            continue
        assignee = case.assignee_id if case.assignee_id in people.active else None
        supervisors = people.of(case.agency_id, Role.SUPERVISOR)
        found: list[int] = []
        for group in rung.to:
            if group == "supervisors":
                found += supervisors
            elif group == "agency_admins":
                found += people.of(case.agency_id, Role.AGENCY_ADMIN)
            elif group == "assignee" and assignee is not None:
                found.append(assignee)
            elif group == "assignee_or_supervisors":
                found += [assignee] if assignee is not None else supervisors
            elif group == "partner_liaisons":
                for partner_id in case.shares:
                    found += people.of(partner_id, Role.LIAISON)
            elif group == "partnership_contacts":
                for partner_id in case.shares:
                    found += people.contacts_of(case.agency_id, partner_id)
        resolved.append(found)
    return resolved
