"""Shared by bench/alert_latency.py and bench/raid_surge.py: an agency and a partner
with both points of contact named, and the alert they raise."""
from __future__ import annotations


ALERT = {"worker_name": "Bench Worker", "a_number": "A012345678", "country": "MX", "detained_where": "raid",
         "facility": "Bench Processing Center", "family_contact": "Bench family contact"}


def prepare_partnership(url: str, supervisors: int = 2) -> dict:
    """Migrate; an agency (supervisors, an admin, an investigator who raises alerts)
    and a partner with a liaison, both points of contact named. Each alert then
    tells the two points of contact and the supervisors."""
    from coenforce import create_app
    from coenforce.db import db
    from coenforce.migrate import upgrade
    from coenforce.partners.models import OrgKind
    from coenforce.partners.schemas import ContactIn, OrganizationIn, PartnershipIn, UserIn
    from coenforce.partners.service import create_organization, create_partnership, create_user, set_contact
    from coenforce.schemas import parse
    from coenforce.security.tokens import issue_token

    upgrade(url)
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        session = db.new_session(app)
        agency = create_organization(session, parse(OrganizationIn, {"name": "Bench Labor Office", "kind": "agency"}))
        partner = create_organization(session, parse(OrganizationIn, {"name": "Bench Worker Center",
                                                                      "kind": "partner"}))
        partnership = create_partnership(session, PartnershipIn(agency=agency.name, partner=partner.name))

        def person(org, role: str, n: int = 0):
            return create_user(session, parse(UserIn, {
                "email": f"{role}{n}@bench.example.org", "org": org.name, "role": role,
                "password": "bench-password-not-secret"}))
        investigator = person(agency, "investigator")
        contact = person(agency, "investigator", 1)
        for n in range(supervisors):
            person(agency, "supervisor", n)
        person(agency, "agency_admin")
        liaison = person(partner, "liaison")
        set_contact(session, None, partnership, OrgKind.AGENCY, ContactIn(contact_id=contact.id))
        set_contact(session, None, partnership, OrgKind.PARTNER, ContactIn(contact_id=liaison.id))
        token = issue_token(session, investigator)
        session.commit()
        result = {"agency_id": agency.id, "partner_id": partner.id, "token": token,
                  "notices_per_alert": 2 + supervisors}
        session.close()
    db.engine_for(app).dispose()
    return result
