"""The rules of detained-worker alerts: raising one (and telling everyone who
must act in the same transaction), acknowledging, the response tasks, closing,
revealing the A-Number, and who is told at each rung.

Each function receives input parsed by `schemas.py`, checks what needs the
database and raises before writing; the caller commits.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from coenforce import audit, clock, escalation
from coenforce.complaints.models import Complaint, ComplaintShare
from coenforce.complaints.service import partner_choices
from coenforce.db import paged
from coenforce.detentions.a_number import mask_a_number
from coenforce.detentions.models import (
    ACK_CLOCK, Acknowledgement, AlertPartner, AlertTask, DetentionAlert, task_clock,
)
from coenforce.detentions.schemas import AlertIn, AlertListQuery, CloseIn, TaskDoneIn
from coenforce.detentions.types import AlertStatus, Intervention, TaskKind
from coenforce.enums import SubjectType
from coenforce.legal import service as legal
from coenforce.escalation import Deadline, DueDeadline
from coenforce.escalation.ladder import Rung
from coenforce.partners.models import Role, User
from coenforce.partners.service import agencies_working_with, agency_chosen, reachable
from coenforce.schemas import Page
from coenforce.security.crypto.purge import purge_fields
from coenforce.security import policy
from coenforce.validation import Conflict, NotAllowed, NotFound, ValidationError


# ---------------------------------------------------------------- reading

def get_alert(session: Session, user: User, alert_id: int) -> DetentionAlert:
    """The alert if `user` may see it; NotFound (404) otherwise."""
    alert = session.scalar(select(DetentionAlert).where(DetentionAlert.id == alert_id,
                                                        policy.detention_scope(user)))
    if alert is None:
        raise NotFound()
    return alert


def view_alert(session: Session, user: User, alert_id: int) -> DetentionAlert:
    """Open an alert: scoped, then recorded in the audit log under the owning agency."""
    alert = get_alert(session, user, alert_id)
    audit.record(session, user, "detention.view", SubjectType.DETENTION, alert.id,
                 owner_organization_id=alert.agency_id)
    return alert


def reveal_a_number(session: Session, user: User, alert: DetentionAlert) -> str | None:
    """The full A-Number, for the roles that contact consulates and attorneys; audited."""
    if not policy.allowed(user, "detention.reveal"):
        raise NotAllowed()
    audit.record(session, user, "detention.reveal", SubjectType.DETENTION, alert.id,
                 owner_organization_id=alert.agency_id)
    return alert.a_number


def clock_of(session: Session, alert: DetentionAlert) -> Deadline:
    """The alert's acknowledgement clock (a new alert carries the one it opened)."""
    return getattr(alert, "ack_clock", None) or escalation.deadline_for(
        session, SubjectType.DETENTION, alert.id, ACK_CLOCK)


def _fields(alert: DetentionAlert) -> dict:
    """The alert as the API shows it: the A-Number masked, no name or family contact."""
    return {
        "id": alert.id, "reference": alert.reference, "status": alert.status, "agency_id": alert.agency_id,
        "complaint_id": alert.complaint_id, "a_number": mask_a_number(alert.a_number), "country": alert.country,
        "facility": alert.facility, "detained_at": alert.detained_at, "detained_where": alert.detained_where,
        "partner_ids": alert.partner_ids, "acknowledgements": alert.acknowledgements, "tasks": alert.tasks,
        "outcome": alert.outcome, "closed_at": alert.closed_at,
    }


def shown(session: Session, alert: DetentionAlert, reading=None) -> dict:
    return {**_fields(alert), "clock": reading or clock_of(session, alert).reading()}


def _matching(session: Session, user: User, status: AlertStatus | None) -> tuple[list, int]:
    """The conditions for the alerts `user` may see (with `status`), and how many match."""
    conditions = [policy.detention_scope(user)]
    if status:
        conditions.append(DetentionAlert.status == status)
    return conditions, session.scalar(select(func.count()).select_from(DetentionAlert).where(*conditions))


