"""The complaint pages: filing, the clock on screen, actions, damages,
assignment, closing, CSRF and who may see what."""
from sqlalchemy import func, select

from coenforce.complaints.models import Complaint

from tests.conftest import csrf_token, db_read, db_write

NNBSP = "\u202f"  # CLDR puts a narrow no-break space before AM/PM
FORM = {"employer_name": "Golden Bakery", "retaliation_types": ["immigration_threat", "reduced_hours"],
        "description": "Manager said he would report us after we asked for our wages.",
        "workers_affected": "4", "language": "es", "received_at": ""}


def count(model=Complaint):
    """Rows of `model` as committed now (a session of its own)."""
    with db_read() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_file_a_complaint_and_see_its_clock_in_the_agency_zone(client, login, post_form, world, session):
    login(world.investigator)
    response = post_form("/complaints/new", "/complaints/new", FORM)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True).replace(NNBSP, " ")
    assert "Golden Bakery" in page
    assert "48 h 00 min" in page
    assert "Mar 4, 2026, 9:00 AM PST" in page  # 17:00 UTC + 48 h, in Los Angeles
    assert "Not yet given" in page
    assert count() == 1


def test_form_errors_are_shown_and_nothing_is_written(client, login, post_form, world, session):
    login(world.investigator)
    response = post_form("/complaints/new", "/complaints/new",
                         {**FORM, "employer_name": "", "retaliation_types": [], "description": "a\x00b"})
    assert response.status_code == 422
    html = response.get_data(as_text=True).replace(NNBSP, " ")
    assert "This field is required." in html and "Choose at least one." in html
    assert "Contains characters that are not allowed." in html
    assert count() == 0


def test_a_form_post_without_csrf_token_is_refused(client, login, world, session):
    login(world.investigator)
    response = client.post("/complaints/new", data=FORM)
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True).replace(NNBSP, " ")
    assert count() == 0


def test_actions_attorney_list_and_clock_met(client, login, post_form, world, make_complaint, session):
    complaint = make_complaint(world.investigator, language="es")
    login(world.investigator)
    page = f"/complaints/{complaint.id}"
    post_form(page, f"{page}/actions", {"type": "attorney_list_provided", "language": "", "note": "", "taken_at": ""})
    html = client.get(page).get_data(as_text=True).replace(NNBSP, " ")
    assert "Given Mar 2, 2026, 9:00 AM PST, in Spanish" in html
    assert "48 h 00 min" in html, "the attorney list is not a response: the clock runs on"
    post_form(page, f"{page}/actions", {"type": "anti_retaliation_notice", "note": "Sent", "taken_at": ""})
    html = client.get(page).get_data(as_text=True).replace(NNBSP, " ")
    assert "First qualifying response" in html and "clock-met" in html


