"""The JSON API for complaints and notices, as CONTRACT.md describes it."""
from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from coenforce.complaints.models import Complaint
from coenforce.complaints.schemas import AssignIn
from coenforce.complaints.service import assign
from coenforce.escalation.models import Deadline
from coenforce.notify.models import Notice
from coenforce.openapi import document

from tests.conftest import START, db_read, statements

VALID = {"employer_name": "Delta Poultry", "retaliation_types": ["immigration_threat", "termination"],
         "description": "Fired two days after asking about overtime; told ICE would be called."}


def counts():
    """Rows of each kind as committed now (a session of its own)."""
    with db_read() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Complaint, Deadline, Notice))


def response_schema(path, method, status):
    """The documented schema of a response, for checking what the API returns."""
    doc = document()
    content = doc["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
    return {**content, "components": doc["components"]}


def assert_documented(response, path, method):
    Draft202012Validator(response_schema(path, method, response.status_code)).validate(response.get_json())


def test_file_a_complaint_and_read_its_clock(world, api):
    caller = api(world.investigator)
    created = caller.post("/complaints", json={**VALID, "received_at": "2026-03-02T08:30:00-08:00",
                                               "workers_affected": 3, "language": "es"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert_documented(created, "/complaints", "post")
    assert body["status"] == "open"
    assert body["received_at"] == "2026-03-02T16:30:00Z"
    assert body["clock"]["due_at"] == "2026-03-04T16:30:00Z"
    assert body["clock"]["state"] == "running" and body["clock"]["stopped_at"] is None
    shown = caller.get(f"/complaints/{body['id']}")
    assert shown.status_code == 200
    assert_documented(shown, "/complaints/{id}", "get")
    assert shown.get_json()["retaliation_types"] == ["immigration_threat", "termination"]
    assert shown.get_json()["actions"] == []


@pytest.mark.parametrize("filer", ["investigator", "liaison"])
def test_the_filing_answer_is_what_reading_the_complaint_gives(app, world, api, filer):
    # Filing writes its rows and builds its answer without reading them back: the
    # answer must still be exactly what the database then holds.
    caller = api(getattr(world, filer))
    body = {**VALID, "retaliation_types": ["termination", "immigration_threat"],
            **({"shared_with": [world.partner.id]} if filer == "investigator" else {})}
    with statements(app) as sent:
        created = caller.post("/complaints", json=body)
    read = [statement for statement in sent if statement.lstrip().upper().startswith("SELECT")]
    assert created.status_code == 201, created.get_json()
    new_rows = ("FROM complaints", "FROM complaint_retaliation_types", "FROM complaint_shares", "FROM deadlines")
    assert not [s for s in read if any(table in s for table in new_rows)], read
    shown = caller.get(f"/complaints/{created.get_json()['id']}")
    assert created.get_json() == shown.get_json()
    assert shown.get_json()["shared_with"] == [world.partner.id]
    assert shown.get_json()["retaliation_types"] == ["immigration_threat", "termination"]


def test_a_list_item_is_what_reading_the_complaint_gives(world, api, session, frozen):
    # List items are written straight from their rows (schemas.row_serializer),
    # a complaint read alone from its validated model: the two must agree.
    caller = api(world.investigator)
    complaint_id = caller.post("/complaints", json={**VALID, "shared_with": [world.partner.id]}).get_json()["id"]
    frozen.advance(hours=1)
    # Both at the same moment: each view shows them in the order they were recorded.
    for action in ({"type": "note", "note": "Llamó el trabajador."},
                   {"type": "attorney_list_provided", "language": "es"}):
        assert caller.post(f"/complaints/{complaint_id}/actions", json=action).status_code == 201
    assign(session, world.supervisor, session.get(Complaint, complaint_id), AssignIn(assignee_id=world.investigator.id))
    session.commit()
    frozen.advance(minutes=5)
    listed = caller.get("/complaints")
    assert_documented(listed, "/complaints", "get")
    [item] = listed.get_json()["items"]
    shown = caller.get(f"/complaints/{complaint_id}").get_json()
    del shown["damages"]
    assert item == shown
    assert item["assignee_name"] and item["shared_with"] == [world.partner.id]
    assert item["attorney_list"]["language"] == "es" and [a["type"] for a in item["actions"]] == [
        "note", "attorney_list_provided"]
    assert item["actions"][0]["recorded_by"] == world.investigator.id


def test_actions_stop_the_clock_only_when_qualifying(world, api, frozen):
    caller = api(world.investigator)
    complaint_id = caller.post("/complaints", json=VALID).get_json()["id"]
    frozen.advance(hours=2)
    note = caller.post(f"/complaints/{complaint_id}/actions", json={"type": "note", "note": "Called back."})
    assert note.status_code == 201 and note.get_json()["clock"]["state"] == "running"
    frozen.advance(hours=1)
    act = caller.post(f"/complaints/{complaint_id}/actions",
                      json={"type": "employer_contacted", "taken_at": "2026-03-02T19:30:00+00:00"})
    assert act.status_code == 201
    assert_documented(act, "/complaints/{id}/actions", "post")
    clock = act.get_json()["clock"]
    assert clock["state"] == "met" and clock["stopped_at"] == "2026-03-02T19:30:00Z"
    assert [a["type"] for a in act.get_json()["actions"]] == ["note", "employer_contacted"]
    assert [a["qualifying"] for a in act.get_json()["actions"]] == [False, True]


def test_list_filters_by_clock_state(world, api, make_complaint, session, frozen):
    caller = api(world.investigator)
    late = make_complaint(world.investigator, employer_name="Late Co", received_at=START - timedelta(hours=60))
    met = make_complaint(world.investigator, employer_name="Met Co")
    running = make_complaint(world.investigator, employer_name="Running Co")
    caller.post(f"/complaints/{met.id}/actions", json={"type": "site_visit"})
    ids = {state: [c["id"] for c in caller.get(f"/complaints?state={state}").get_json()["items"]]
           for state in ("running", "met", "breached")}
    assert ids == {"running": [running.id], "met": [met.id], "breached": [late.id]}
    assert caller.get("/complaints?state=late").status_code == 422
    assert caller.get("/complaints?employer=a%00b").status_code == 422
    by_employer = caller.get("/complaints?employer=late").get_json()["items"]
    assert [c["employer_name"] for c in by_employer] == ["Late Co"]


def test_malformed_json_is_400_and_writes_nothing(world, api, session):
    caller = api(world.investigator)
    before = counts()
    response = caller.post("/complaints", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert counts() == before


@pytest.mark.parametrize("body, fields", [
    ({}, {"employer_name", "retaliation_types", "description"}),
    ({**VALID, "retaliation_types": ["tax_audit"]}, {"retaliation_types"}),
    ({**VALID, "retaliation_types": []}, {"retaliation_types"}),
    ({**VALID, "employer_name": "A" * 201}, {"employer_name"}),
    ({**VALID, "description": "nul\x00byte"}, {"description"}),
    ({**VALID, "received_at": "2026-03-09T00:00:00Z"}, {"received_at"}),
    ({**VALID, "received_at": "yesterday"}, {"received_at"}),
    ({**VALID, "received_at": "2026-03-01T10:00:00"}, {"received_at"}),
    ({**VALID, "received_at": "0001-01-01T01:00:00+03:04"}, {"received_at"}),
    ({**VALID, "received_at": "1969-12-31T23:59:59Z"}, {"received_at"}),
    ({**VALID, "workers_affected": 0}, {"workers_affected"}),
    ({**VALID, "workers_affected": "many"}, {"workers_affected"}),
    ({**VALID, "shared_with": [99999]}, {"shared_with"}),
    ({**VALID, "immigration_status": "undocumented"}, {"immigration_status"}),
    ({**VALID, "employer_name": 7, "language": "xx"}, {"employer_name", "language"}),
])
def test_invalid_fields_are_422_naming_each_and_write_nothing(world, api, session, body, fields):
    caller = api(world.investigator)
    before = counts()
    response = caller.post("/complaints", json=body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == fields
    assert counts() == before


def test_invalid_action_is_422_and_leaves_the_clock_running(world, api, session):
    caller = api(world.investigator)
    complaint_id = caller.post("/complaints", json=VALID).get_json()["id"]
    for body, field in [({"type": "coffee"}, "type"), ({"type": "site_visit", "taken_at": "2026-03-01T00:00:00Z"},
                                                        "taken_at"), ({"note": "x"}, "type")]:
        response = caller.post(f"/complaints/{complaint_id}/actions", json=body)
        assert response.status_code == 422 and field in response.get_json()["error"]["fields"]
    assert caller.get(f"/complaints/{complaint_id}").get_json()["clock"]["state"] == "running"


def test_tokens_are_required(client, world):
    assert client.get("/api/v1/complaints").status_code == 401
    bad = client.get("/api/v1/complaints", headers={"Authorization": "Bearer coe_not-a-token"})
    assert bad.status_code == 401 and bad.get_json()["error"]["code"] == "unauthorized"
    assert bad.headers["WWW-Authenticate"] == "Bearer"


def test_a_session_cookie_does_not_open_the_api(client, login, world):
    """The API takes bearer tokens only, so a cookie (and so CSRF) cannot drive it."""
    login(world.investigator)
    assert client.post("/api/v1/complaints", json=VALID).status_code == 401


def test_other_tenants_records_are_404(world, api, make_complaint):
    theirs = make_complaint(world.other_investigator)
    caller = api(world.investigator)
    assert caller.get(f"/complaints/{theirs.id}").status_code == 404
    assert caller.post(f"/complaints/{theirs.id}/actions", json={"type": "site_visit"}).status_code == 404
    assert caller.get("/complaints/999999").status_code == 404


def test_each_caller_lists_its_own_scope_with_the_same_statements(world, api, make_complaint):
    # A shape of list is built once and reused with each caller's values: callers of
    # two agencies and a partner, one after the other, each get only their own.
    ours = make_complaint(world.investigator, shared_with=[world.partner.id])
    theirs = make_complaint(world.other_investigator, shared_with=[world.other_partner.id])
    for _round in range(2):
        for user, expected in ((world.investigator, [ours.id]), (world.other_investigator, [theirs.id]),
                               (world.liaison, [ours.id]), (world.other_liaison, [theirs.id])):
            body = api(user).get("/complaints?state=running").get_json()
            assert ([c["id"] for c in body["items"]], body["total"]) == (expected, 1)


def test_a_list_statement_run_without_its_scope_fails_instead_of_showing_everything(world, session,
                                                                                   make_complaint):
    from sqlalchemy.exc import ArgumentError, StatementError

    from coenforce.complaints import service
    from coenforce.complaints.schemas import ComplaintFilter

    make_complaint(world.investigator)
    scope, names, params = service._filters(world.investigator, ComplaintFilter())
    assert params == {"scope_org": world.agency.id}
    with pytest.raises((StatementError, ArgumentError), match="scope_org"):
        session.execute(service._count_statement(scope, names), {})


def test_partner_sees_only_what_it_filed_or_was_shared(world, api, make_complaint):
    shared = make_complaint(world.investigator, shared_with=[world.partner.id])
    make_complaint(world.investigator)  # not shared
    liaison = api(world.liaison)
    filed = liaison.post("/complaints", json=VALID)
    assert filed.status_code == 201
    assert filed.get_json()["shared_with"] == [world.partner.id]
    assert filed.get_json()["agency_id"] == world.agency.id
    visible = sorted(c["id"] for c in liaison.get("/complaints").get_json()["items"])
    assert visible == sorted([shared.id, filed.get_json()["id"]])
    assert liaison.post(f"/complaints/{shared.id}/actions", json={"type": "note"}).status_code == 403


def test_organizer_sees_no_complaint(world, api, make_complaint):
    complaint = make_complaint(world.investigator, shared_with=[world.partner.id])
    organizer = api(world.organizer)
    assert organizer.get("/complaints").get_json() == {"items": [], "total": 0, "next": None}
    assert organizer.get(f"/complaints/{complaint.id}").status_code == 404
    assert organizer.post("/complaints", json=VALID).status_code == 403


def test_notices_for_admins_and_supervisors_only(world, api, make_complaint):
    mine = make_complaint(world.investigator)
    make_complaint(world.other_investigator)
    supervisor = api(world.supervisor)
    response = supervisor.get(f"/notices?subject_type=complaint&subject_id={mine.id}")
    assert response.status_code == 200
    assert_documented(response, "/notices", "get")
    items = response.get_json()["items"]
    assert [(n["recipient"], n["kind"], n["status"]) for n in items] == [
        (world.supervisor.email, "complaint_response.intake", "pending")]
    assert api(world.admin).get("/notices").get_json()["items"] == items  # the other agency's are not here
    assert api(world.investigator).get("/notices").status_code == 403
    assert api(world.liaison).get("/notices").status_code == 403
    assert supervisor.get("/notices?subject_type=planet").status_code == 422
    assert supervisor.get("/notices?subject_id=abc").status_code == 422


def test_openapi_document_describes_every_endpoint(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.")
    for path, method in [("/complaints", "post"), ("/complaints", "get"), ("/complaints/{id}", "get"),
                         ("/complaints/{id}/actions", "post"), ("/notices", "get")]:
        operation = doc["paths"][path][method]
        assert operation["responses"] and operation["summary"]
    Draft202012Validator.check_schema({"$defs": doc["components"]["schemas"]})