def _readings(session: Session, alerts) -> dict[int, object]:
    """Each alert's acknowledgement clock reading, in one query for all."""
    if not alerts:
        return {}
    return {d.subject_id: d.reading() for d in session.scalars(select(Deadline).where(
        Deadline.subject_type == SubjectType.DETENTION, Deadline.kind == ACK_CLOCK,
        Deadline.subject_id.in_([a.id for a in alerts])))}


def page_of_alerts(session: Session, user: User, query: AlertListQuery) -> Page:
    """The API's pages, newest first, keyed on the id."""
    conditions, total = _matching(session, user, query.status)
    if query.after is not None:
        conditions.append(DetentionAlert.id < query.after[0])
    alerts = session.scalars(paged(select(DetentionAlert).where(*conditions).order_by(DetentionAlert.id.desc()),
                                   query.limit + 1)).unique().all()
    more = len(alerts) > query.limit
    alerts = list(alerts[:query.limit])
    readings = _readings(session, alerts)
    return Page([shown(session, a, readings[a.id]) for a in alerts], total, (alerts[-1].id,) if more else None)


def list_alerts(session: Session, user: User, *, status: AlertStatus | None = None, limit: int = 50,
                offset: int = 0) -> Page:
    """A page of the alerts `user` may see (open first, newest first), with their clock readings."""
    conditions, total = _matching(session, user, status)
    alerts = session.scalars(paged(select(DetentionAlert).where(*conditions)
                                   .order_by(DetentionAlert.status.desc(), DetentionAlert.id.desc()),
                                   limit, offset)).unique().all()
    readings = _readings(session, alerts)
    return Page([(alert, readings[alert.id]) for alert in alerts], total, None)


# ---------------------------------------------------------------- raising

def raise_alert(session: Session, user: User, data: AlertIn) -> DetentionAlert:
    """Record a detained worker and tell, in this transaction, the points of
    contact of every partnership involved, the case's investigator and the
    agency's supervisors; the tasks' clocks start."""
    if not policy.allowed(user, "detention.create"):
        raise NotAllowed()
    agency = agency_chosen(agencies_working_with(session, user), data.agency_id)
    partners = set(data.partner_ids)
    allowed = {p.id for p in partner_choices(session, agency.id)}
    if partners - allowed:
        raise ValidationError({"partner_ids": _l("Only partners of this agency can be told.")})
    if user.role == Role.LIAISON:
        partners.add(user.organization_id)
    complaint = None
    if data.complaint_id is not None:
        complaint = session.scalar(select(Complaint).where(
            Complaint.id == data.complaint_id, Complaint.agency_id == agency.id, policy.complaint_scope(user)))
        if complaint is None:
            raise ValidationError({"complaint_id": _l("Choose a complaint of this agency that you can see.")})
        partners |= set(session.scalars(select(ComplaintShare.partner_id).where(
            ComplaintShare.complaint_id == complaint.id, ComplaintShare.partner_id.in_(allowed))))

    now = clock.now()
    hours = current_app.config["DETENTION_TASK_HOURS"]
    alert = DetentionAlert(
        agency_id=agency.id, raised_by_org_id=user.organization_id, raised_by_user_id=user.id,
        complaint_id=data.complaint_id, facility=data.facility, detained_at=data.detained_at or now,
        detained_where=data.detained_where, status=AlertStatus.OPEN, created_at=now,
        partners=[AlertPartner(partner_id=p) for p in sorted(partners)],
        tasks=[AlertTask(kind=kind, due_at=now + timedelta(hours=hours[kind.value])) for kind in TaskKind],
    )
    alert.worker_name = data.worker_name
    alert.a_number = data.a_number
    alert.country = data.country
    alert.family_contact = data.family_contact
    alert.notes = data.notes
    session.add(alert)
    session.flush()
    common = {"subject_type": SubjectType.DETENTION, "subject_id": alert.id, "organization_id": agency.id,
              "reference": alert.reference, "path": f"/detentions/{alert.id}", "starts_at": now}
    ack = escalation.open_deadline(session, kind=ACK_CLOCK, due_at=now + timedelta(hours=1), **common)
    set_committed_value(alert, "acknowledgements", [])  # a new alert has none: no need to ask
    alert.ack_clock = ack
    for task in alert.tasks:
        escalation.open_deadline(session, kind=task_clock(task.kind), due_at=task.due_at, **common)
    return alert


