"""The one permission policy: who may see and do what.

Every query for tenant data goes through a scope here; a record outside the
scope is "not found" (404), never "forbidden", so ids of other tenants leak
nothing.
"""
from __future__ import annotations

from sqlalchemy import false, or_, select
from sqlalchemy.sql import ColumnElement

from coenforce.complaints.models import Complaint, ComplaintShare
from coenforce.partners.models import User

# action -> roles allowed to attempt it (scope is checked separately).
_ROLES = {
    "complaint.create": {"agency_admin", "supervisor", "investigator", "liaison"},
    "complaint.act": {"agency_admin", "supervisor", "investigator"},
    "complaint.assign": {"agency_admin", "supervisor"},
    "complaint.take": {"agency_admin", "supervisor", "investigator"},
    "complaint.damages": {"agency_admin", "supervisor", "investigator"},
    "complaint.share": {"agency_admin", "supervisor", "investigator"},
    "complaint.close": {"agency_admin", "supervisor"},
    "notices.view": {"agency_admin", "supervisor"},
    "outbox.manage": {"agency_admin"},
    "audit.view": {"agency_admin"},
    "people.manage": {"agency_admin"},
}


def allowed(user: User, action: str) -> bool:
    """May this user's role attempt `action` at all?"""
    return user.role in _ROLES[action]


def may_close(user: User, complaint: Complaint) -> bool:
    return allowed(user, "complaint.close") or (
        user.is_agency_staff and complaint.assignee_id == user.id)


def complaint_scope(user: User) -> ColumnElement[bool]:
    """Which complaints `user` may see: agency staff their agency's; a liaison
    those its organization filed or that were shared with it; nobody else any."""
    if user.is_agency_staff:
        return Complaint.agency_id == user.organization_id
    if user.role == "liaison":
        shared = select(ComplaintShare.complaint_id).where(ComplaintShare.partner_id == user.organization_id)
        return or_(Complaint.filed_by_org_id == user.organization_id, Complaint.id.in_(shared))
    return false()
