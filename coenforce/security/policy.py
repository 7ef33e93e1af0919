"""The one permission policy: who may see and do what.

Every query for tenant data goes through a scope here; a record outside the
scope is "not found" (404), never "forbidden", so ids of other tenants leak
nothing. Role checks go through `allowed`, never through role literals.
"""
from __future__ import annotations

from sqlalchemy import bindparam, false, or_, select
from sqlalchemy.sql import ColumnElement

from coenforce.audit.models import AuditEntry
from coenforce.complaints.models import Complaint, ComplaintShare
from coenforce.legal.models import Consulate, LegalProvider
from coenforce.detentions.models import AlertPartner, DetentionAlert
from coenforce.escalation.models import Holiday
from coenforce.notify.models import Notice
from coenforce.partners.models import AGENCY_ROLES, PARTNER_ROLES, Partnership, PartnershipStatus, Role, User
from coenforce.thirdparty.models import EmployerEvidence, ThirdPartyReport

_ADMINS = {Role.AGENCY_ADMIN}
_LEADS = {Role.AGENCY_ADMIN, Role.SUPERVISOR}

# action -> roles allowed to attempt it (scope is checked separately).
_ROLES = {
    # Organizers see aggregates and the checklist, never a case.
    "complaint.view": AGENCY_ROLES | {Role.LIAISON},
    "complaint.create": AGENCY_ROLES | {Role.LIAISON},
    "complaint.act": AGENCY_ROLES,
    "complaint.assign": _LEADS,
    "complaint.take": AGENCY_ROLES,
    "complaint.damages": AGENCY_ROLES,
    "complaint.share": AGENCY_ROLES,
    "complaint.close": _LEADS,
    "cases.aggregates": {Role.ORGANIZER},
    # Third-party complaints: partners report employers; the agency acknowledges and decides.
    "thirdparty.view": AGENCY_ROLES | {Role.LIAISON},
    "thirdparty.create": AGENCY_ROLES | {Role.LIAISON},
    "thirdparty.acknowledge": AGENCY_ROLES,
    "thirdparty.decide": _LEADS,
    "strategic.view": AGENCY_ROLES,
    "strategic.investigate": _LEADS,
    # Detained-worker alerts: both sides of a partnership raise, see, acknowledge and act;
    # the agency decides its intervention; the full A-Number only for those who call
    # consulates and attorneys (each reveal audited).
    "detention.view": AGENCY_ROLES | {Role.LIAISON},
    "detention.create": AGENCY_ROLES | {Role.LIAISON},
    "detention.acknowledge": AGENCY_ROLES | {Role.LIAISON},
    "detention.act": AGENCY_ROLES | {Role.LIAISON},
    "detention.intervene": AGENCY_ROLES,
    "detention.close": AGENCY_ROLES | {Role.LIAISON},
    "detention.reveal": _LEADS | {Role.LIAISON},
    # Every member of a partnership sees it and its points of contact (staff, never workers).
    "partnership.view": AGENCY_ROLES | PARTNER_ROLES,
    "partnership.manage": _ADMINS,
    "partnership.agency_contact": _ADMINS,
    "partnership.partner_contact": {Role.LIAISON},
    # The legal directory (providers, consulates): each agency keeps its own; the
    # liaisons of its active partners read it; staff print the attorney list.
    "legal.view": AGENCY_ROLES | {Role.LIAISON},
    "legal.manage": _LEADS,
    "legal.handout": AGENCY_ROLES,
    # Immigration protections on a case (T/U visa certifications, Statement of Interest
    # letters, deferred action grants): agency staff act; liaisons who see the case read.
    "protections.view": AGENCY_ROLES | {Role.LIAISON},
    "protections.manage": AGENCY_ROLES,
    "protections.settings": _ADMINS,
    # The agency's holiday calendar (business-day deadlines skip its days).
    "holidays.manage": _ADMINS,
    "notices.view": _LEADS,
    "outbox.manage": _ADMINS,
    "audit.view": _ADMINS,
    "people.manage": _ADMINS,
}


def allowed(user: User, action: str) -> bool:
    """May this user's role attempt `action` at all?"""
    return user.role in _ROLES[action]


def may_close(user: User, complaint: Complaint) -> bool:
    """Leads close any complaint of their agency; agency staff the ones assigned to them."""
    return allowed(user, "complaint.close") or (
        user.is_agency_staff and complaint.assignee_id == user.id)


def complaint_scope(user: User) -> ColumnElement[bool]:
    """Which complaints `user` may see: agency staff their agency's; a liaison
    those its organization filed or that were shared with it; nobody else any."""
    template, params = complaint_scope_template(user)
    return template.params(params) if params else template


