"""Figures for the home page. Organizers get aggregates only, never a case."""
from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from coenforce import clock
from coenforce.complaints.models import Complaint
from coenforce.escalation.models import Deadline
from coenforce.partners.models import Organization, Partnership, User
from coenforce.security import policy


def clock_counts(session: Session, scope) -> dict[str, int]:
    """How many complaint clocks in `scope` are running, met and breached."""
    now = clock.now()
    joined = and_(Deadline.subject_type == "complaint", Deadline.subject_id == Complaint.id,
                  Deadline.kind == "complaint_response")
    rows = session.execute(
        select(
            func.count().filter(and_(Deadline.stopped_at.is_(None), Deadline.due_at > now)),
            func.count().filter(and_(Deadline.stopped_at.is_not(None), Deadline.stopped_at <= Deadline.due_at)),
            func.count(),
        ).select_from(Complaint).join(Deadline, joined).where(scope)
    ).one()
    running, met, total = rows
    return {"running": running, "met": met, "breached": total - running - met, "total": total}


def home_summary(session: Session, user: User) -> dict:
    if user.role == "organizer":
        agencies = session.scalars(
            select(Organization).join(Partnership, Partnership.agency_id == Organization.id)
            .where(Partnership.partner_id == user.organization_id).order_by(Organization.name)).all()
        return {"agencies": [(a, clock_counts(session, Complaint.agency_id == a.id)) for a in agencies]}
    summary = {"counts": clock_counts(session, policy.complaint_scope(user))}
    if user.is_agency_staff:
        summary["mine"] = session.scalar(select(func.count()).select_from(Complaint).where(
            Complaint.assignee_id == user.id, Complaint.status != "closed"))
        summary["unassigned"] = session.scalar(select(func.count()).select_from(Complaint).where(
            policy.complaint_scope(user), Complaint.assignee_id.is_(None), Complaint.status != "closed"))
    return summary
