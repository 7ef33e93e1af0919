"""Third-party complaints: a partner reports an employer without naming a worker;
the agency acknowledges within 72 hours and decides within 14 days, each on its
own ladder; the filer reads the decision and a decline's reason."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from coenforce import escalation
from coenforce.notify.models import Notice
from coenforce.partners.models import Partnership
from coenforce.thirdparty.models import ThirdPartyReport

from tests.conftest import START, db_read, db_write, engine_ticks

REPORT = {"employer_name": "Acme Packing, LLC", "violation_types": ["wage_theft", "child_labor"],
          "description": "Members say minors work the night shift and nobody is paid overtime.",
          "workers_affected": 40, "industry": "food_processing", "area": "Fresno County",
          "can_connect_workers": True}


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def notices_of(session, report_id: int) -> list[tuple[str, int]]:
    """(kind, recipient) of every notice about the report, in order."""
    with db_read() as s:
        return [(n.kind, n.recipient_id) for n in s.scalars(
            select(Notice).where(Notice.subject_type == "third_party_complaint", Notice.subject_id == report_id)
            .order_by(Notice.id))]


def tick_at(session, frozen, at):
    """One tick, in a session of its own as the scheduler's would be."""
    frozen.set(at)
    with db_write() as s:
        escalation.tick(s, at)


def test_a_partner_files_through_the_api_and_both_clocks_start(api, world, session):
    response = api(world.liaison).post("/third-party-complaints", json=REPORT)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "received" and body["employer_name"] == "Acme Packing, LLC"
    assert body["violation_types"] == ["child_labor", "wage_theft"]
    assert body["clock"]["state"] == "running"
    assert body["clocks"]["acknowledgement"]["due_at"] == iso(START + timedelta(hours=72))
    assert body["clocks"]["decision"]["due_at"] == iso(START + timedelta(days=14))
    # The agency's supervisors hear of it from the next tick (within a second); nobody else.
    assert notices_of(session, body["id"]) == []
    engine_ticks()
    assert notices_of(session, body["id"]) == [("third_party_ack.received", world.supervisor.id)]
    # The filer and the agency read it; another agency's staff and other partners do not.
    assert api(world.investigator).get(f"/third-party-complaints/{body['id']}").status_code == 200
    assert api(world.liaison).get(f"/third-party-complaints/{body['id']}").status_code == 200
    for stranger in (world.other_investigator, world.other_liaison):
        assert api(stranger).get(f"/third-party-complaints/{body['id']}").status_code == 404


def test_bad_input_is_refused_field_by_field_and_writes_nothing(api, world, session):
    bad = {**REPORT, "violation_types": ["wage_theft", "smuggling"], "workers_affected": 0,
           "employer_name": " ", "immigration_status": "undocumented"}
    response = api(world.liaison).post("/third-party-complaints", json=bad)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {
        "violation_types", "workers_affected", "employer_name", "immigration_status"}
    # An agency the partner does not work with.
    wrong = api(world.liaison).post("/third-party-complaints", json={**REPORT, "agency_id": world.other_agency.id})
    assert wrong.status_code == 422 and set(wrong.get_json()["error"]["fields"]) == {"agency_id"}
    with db_read() as s:
        assert s.scalar(select(func.count()).select_from(ThirdPartyReport)) == 0
        assert s.scalar(select(func.count()).select_from(Notice)) == 0


def test_the_acknowledgement_ladder_at_its_times_then_acknowledging_stops_it(api, world, session, frozen):
    session.get(Partnership, world.partnership.id).agency_contact_id = world.investigator.id
    session.commit()
    report_id = api(world.liaison).post("/third-party-complaints", json=REPORT).get_json()["id"]
    received = [("third_party_ack.received", world.supervisor.id)]
    tick_at(session, frozen, START + timedelta(hours=47, minutes=59))
    assert notices_of(session, report_id) == received
    tick_at(session, frozen, START + timedelta(hours=48))
    reminder = [("third_party_ack.reminder", world.supervisor.id)]
    assert notices_of(session, report_id) == received + reminder
    tick_at(session, frozen, START + timedelta(hours=72))
    # The breach reaches the agency's leads and the partnership's named point of contact.
    breach = sorted([("third_party_ack.breach", u.id) for u in (world.supervisor, world.admin, world.investigator)])
    assert sorted(notices_of(session, report_id)[2:]) == breach
    tick_at(session, frozen, START + timedelta(hours=96))
    assert notices_of(session, report_id)[-1] == ("third_party_ack.overdue", world.supervisor.id)

    acknowledged = api(world.investigator).post(f"/third-party-complaints/{report_id}/acknowledge")
    assert acknowledged.status_code == 200
    body = acknowledged.get_json()
    assert body["status"] == "acknowledged" and body["clocks"]["acknowledgement"]["state"] == "breached"
    assert body["clock"]["due_at"] == body["clocks"]["decision"]["due_at"]  # the decision matters now
    assert api(world.investigator).post(f"/third-party-complaints/{report_id}/acknowledge").status_code == 409
    count = len(notices_of(session, report_id))
    tick_at(session, frozen, START + timedelta(hours=200))
    assert len(notices_of(session, report_id)) == count  # no more acknowledgement rungs