def attorney_choices(session: Session, alert: DetentionAlert) -> list:
    """The providers of the agency's legal directory who take cases now."""
    return legal.providers_for(session, alert.agency_id)


def consulate_of(session: Session, alert: DetentionAlert):
    """The consulate to call for the worker's country, in the agency's region if it has one."""
    return legal.consulate_for(session, alert.agency_id, alert.country) if alert.country else None


# ---------------------------------------------------------------- acting on it

def _open(alert: DetentionAlert) -> None:
    if alert.is_closed:
        raise Conflict(_l("This alert is closed."))


def acknowledge(session: Session, user: User, alert: DetentionAlert) -> Acknowledgement:
    """`user` has seen the alert; the first acknowledgement stops its escalation."""
    if not policy.allowed(user, "detention.acknowledge"):
        raise NotAllowed()
    if any(a.user_id == user.id for a in alert.acknowledgements):
        raise Conflict(_l("You have already acknowledged this alert."))
    now = clock.now()
    ack = Acknowledgement(user_id=user.id, organization_id=user.organization_id, at=now)
    alert.acknowledgements.append(ack)
    escalation.stop_deadline(session, clock_of(session, alert), now)
    session.flush()
    return ack


def complete_task(session: Session, user: User, alert: DetentionAlert, kind: TaskKind, data: TaskDoneIn) -> AlertTask:
    """Record that a response task is done, by whom and when; its clock stops."""
    action = "detention.intervene" if kind == TaskKind.INTERVENTION else "detention.act"
    if not policy.allowed(user, action):
        raise NotAllowed()
    _open(alert)
    task = next(t for t in alert.tasks if t.kind == kind)
    if task.done_at is not None:
        raise Conflict(_l("This task is already done."))
    if kind == TaskKind.INTERVENTION:
        if data.intervention is None:
            raise ValidationError({"intervention": _l("Choose what the agency decided.")})
        if data.intervention == Intervention.NONE and not data.note:
            raise ValidationError({"note": _l("Say why the agency will not intervene.")})
    elif data.intervention is not None:
        raise ValidationError({"intervention": _l("Only the intervention task records an intervention.")})
    if kind == TaskKind.ATTORNEY:
        if data.attorney_provider_id is None:
            raise ValidationError({"attorney_provider_id": _l("Choose the attorney from the legal directory.")})
        if data.attorney_provider_id not in {p.id for p in attorney_choices(session, alert)}:
            raise ValidationError({"attorney_provider_id": _l("Choose a provider of this agency's directory.")})
    elif data.attorney_provider_id is not None:
        raise ValidationError({"attorney_provider_id": _l("Only the attorney task records an attorney.")})
    now = clock.now()
    task.done_at = now
    task.done_by_id = user.id
    task.note = data.note
    task.intervention = data.intervention
    task.attorney_provider_id = data.attorney_provider_id
    escalation.stop_deadline(session, escalation.deadline_for(
        session, SubjectType.DETENTION, alert.id, task_clock(kind)), now)
    session.flush()
    return task


def close(session: Session, user: User, alert: DetentionAlert, data: CloseIn) -> None:
    """Close the alert with its outcome; every clock still running stops."""
    if not policy.allowed(user, "detention.close"):
        raise NotAllowed()
    _open(alert)
    now = clock.now()
    alert.status = AlertStatus.CLOSED
    alert.outcome = data.outcome
    alert.outcome_note = data.note
    alert.closed_at = now
    alert.closed_by_id = user.id
    for deadline in session.scalars(select(Deadline).where(
            Deadline.subject_type == SubjectType.DETENTION, Deadline.subject_id == alert.id,
            Deadline.stopped_at.is_(None))):
        escalation.stop_deadline(session, deadline, now)
    session.flush()


