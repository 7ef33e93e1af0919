"""Demo data for a first look: one agency, one partner, a person in each role
and a few complaints in each clock state. Refused in production."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from coenforce import clock
from coenforce.complaints import service as complaints
from coenforce.partners import service as partners
from coenforce.complaints.schemas import ActionIn, AssignIn, ComplaintIn
from coenforce.partners.models import User
from coenforce.partners.schemas import OrganizationIn, PartnershipIn, UserIn
from coenforce.schemas import parse

DEMO_PASSWORD = "demo-password-change-me"
AGENCY = "Demo Labor Standards Office"
PARTNER = "Demo Worker Center"

PEOPLE = [
    ("admin@demo.coenforce.test", AGENCY, "agency_admin", "Alex Admin", "en"),
    ("supervisor@demo.coenforce.test", AGENCY, "supervisor", "Sam Supervisor", "en"),
    ("investigator@demo.coenforce.test", AGENCY, "investigator", "Ivy Investigator", "en"),
    ("investigadora@demo.coenforce.test", AGENCY, "investigator", "Inés Investigadora", "es"),
    ("liaison@demo.coenforce.test", PARTNER, "liaison", "Lee Liaison", "es"),
    ("organizer@demo.coenforce.test", PARTNER, "organizer", "Oli Organizer", "en"),
]


def seed(session: Session) -> list[tuple[str, str]] | None:
    """Create the demo once; returns the logins, or None if it exists already."""
    if partners.organization_named(session, AGENCY) is not None:
        return None
    partners.create_organization(session, parse(OrganizationIn, {"name": AGENCY, "kind": "agency"}))
    partners.create_organization(session, parse(OrganizationIn, {"name": PARTNER, "kind": "partner"}))
    partners.create_partnership(session, PartnershipIn(agency=AGENCY, partner=PARTNER))
    users: dict[str, User] = {}
    for email, org, role, name, language in PEOPLE:
        users[role if role not in users else f"{role}_es"] = partners.create_user(session, parse(UserIn, {
            "email": email, "org": org, "role": role, "name": name, "language": language, "password": DEMO_PASSWORD}))
    now = clock.now()
    investigator = users["investigator"]
    fresh = complaints.open_complaint(session, investigator, parse(ComplaintIn, {
        "employer_name": "Harbor Packing Co.", "retaliation_types": ["immigration_threat", "reduced_hours"],
        "description": "Supervisor said he would call immigration if workers kept asking about unpaid overtime.",
        "labor_dispute": "Unpaid overtime, about six weeks.", "workers_affected": 12, "language": "es",
        "received_at": now - timedelta(hours=3)}))
    complaints.assign(session, users["supervisor"], fresh, AssignIn(assignee_id=investigator.id))
    met = complaints.open_complaint(session, users["liaison"], parse(ComplaintIn, {
        "employer_name": "Valley Fresh Farms", "retaliation_types": ["termination", "document_abuse"],
        "description": "Two workers fired after demanding new documents the day after a wage claim.",
        "workers_affected": 2, "language": "es", "received_at": now - timedelta(hours=30)}))
    complaints.record_action(session, investigator, met, parse(ActionIn, {
        "type": "employer_contacted", "taken_at": now - timedelta(hours=20), "note": "Called the owner."}))
    complaints.record_action(session, investigator, met, parse(ActionIn, {
        "type": "attorney_list_provided", "taken_at": now - timedelta(hours=19), "language": "es"}))
    complaints.open_complaint(session, investigator, parse(ComplaintIn, {
        "employer_name": "Sunrise Car Wash", "retaliation_types": ["immigration_report"],
        "description": "Employer reported a worker to immigration after a minimum wage complaint.",
        "workers_affected": 1, "received_at": now - timedelta(hours=60), "shared_with": [met.filed_by_org_id]}))
    return [(email, role) for email, _org, role, _name, _lang in PEOPLE]