def complaint_scope_template(user: User) -> tuple[ColumnElement[bool], dict]:
    """complaint_scope as an expression built once per kind of user, with its
    parameters apart: a list run on every request reuses its statement (built
    once, so not analysed again) and passes the parameters on each execution.
    The parameter has no value of its own, so a statement run without it fails
    instead of showing another organization's complaints."""
    if not allowed(user, "complaint.view"):
        return _NO_COMPLAINTS, {}
    return (_AGENCY_COMPLAINTS if user.is_agency_staff else _PARTNER_COMPLAINTS), {"scope_org": user.organization_id}


_NO_COMPLAINTS = false()
_scope_org = bindparam("scope_org", required=True)
_AGENCY_COMPLAINTS = Complaint.agency_id == _scope_org
_PARTNER_COMPLAINTS = or_(
    Complaint.filed_by_org_id == _scope_org,
    Complaint.id.in_(select(ComplaintShare.complaint_id).where(ComplaintShare.partner_id == _scope_org)))


def protection_scope(user: User, model) -> ColumnElement[bool]:
    """A case's protection records (certification requests, letters, grants):
    those of the complaints the user sees."""
    if not allowed(user, "protections.view"):
        return false()
    return model.complaint_id.in_(select(Complaint.id).where(complaint_scope(user)))


def holiday_scope(user: User) -> ColumnElement[bool]:
    """An agency's holidays: its admins'."""
    if not allowed(user, "holidays.manage"):
        return false()
    return Holiday.organization_id == user.organization_id


def report_scope(user: User) -> ColumnElement[bool]:
    """Third-party reports: agency staff their agency's; a liaison those its
    organization filed (public reports are the agency's alone)."""
    if not allowed(user, "thirdparty.view"):
        return false()
    if user.is_agency_staff:
        return ThirdPartyReport.agency_id == user.organization_id
    return ThirdPartyReport.filed_by_org_id == user.organization_id


def detention_scope(user: User) -> ColumnElement[bool]:
    """Detained-worker alerts: agency staff their agency's; a liaison those its
    organization is involved in; organizers none."""
    if not allowed(user, "detention.view"):
        return false()
    if user.is_agency_staff:
        return DetentionAlert.agency_id == user.organization_id
    involved = select(AlertPartner.alert_id).where(AlertPartner.partner_id == user.organization_id)
    return DetentionAlert.id.in_(involved)


def evidence_scope(user: User) -> ColumnElement[bool]:
    """The strategic queue's employers: the agency's own."""
    if not allowed(user, "strategic.view"):
        return false()
    return EmployerEvidence.agency_id == user.organization_id


def _directory_agencies(user: User, column) -> ColumnElement[bool]:
    """An agency's directory: its staff's, and its active partners' liaisons' to read."""
    if not allowed(user, "legal.view"):
        return false()
    if user.is_agency_staff:
        return column == user.organization_id
    return column.in_(select(Partnership.agency_id).where(
        Partnership.partner_id == user.organization_id, Partnership.status == PartnershipStatus.ACTIVE))


def provider_scope(user: User) -> ColumnElement[bool]:
    """Immigration legal providers: those of the user's agency, or of the
    agencies its partner organization actively works with."""
    return _directory_agencies(user, LegalProvider.agency_id)


def consulate_scope(user: User) -> ColumnElement[bool]:
    """Consulates: the same directories as providers."""
    return _directory_agencies(user, Consulate.agency_id)


def partnership_scope(user: User) -> ColumnElement[bool]:
    """The partnerships of the user's organization, from either side."""
    if not allowed(user, "partnership.view"):
        return false()
    if user.is_agency_staff:
        return Partnership.agency_id == user.organization_id
    return Partnership.partner_id == user.organization_id


def colleague_scope(user: User) -> ColumnElement[bool]:
    """The people an admin manages: those of the admin's own organization."""
    if not allowed(user, "people.manage"):
        return false()
    return User.organization_id == user.organization_id


def notice_scope(user: User) -> ColumnElement[bool]:
    """The notices caused by the records of the user's organization (its leads)."""
    if not allowed(user, "notices.view"):
        return false()
    return Notice.organization_id == user.organization_id


def audit_scope(user: User) -> ColumnElement[bool]:
    """The audit entries an admin reads: what the organization's people saw, and
    who (of a partner too) saw the organization's records."""
    if not allowed(user, "audit.view"):
        return false()
    return or_(AuditEntry.organization_id == user.organization_id,
               AuditEntry.owner_organization_id == user.organization_id)
