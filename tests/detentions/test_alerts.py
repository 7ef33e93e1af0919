"""Detained-worker alerts: everyone who must act is told in the request that
raises the alert; nobody acknowledging escalates at 1 h and 4 h; the response
tasks run on their own deadlines; closing records the outcome."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from coenforce import escalation
from coenforce.audit.models import AuditEntry
from coenforce.complaints.schemas import AssignIn
from coenforce.complaints.service import assign
from coenforce.detentions.models import DetentionAlert
from coenforce.notify.models import Notice
from coenforce.partners.models import Partnership

from tests.conftest import START, db_read, db_write

ALERT = {"worker_name": "María Canary-Qz9", "a_number": "A 012-345-678", "country": "GT",
         "facility": "Mesa Verde ICE Processing Center", "detained_where": "worksite",
         "family_contact": "Sister: 555-0100 Canary-Qz9", "notes": "Detained at the plant gate."}


def notices(alert_id: int, kind: str | None = None) -> list[tuple[str, int]]:
    with db_read() as s:
        query = select(Notice).where(Notice.subject_type == "detention", Notice.subject_id == alert_id)
        if kind:
            query = query.where(Notice.kind == kind)
        return sorted((n.kind, n.recipient_id) for n in s.scalars(query))


def tick_at(frozen, at):
    frozen.set(at)
    with db_write() as s:
        escalation.tick(s, at)


@pytest.fixture
def contacts(world, make_user):
    """Both sides of the partnership name their point of contact."""
    agency_contact = make_user(world.agency, "investigator", name="Agency Contact")
    partner_contact = make_user(world.partner, "liaison", name="Partner Contact")
    with db_write() as s:
        partnership = s.get(Partnership, world.partnership.id)
        partnership.agency_contact_id, partnership.partner_contact_id = agency_contact.id, partner_contact.id
    return agency_contact, partner_contact


def test_a_partner_raises_an_alert_on_a_case_and_everyone_is_told_at_once(
        api, world, contacts, make_complaint, session):
    agency_contact, partner_contact = contacts
    case = make_complaint(world.liaison, shared_with=[world.partner.id])
    assign(session, world.supervisor, case, AssignIn(assignee_id=world.investigator.id))
    session.commit()
    response = api(world.liaison).post("/detentions", json={**ALERT, "complaint_id": case.id})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "open" and body["a_number"] == "A-•••-••678"
    assert "worker_name" not in body and "family_contact" not in body
    assert [t["kind"] for t in body["tasks"]] == ["consulate", "family", "attorney", "intervention"]
    assert [t["due_at"][:16] for t in body["tasks"]] == [
        (START + timedelta(hours=h)).isoformat()[:16] for h in (4, 24, 24, 72)]
    # In the same request: both points of contact, the case's investigator, the supervisors.
    assert notices(body["id"]) == sorted(("detention_ack.raised", u.id) for u in (
        agency_contact, partner_contact, world.investigator, world.supervisor))


def test_without_a_case_and_with_two_partnerships(api, world, make_org, make_user, partner_up, contacts):
    agency_contact, partner_contact = contacts
    union = make_org("partner", name="Farmworker Union")
    partner_up(world.agency, union)
    union_liaisons = [make_user(union, "liaison"), make_user(union, "liaison")]  # no contact named: all of them
    body = api(world.supervisor).post("/detentions", json={**ALERT, "partner_ids": [world.partner.id, union.id]})
    assert body.status_code == 201, body.get_json()
    alert_id = body.get_json()["id"]
    # The union named nobody: the agency side falls back to supervisors, the union side to its liaisons.
    assert notices(alert_id) == sorted({("detention_ack.raised", u.id) for u in (
        agency_contact, partner_contact, world.supervisor, *union_liaisons)})
    # A partner of another agency cannot be told.
    refused = api(world.supervisor).post("/detentions", json={**ALERT, "partner_ids": [world.other_partner.id]})
    assert refused.status_code == 422 and set(refused.get_json()["error"]["fields"]) == {"partner_ids"}


def test_nobody_acknowledging_escalates_at_1_and_4_hours_and_an_acknowledgement_stops_it(
        api, world, contacts, frozen):
    _agency_contact, partner_contact = contacts
    alert_id = api(world.liaison).post("/detentions", json=ALERT).get_json()["id"]
    tick_at(frozen, START + timedelta(minutes=59))
    assert notices(alert_id, "detention_ack.unacknowledged") == []
    tick_at(frozen, START + timedelta(hours=1))
    assert notices(alert_id, "detention_ack.unacknowledged") == sorted(
        ("detention_ack.unacknowledged", u.id) for u in (world.supervisor, partner_contact))
    tick_at(frozen, START + timedelta(hours=4))
    assert notices(alert_id, "detention_ack.escalated") == [("detention_ack.escalated", world.admin.id)]

    # A second alert, acknowledged within the hour by the partner: no rung after that.
    frozen.set(START + timedelta(hours=5))
    second = api(world.liaison).post("/detentions", json=ALERT).get_json()["id"]
    frozen.set(START + timedelta(hours=5, minutes=20))
    acknowledged = api(world.liaison).post(f"/detentions/{second}/acknowledge")
    assert acknowledged.status_code == 200
    assert [a["user_id"] for a in acknowledged.get_json()["acknowledgements"]] == [world.liaison.id]
    assert acknowledged.get_json()["clock"]["state"] == "met"
    assert api(world.liaison).post(f"/detentions/{second}/acknowledge").status_code == 409
    assert api(world.investigator).post(f"/detentions/{second}/acknowledge").status_code == 200  # each can
    tick_at(frozen, START + timedelta(hours=10))
    assert [k for k, _ in notices(second) if k.startswith("detention_ack")] == ["detention_ack.raised"] * 3


def test_each_task_has_its_deadline_and_escalation_and_closing_records_the_outcome(api, world, frozen):
    liaison, supervisor = api(world.liaison), api(world.supervisor)
    alert_id = liaison.post("/detentions", json=ALERT).get_json()["id"]
    frozen.set(START + timedelta(hours=2))
    done = liaison.post(f"/detentions/{alert_id}/tasks/consulate", json={"note": "Called the consulate in SF."})
    assert done.status_code == 200
    consulate = next(t for t in done.get_json()["tasks"] if t["kind"] == "consulate")
    assert consulate["done_by_id"] == world.liaison.id and consulate["done_at"].startswith("2026-03-02T19:00")
    assert liaison.post(f"/detentions/{alert_id}/tasks/consulate", json={}).status_code == 409
    # The intervention is the agency's decision, and "none" needs a reason.
    assert liaison.post(f"/detentions/{alert_id}/tasks/intervention",
                        json={"intervention": "none"}).status_code == 403
    missing = supervisor.post(f"/detentions/{alert_id}/tasks/intervention", json={"intervention": "none"})
    assert missing.status_code == 422 and set(missing.get_json()["error"]["fields"]) == {"note"}
    tick_at(frozen, START + timedelta(hours=24))
    missed = {kind for kind, _ in notices(alert_id) if kind.endswith(".missed")}
    assert missed == {"detention_family.missed", "detention_attorney.missed"}  # the consulate was done in time
    decided = supervisor.post(f"/detentions/{alert_id}/tasks/intervention",
                              json={"intervention": "statement_of_interest", "note": "Labor dispute pending."})
    assert decided.status_code == 200
    closed = liaison.post(f"/detentions/{alert_id}/close", json={"outcome": "bond", "note": "Bond of $1,500."})
    assert closed.status_code == 200
    assert (closed.get_json()["status"], closed.get_json()["outcome"]) == ("closed", "bond")
    assert liaison.post(f"/detentions/{alert_id}/tasks/family", json={}).status_code == 409
    before = len(notices(alert_id))
    tick_at(frozen, START + timedelta(days=5))
    assert len(notices(alert_id)) == before  # every clock stopped at the close


@pytest.mark.parametrize("field, value", [("a_number", "12345"), ("a_number", "A-0123-456789"),
                                          ("country", "XX"), ("detained_at", "2026-03-03T10:00:00Z"),
                                          ("worker_name", "")])
def test_bad_input_names_the_field_and_writes_nothing(api, world, field, value):
    response = api(world.liaison).post("/detentions", json={**ALERT, field: value})
    assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {field}
    with db_read() as s:
        assert s.scalar(select(func.count()).select_from(DetentionAlert)) == 0
        assert s.scalar(select(func.count()).select_from(Notice)) == 0


def test_partners_see_alerts_of_their_partnerships_only_and_views_and_reveals_are_audited(
        api, client, login, world):
    alert_id = api(world.liaison).post("/detentions", json=ALERT).get_json()["id"]
    assert api(world.other_liaison).get(f"/detentions/{alert_id}").status_code == 404
    assert api(world.other_investigator).get(f"/detentions/{alert_id}").status_code == 404
    assert api(world.organizer).get(f"/detentions/{alert_id}").status_code == 404  # organizers see none
    assert api(world.investigator).get(f"/detentions/{alert_id}").get_json()["a_number"] == "A-•••-••678"
    assert api(world.investigator).post(f"/detentions/{alert_id}/reveal").status_code == 403
    revealed = api(world.supervisor).post(f"/detentions/{alert_id}/reveal")
    assert revealed.get_json() == {"id": alert_id, "a_number": "012345678"}
    login(world.liaison)
    page = client.get(f"/detentions/{alert_id}").get_data(as_text=True)
    assert "María Canary-Qz9" in page and "012345678" not in page and "A-•••-••678" in page
    with db_read() as s:
        entries = s.execute(select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.organization_id,
                                   AuditEntry.owner_organization_id)
                            .where(AuditEntry.record_type == "detention").order_by(AuditEntry.seq)).all()
    assert [tuple(e) for e in entries] == [
        ("detention.view", world.investigator.id, world.agency.id, world.agency.id),
        ("detention.reveal", world.supervisor.id, world.agency.id, world.agency.id),
        ("detention.view", world.liaison.id, world.partner.id, world.agency.id),
    ]


def test_the_alert_form_works_from_a_phone(client, login, post_form, world):
    login(world.liaison)
    form = {**ALERT, "detained_at": "", "country": "MX", "complaint_id": ""}
    response = post_form("/detentions/new", "/detentions/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Mexico" in page and "Mesa Verde" in page and "Consulate contacted" in page
    bad = post_form("/detentions/new", "/detentions/new", {**form, "a_number": "12"})
    assert bad.status_code == 422 and "An A-Number has 8 or 9 digits" in bad.get_data(as_text=True)


def test_the_attorney_comes_from_the_directory_and_the_alert_names_the_consulate(
        api, client, login, world, session):
    from coenforce.legal.schemas import ConsulateIn, ProviderIn, RegionIn
    from coenforce.legal.service import add_consulate, add_provider, set_region_of
    from coenforce.schemas import parse
    provider = add_provider(session, world.admin, parse(ProviderIn, {
        "name": "Valley Immigrant Legal Services", "service_model": "full_scope", "languages": ["es"],
        "counties": ["Fresno"], "phone": "555-0110"}))
    set_region_of(session, world.agency, RegionIn(region="CA"))
    add_consulate(session, world.admin, parse(ConsulateIn, {"country": "GT", "region": "TX", "city": "Houston"}))
    add_consulate(session, world.admin, parse(ConsulateIn, {"country": "GT", "region": "CA", "city": "San Francisco",
                                                            "phone": "555-0120"}))
    session.commit()
    alert_id = api(world.liaison).post("/detentions", json=ALERT).get_json()["id"]
    path = f"/detentions/{alert_id}/tasks/attorney"
    missing = api(world.liaison).post(path, json={"note": "Called."})
    assert missing.status_code == 422 and set(missing.get_json()["error"]["fields"]) == {"attorney_provider_id"}
    assert api(world.liaison).post(path, json={"attorney_provider_id": 999}).status_code == 422
    done = api(world.liaison).post(path, json={"attorney_provider_id": provider.id})
    task = next(t for t in done.get_json()["tasks"] if t["kind"] == "attorney")
    assert task["attorney_provider_id"] == provider.id
    login(world.investigator)
    page = client.get(f"/detentions/{alert_id}").get_data(as_text=True)
    assert "San Francisco (CA)" in page and "Houston" not in page  # the consulate of the agency's region
    assert "Valley Immigrant Legal Services" in page
