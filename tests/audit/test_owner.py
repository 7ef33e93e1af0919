"""Audit entries name the record's owner: an agency sees a partner's views of
its shared cases; old entries without an owner still verify."""
from sqlalchemy import select

from coenforce.audit import record, verify
from coenforce.audit.models import AuditEntry


def test_the_agency_sees_who_at_a_partner_viewed_its_shared_case(client, login, api, world, make_complaint,
                                                                   session):
    shared = make_complaint(world.investigator, shared_with=[world.partner.id])
    assert api(world.liaison).get(f"/complaints/{shared.id}").status_code == 200
    session.rollback()
    entry = session.scalars(select(AuditEntry).where(AuditEntry.actor_id == world.liaison.id)).one()
    assert (entry.organization_id, entry.owner_organization_id) == (world.partner.id, world.agency.id)
    login(world.admin)
    html = client.get("/audit/").get_data(as_text=True)
    assert world.liaison.name in html and world.partner.name in html
    assert verify(session).ok


def test_entries_with_and_without_an_owner_chain_together(app, world, session):
    record(session, world.investigator, "complaint.view", "complaint", 1)  # as written before owners existed
    record(session, world.liaison, "complaint.view", "complaint", 2, owner_organization_id=world.agency.id)
    session.commit()
    assert verify(session).ok
    rows = session.execute(select(AuditEntry.seq, AuditEntry.owner_organization_id).order_by(AuditEntry.seq)).all()
    assert [tuple(r) for r in rows] == [(1, None), (2, world.agency.id)]


def test_another_agency_does_not_see_the_entries(client, login, api, world, make_complaint, make_user):
    shared = make_complaint(world.investigator, shared_with=[world.partner.id])
    api(world.liaison).get(f"/complaints/{shared.id}")
    stranger = make_user(world.other_agency, "agency_admin")
    login(stranger)
    html = client.get("/audit/").get_data(as_text=True)
    assert world.liaison.name not in html and f"#{shared.id}" not in html