# ---------------------------------------------------------------- retention

SEALED = ("worker_name", "a_number", "country", "family_contact", "notes")


def purge_closed(session: Session, now=None) -> int:
    """Clear the sealed fields of alerts closed longer than DETENTION_RETENTION_DAYS
    (the outcome, dates and tasks stay for reports), record each purge in the
    audit log, commit, and make sure no old copy of the values stays readable:
    SQLite checkpoints its WAL (secure_delete zeroes freed pages); PostgreSQL
    VACUUMs the tables, so the dead row versions holding them are gone."""
    now = now or clock.now()
    cutoff = now - timedelta(days=current_app.config["DETENTION_RETENTION_DAYS"])
    alerts = session.scalars(select(DetentionAlert).where(
        DetentionAlert.status == AlertStatus.CLOSED, DetentionAlert.closed_at <= cutoff,
        DetentionAlert.purged_at.is_(None))).unique().all()
    if not alerts:
        session.commit()
        return 0
    for alert in alerts:
        alert.purged_at = now
        audit.record(session, None, "detention.purge", SubjectType.DETENTION, alert.id,
                     organization_id=alert.agency_id, owner_organization_id=alert.agency_id)
    purge_fields(session, [t for alert in alerts for t in alert.tasks], "note")
    purge_fields(session, alerts, *SEALED)
    engine = session.get_bind().engine
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM detentions, detention_tasks")
    return len(alerts)


# ---------------------------------------------------------------- who is told

RECIPIENT_GROUPS = frozenset({"agency_contacts", "partner_contacts", "case_investigator", "supervisors",
                              "agency_admins"})


def recipients(session: Session, items: list[tuple[DueDeadline, Rung]]) -> list[list[int]]:
    """The user ids each rung of an alert's clocks tells, in four queries for all.

    A partnership whose side named no point of contact falls back to that side's
    people who can act (the partner's liaisons; the agency's supervisors), so a
    missing name never leaves a side untold."""
    ids = {deadline.subject_id for deadline, _rung in items}
    # alert id -> (agency, the linked case's assignee or None)
    alerts = {alert_id: (agency_id, assignee_id) for alert_id, agency_id, assignee_id in session.execute(
        select(DetentionAlert.id, DetentionAlert.agency_id, Complaint.assignee_id)
        .outerjoin(Complaint, Complaint.id == DetentionAlert.complaint_id).where(DetentionAlert.id.in_(ids)))}
    partners: dict[int, list[int]] = {i: [] for i in ids}
    for alert_id, partner_id in session.execute(select(AlertPartner.alert_id, AlertPartner.partner_id)
                                                .where(AlertPartner.alert_id.in_(ids))):
        partners[alert_id].append(partner_id)
    people = reachable(session, {agency_id for agency_id, _assignee in alerts.values()},
                       {p for ps in partners.values() for p in ps}, liaisons=True,
                       people={assignee for _agency, assignee in alerts.values() if assignee})
    resolved = []
    for deadline, rung in items:
        agency_id, assignee_id = alerts.get(deadline.subject_id, (None, None))
        found: list[int] = []
        for group in (rung.to if agency_id is not None else ()):
            if group == "supervisors":
                found += people.of(agency_id, Role.SUPERVISOR)
            elif group == "agency_admins":
                found += people.of(agency_id, Role.AGENCY_ADMIN)
            elif group == "case_investigator" and assignee_id in people.active:
                found.append(assignee_id)
            elif group == "agency_contacts":
                for partner_id in partners[deadline.subject_id]:
                    named = people.agency_contact(agency_id, partner_id)
                    found += [named] if named else people.of(agency_id, Role.SUPERVISOR)
            elif group == "partner_contacts":
                for partner_id in partners[deadline.subject_id]:
                    named = people.partner_contact(agency_id, partner_id)
                    found += [named] if named else people.of(partner_id, Role.LIAISON)
        resolved.append(list(dict.fromkeys(found)))
    return resolved
