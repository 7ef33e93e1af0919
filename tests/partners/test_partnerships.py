"""Partnerships: each side names its point of contact, the directory and shared
cases show both, they hear of breaches, and a paused or ended partnership takes
no new sharing while keeping what was shared."""
from datetime import timedelta

from sqlalchemy import select

from coenforce import escalation
from coenforce.notify.models import Notice
from coenforce.partners.models import Partnership, PartnershipStatus

from tests.conftest import START


def reload(session, partnership_id):
    session.rollback()
    session.expire_all()
    return session.get(Partnership, partnership_id)


def test_each_side_names_its_point_of_contact_and_the_directory_shows_both(
        client, login, post_form, world, session, make_user):
    liaison_two = make_user(world.partner, "liaison", name="Rosa Ruiz")
    login(world.admin)
    page = "/partnerships/"
    assert post_form(page, f"/partnerships/{world.partnership.id}/contact",
                     {"contact_id": str(world.supervisor.id)}).status_code == 302
    post_form("/account", "/logout", {})
    login(world.liaison)
    assert post_form(page, f"/partnerships/{world.partnership.id}/contact",
                     {"contact_id": str(liaison_two.id)}).status_code == 302
    saved = reload(session, world.partnership.id)
    assert (saved.agency_contact_id, saved.partner_contact_id) == (world.supervisor.id, liaison_two.id)
    directory = client.get("/partnerships/directory").get_data(as_text=True)
    assert world.supervisor.email in directory and liaison_two.email in directory and "Rosa Ruiz" in directory


def test_a_side_names_only_its_own_people(client, login, post_form, world, session):
    login(world.admin)
    page = "/partnerships/"
    # Someone of the partner organization cannot be the agency's contact, nor a stranger.
    for person in (world.liaison, world.other_investigator):
        response = post_form(page, f"/partnerships/{world.partnership.id}/contact", {"contact_id": str(person.id)})
        assert response.status_code == 422
    assert "Choose an active member of the agency." in response.get_data(as_text=True)
    assert reload(session, world.partnership.id).agency_contact_id is None


def test_the_api_lets_each_side_set_its_own_contact_only(api, world, session):
    admin, liaison, supervisor = api(world.admin), api(world.liaison), api(world.supervisor)
    path = f"/partnerships/{world.partnership.id}"
    assert admin.patch(path, json={"agency_contact_id": world.investigator.id}).status_code == 200
    assert liaison.patch(path, json={"partner_contact_id": world.liaison.id}).status_code == 200
    assert liaison.patch(path, json={"agency_contact_id": world.liaison.id}).status_code == 403
    assert supervisor.patch(path, json={"agency_contact_id": world.supervisor.id}).status_code == 403
    bad = liaison.patch(path, json={"partner_contact_id": world.organizer.id})  # organizers are not contacts
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"contact_id"}
    listed = liaison.get("/partnerships").get_json()
    assert listed["total"] == 1
    [item] = listed["items"]
    assert item["agency_contact"]["email"] == world.investigator.email
    assert item["partner_contact"]["email"] == world.liaison.email
    assert liaison.patch(f"/partnerships/{world.other_partnership.id}",
                         json={"partner_contact_id": world.liaison.id}).status_code == 404


def test_points_of_contact_show_on_shared_cases_and_hear_of_breaches(
        app, client, login, api, world, make_complaint, session, frozen):
    admin = api(world.admin)
    admin.patch(f"/partnerships/{world.partnership.id}", json={"agency_contact_id": world.investigator.id})
    api(world.liaison).patch(f"/partnerships/{world.partnership.id}", json={"partner_contact_id": world.liaison.id})
    complaint = make_complaint(world.supervisor, shared_with=[world.partner.id])
    login(world.admin)
    detail = client.get(f"/complaints/{complaint.id}").get_data(as_text=True)
    assert f"{world.investigator.name} · {world.liaison.name}" in detail
    session.rollback()  # end the read the sign-in left open: the tick writes
    escalation.tick(session, START + timedelta(hours=48))
    breach = {n.recipient_id for n in session.scalars(
        select(Notice).where(Notice.kind == "complaint_response.breach"))}
    # The investigator is neither assignee nor lead: only being the point of contact tells them.
    assert world.investigator.id in breach and world.liaison.id in breach


def test_paused_and_ended_partnerships_take_no_new_sharing_and_keep_history(
        api, world, make_complaint, session):
    admin, liaison = api(world.admin), api(world.liaison)
    path = f"/partnerships/{world.partnership.id}"
    shared = make_complaint(world.investigator, shared_with=[world.partner.id])
    assert admin.patch(path, json={"status": "paused"}).get_json()["status"] == "paused"
    refused = api(world.investigator).post("/complaints", json={
        "employer_name": "New Co", "retaliation_types": ["other"], "description": "x",
        "shared_with": [world.partner.id]})
    assert refused.status_code == 422 and "shared_with" in refused.get_json()["error"]["fields"]
    # A partner cannot file with an agency whose partnership is paused.
    filing = liaison.post("/complaints", json={"employer_name": "New Co", "retaliation_types": ["other"],
                                               "description": "x"})
    assert filing.status_code == 422
    assert liaison.get(f"/complaints/{shared.id}").status_code == 200  # what was shared stays
    assert admin.patch(path, json={"status": "active"}).status_code == 200
    assert liaison.post("/complaints", json={"employer_name": "New Co", "retaliation_types": ["other"],
                                             "description": "x"}).status_code == 201
    assert admin.patch(path, json={"status": "ended"}).get_json()["status"] == "ended"
    assert admin.patch(path, json={"status": "active"}).status_code == 409  # ended stays ended
    assert liaison.get(f"/complaints/{shared.id}").status_code == 200
    assert reload(session, world.partnership.id).status == PartnershipStatus.ENDED


def test_only_agency_admins_change_the_status(api, world):
    path = f"/partnerships/{world.partnership.id}"
    for user in (world.supervisor, world.liaison):
        assert api(user).patch(path, json={"status": "ended"}).status_code == 403


def test_the_command_line_names_contacts_and_changes_status(runner, world, session):
    result = runner.invoke(args=["partnerships", "contact", world.agency.name, world.partner.name,
                                 "--agency-contact", world.supervisor.email, "--partner-contact", world.liaison.email])
    assert result.exit_code == 0, result.output
    saved = reload(session, world.partnership.id)
    assert (saved.agency_contact_id, saved.partner_contact_id) == (world.supervisor.id, world.liaison.id)
    wrong = runner.invoke(args=["partnerships", "contact", world.agency.name, world.partner.name,
                                "--partner-contact", world.supervisor.email])
    assert wrong.exit_code == 1 and "contact_id" in wrong.output
    assert runner.invoke(args=["partnerships", "status", world.agency.name, world.partner.name, "ended"]).exit_code == 0
    assert reload(session, world.partnership.id).status == PartnershipStatus.ENDED
    missing = runner.invoke(args=["partnerships", "status", world.agency.name, world.other_partner.name, "paused"])
    assert missing.exit_code == 1
