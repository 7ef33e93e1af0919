"""Figures for the home page. Organizers get aggregates only, never a case."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from coenforce.complaints import service as complaints
from coenforce.complaints.models import Complaint
from coenforce.partners.models import Organization, Partnership, User
from coenforce.security import policy


def home_summary(session: Session, user: User) -> dict:
    if policy.allowed(user, "cases.aggregates"):
        agencies = session.scalars(
            select(Organization).join(Partnership, Partnership.agency_id == Organization.id)
            .where(Partnership.partner_id == user.organization_id).order_by(Organization.name)).all()
        return {"agencies": [(a, complaints.clock_counts(session, Complaint.agency_id == a.id)) for a in agencies]}
    summary = {"counts": complaints.clock_counts(session, policy.complaint_scope(user))}
    if user.is_agency_staff:
        summary.update(complaints.workload(session, user))
    return summary