def test_damages_show_the_gap_to_the_statutory_maximum(client, login, post_form, world, make_complaint):
    complaint = make_complaint(world.investigator)
    login(world.investigator)
    page = f"/complaints/{complaint.id}"
    response = post_form(page, f"{page}/damages", {
        "basis": "Labor Code 98.6(b)(3) civil penalty", "workers": "4", "violations": "1",
        "claimed": "20000", "statutory_max": "40,000.00", "assessed": "10000", "recovered": "2500.50"})
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True).replace(NNBSP, " ")
    assert "$40,000.00" in html and "$2,500.50" in html
    assert 'data-testid="unassessed">$30,000.00' in html
    bad = post_form(page, f"{page}/damages", {"basis": "", "claimed": "-5", "assessed": "1.234"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True).replace(NNBSP, " ")
    assert "Must be an amount between 0 and 1,000,000,000." in text and "At most two decimal places." in text


def test_supervisor_assigns_and_closes(client, login, post_form, world, make_complaint, session):
    complaint = make_complaint(world.investigator)
    login(world.supervisor)
    page = f"/complaints/{complaint.id}"
    assert post_form(page, f"{page}/assign", {"assignee_id": str(world.investigator.id)}).status_code == 302
    assert post_form(page, f"{page}/assign", {"assignee_id": str(world.other_investigator.id)}).status_code == 422
    assert post_form(page, f"{page}/close", {"note": ""}).status_code == 422
    assert post_form(page, f"{page}/close", {"note": "Employer reinstated the worker."}).status_code == 302
    with db_read() as s:
        closed = s.get(Complaint, complaint.id)
    assert closed.assignee_id == world.investigator.id and closed.status == "closed"
    refused = post_form(page, f"{page}/actions", {"type": "note", "note": "late"})
    assert refused.status_code == 409


def test_investigator_may_take_but_not_assign_others(client, login, post_form, world, make_complaint):
    complaint = make_complaint(world.investigator)
    login(world.investigator)
    page = f"/complaints/{complaint.id}"
    assert post_form(page, f"{page}/assign", {"assignee_id": str(world.admin.id)}).status_code == 403
    assert post_form(page, f"{page}/take", {}).status_code == 302
    assert "assigned to you" in client.get(page, follow_redirects=True).get_data(as_text=True).replace(NNBSP, " ")


def test_list_filters(client, login, world, make_complaint):
    make_complaint(world.investigator, employer_name="Alpha Farms")
    make_complaint(world.investigator, employer_name="Beta Foods")
    login(world.investigator)
    html = client.get("/complaints/?employer=alpha").get_data(as_text=True).replace(NNBSP, " ")
    assert "Alpha Farms" in html and "Beta Foods" not in html
    assert client.get("/complaints/?employer=a%00b").status_code == 200  # the bad term is ignored
    html = client.get("/complaints/?state=met").get_data(as_text=True).replace(NNBSP, " ")
    assert "No complaints match." in html
    html = client.get("/complaints/?assignee=none").get_data(as_text=True).replace(NNBSP, " ")
    assert "Alpha Farms" in html and "Beta Foods" in html


def test_partner_liaison_sees_only_shared_complaints(client, login, world, make_complaint):
    shared = make_complaint(world.investigator, employer_name="Shared Co", shared_with=[world.partner.id])
    hidden = make_complaint(world.investigator, employer_name="Hidden Co")
    login(world.liaison)
    html = client.get("/complaints/").get_data(as_text=True).replace(NNBSP, " ")
    assert "Shared Co" in html and "Hidden Co" not in html
    assert client.get(f"/complaints/{shared.id}").status_code == 200
    assert client.get(f"/complaints/{hidden.id}").status_code == 404


def test_other_agency_gets_404(client, login, world, make_complaint):
    complaint = make_complaint(world.investigator)
    login(world.other_investigator)
    assert client.get(f"/complaints/{complaint.id}").status_code == 404
    token = csrf_token(client, "/complaints/")
    assert client.post(f"/complaints/{complaint.id}/actions",
                       data={"type": "site_visit", "csrf_token": token}).status_code == 404


def test_organizer_sees_aggregates_never_cases(client, login, world, make_complaint):
    make_complaint(world.investigator, employer_name="Secret Employer", shared_with=[world.partner.id])
    login(world.organizer)
    assert client.get("/complaints/").status_code == 403
    home = client.get("/").get_data(as_text=True).replace(NNBSP, " ")
    assert world.agency.name in home and "Secret Employer" not in home


def test_outbox_for_agency_admins(client, login, post_form, world, make_complaint, session):
    make_complaint(world.investigator)
    login(world.admin)
    html = client.get("/outbox/").get_data(as_text=True).replace(NNBSP, " ")
    assert "New retaliation complaint" in html and world.supervisor.email in html
    assert "Waiting to be sent" in html
    from coenforce.notify.models import Notice
    with db_write() as s:
        notice = s.scalars(select(Notice)).one()
        notice.status = "dead"
    assert post_form("/outbox/", f"/outbox/{notice.id}/requeue", {}).status_code == 302
    with db_read() as s:
        assert s.get(Notice, notice.id).status == "pending"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(world.supervisor)
    assert client.get("/outbox/").status_code == 403