def test_the_decision_ladder_at_its_times(api, world, session, frozen):
    report_id = api(world.liaison).post("/third-party-complaints", json=REPORT).get_json()["id"]
    engine_ticks()  # the received notice goes out before anyone acknowledges
    api(world.investigator).post(f"/third-party-complaints/{report_id}/acknowledge")
    tick_at(session, frozen, START + timedelta(days=11) - timedelta(minutes=1))
    assert [k for k, _ in notices_of(session, report_id)] == ["third_party_ack.received"]
    tick_at(session, frozen, START + timedelta(days=11))
    assert notices_of(session, report_id)[-1] == ("third_party_decision.reminder", world.supervisor.id)
    tick_at(session, frozen, START + timedelta(days=14))
    assert sorted(r for k, r in notices_of(session, report_id) if k == "third_party_decision.breach") == sorted(
        [world.supervisor.id, world.admin.id])
    tick_at(session, frozen, START + timedelta(days=21))
    assert sorted(r for k, r in notices_of(session, report_id) if k == "third_party_decision.overdue") == sorted(
        [world.supervisor.id, world.admin.id])


def test_a_decline_needs_a_reason_which_the_partner_reads(api, client, login, world, session):
    report_id = api(world.liaison).post("/third-party-complaints", json=REPORT).get_json()["id"]
    supervisor = api(world.supervisor)
    refused = supervisor.post(f"/third-party-complaints/{report_id}/decision", json={"decision": "decline"})
    assert refused.status_code == 422 and set(refused.get_json()["error"]["fields"]) == {"reason"}
    with db_read() as s:
        assert s.get(ThirdPartyReport, report_id).decision is None
    # Investigators acknowledge but do not decide.
    assert api(world.investigator).post(f"/third-party-complaints/{report_id}/decision",
                                        json={"decision": "queue"}).status_code == 403
    reason = "The employer closed in 2025; we referred the wage claims to the federal office."
    declined = supervisor.post(f"/third-party-complaints/{report_id}/decision",
                               json={"decision": "decline", "reason": reason})
    assert declined.status_code == 200
    body = declined.get_json()
    assert body["status"] == "declined" and body["clocks"]["decision"]["state"] == "met"
    assert body["acknowledged_at"] is not None  # deciding acknowledges too
    assert supervisor.post(f"/third-party-complaints/{report_id}/decision",
                           json={"decision": "queue"}).status_code == 409
    # The filing partner reads the reason, through the API and on the page.
    assert api(world.liaison).get(f"/third-party-complaints/{report_id}").get_json()["decision_reason"] == reason
    login(world.liaison)
    page = client.get(f"/third-party/{report_id}").get_data(as_text=True)
    assert "Declined" in page and reason in page


def test_opening_an_investigation_needs_a_case_number_or_one_of_the_agencys_complaints(
        api, world, make_complaint):
    report_id = api(world.liaison).post("/third-party-complaints", json=REPORT).get_json()["id"]
    theirs = make_complaint(world.other_investigator)
    ours = make_complaint(world.investigator)
    supervisor = api(world.supervisor)
    path = f"/third-party-complaints/{report_id}/decision"
    missing = supervisor.post(path, json={"decision": "investigate"})
    assert set(missing.get_json()["error"]["fields"]) == {"case_reference"}
    foreign = supervisor.post(path, json={"decision": "investigate", "linked_complaint_id": theirs.id})
    assert set(foreign.get_json()["error"]["fields"]) == {"linked_complaint_id"}
    opened = supervisor.post(path, json={"decision": "investigate", "linked_complaint_id": ours.id,
                                         "case_reference": "WC-2026-114"})
    assert opened.status_code == 200
    assert (opened.get_json()["status"], opened.get_json()["linked_complaint_id"]) == ("investigating", ours.id)


def test_pages_file_list_acknowledge_and_decide(client, login, post_form, world, session):
    login(world.liaison)
    form = {**{k: str(v) for k, v in REPORT.items() if k not in ("violation_types", "can_connect_workers")},
            "violation_types": ["wage_theft"], "can_connect_workers": "y"}
    filed = post_form("/third-party/new", "/third-party/new", form)
    assert filed.status_code == 302
    report_id = int(filed.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    empty = post_form("/third-party/new", "/third-party/new", {"description": "x"})
    assert empty.status_code == 422 and "This field is required." in empty.get_data(as_text=True)
    with db_read() as s:
        assert s.scalar(select(func.count()).select_from(ThirdPartyReport)) == 1
        report = s.get(ThirdPartyReport, report_id)
    assert report.can_connect_workers and report.employer_key == "acme packing"
    post_form("/account", "/logout", {})

    login(world.admin)
    listing = client.get("/third-party/?status=received").get_data(as_text=True)
    assert "Acme Packing, LLC" in listing and "Worker Center" in listing
    assert "Acme Packing" not in client.get("/third-party/?status=declined").get_data(as_text=True)
    page = f"/third-party/{report_id}"
    assert post_form(page, f"{page}/acknowledge", {}).status_code == 302
    assert post_form(page, f"{page}/decision", {"decision": "decline"}).status_code == 422
    assert post_form(page, f"{page}/decision", {"decision": "queue", "reason": "Sweep in the spring."}).status_code == 302
    assert "Queued for strategic enforcement" in client.get(page).get_data(as_text=True)


def test_the_api_lists_a_page_at_a_time(api, world):
    liaison = api(world.liaison)
    ids = [liaison.post("/third-party-complaints", json={**REPORT, "employer_name": f"Employer {i}"}).get_json()["id"]
           for i in range(5)]
    seen, path = [], "/third-party-complaints?limit=2"
    while path:
        page = liaison.get(path).get_json()
        assert page["total"] == 5
        seen += [item["id"] for item in page["items"]]
        path = page["next"] and page["next"].split("/api/v1", 1)[1]
    assert seen == sorted(ids, reverse=True)
    # Another partner sees none of them.
    assert api(world.other_liaison).get("/third-party-complaints").get_json()["total"] == 0
