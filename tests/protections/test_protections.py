"""Immigration protections on a case: T and U visa certification on the legal
deadline (90 days; 14 business days in removal proceedings, over weekends and
the agency's holidays), moving a running deadline, the rungs at their times,
Statement of Interest letters, deferred action renewal reminders 120 days
before expiry; bad input; who may read and act."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from coenforce import escalation
from coenforce.audit.models import AuditEntry
from coenforce.complaints.schemas import AssignIn
from coenforce.complaints.service import assign
from coenforce.escalation.models import Deadline, EscalationStep, Holiday
from coenforce.notify.models import Notice
from coenforce.protections import service
from coenforce.protections.models import CertificationRequest, DeferredActionGrant, InterestLetter
from coenforce.protections.schemas import (
    CertificationDecisionIn, CertificationIn, GrantIn, HolidayIn, LetterIn, LetterSentIn, SettingsIn,
)
from coenforce.schemas import parse

from tests.conftest import START, db_read, db_write, engine_ticks


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def case(world, make_complaint, session):
    """A complaint of the agency, shared with its partner, assigned to the investigator."""
    complaint = make_complaint(world.investigator, shared_with=[world.partner.id])
    assign(session, world.supervisor, complaint, AssignIn(assignee_id=world.investigator.id))
    session.commit()
    return complaint


def certify(session, user, complaint, **data):
    record = service.request_certification(session, user, complaint, parse(CertificationIn, {
        "certification_form": "i918b", "requested_by": "Valley Legal Aid", **data}))
    session.commit()
    return record


def clock_of(subject_type, subject_id):
    with db_read() as s:
        return s.scalar(select(Deadline).where(Deadline.subject_type == subject_type,
                                               Deadline.subject_id == subject_id))


def notices(subject_id, kind=None):
    with db_read() as s:
        query = select(Notice.kind, Notice.recipient_id).where(Notice.subject_id == subject_id,
                                                               Notice.kind.startswith("protection_"))
        if kind:
            query = query.where(Notice.kind == kind)
        return sorted(s.execute(query).all())


def tick_at(frozen, at):
    frozen.set(at)
    with db_write() as s:
        return escalation.tick(s, at)


# ----------------------------------------------------------------- the legal deadline

def test_a_certification_request_is_due_at_the_end_of_the_ninetieth_day(world, case, session):
    record = certify(session, world.investigator, case)   # Monday 2 March 2026, 09:00 in Los Angeles
    deadline = clock_of("certification_request", record.id)
    assert deadline.kind == "protection_certification" and deadline.starts_at == START
    assert deadline.due_at == utc(2026, 6, 1, 6, 59, 59)   # Sunday 31 May, 23:59:59 PDT
    assert deadline.path == f"/complaints/{case.id}/protections"


@pytest.mark.app_config(PROTECTION_CERTIFICATION_DAYS=30)
def test_the_default_target_comes_from_the_configuration_and_an_agency_sets_its_own(world, case, session):
    assert clock_of("certification_request", certify(session, world.investigator, case).id).due_at \
        == utc(2026, 4, 2, 6, 59, 59)   # Wednesday 1 April, 23:59:59 PDT
    service.update_targets(session, world.admin, SettingsIn(certification_days=60, removal_business_days=10,
                                                            letter_business_days=5))
    session.commit()
    assert clock_of("certification_request", certify(session, world.investigator, case).id).due_at \
        == utc(2026, 5, 2, 6, 59, 59)


def test_in_removal_proceedings_the_deadline_is_14_business_days_over_weekends_and_holidays(
        world, case, session, frozen):
    session.add(Holiday(organization_id=world.agency.id, date=date(2026, 3, 31), name="César Chávez Day",
                        created_at=START))
    session.commit()
    frozen.set(utc(2026, 3, 27, 17))   # Friday 10:00 PDT
    record = certify(session, world.investigator, case, removal_proceedings=True)
    # Mon 30 (1), Tue 31 skipped, Wed 1 - Fri 3 April (4), 6-10 (9), 13-17 (14): Friday 17 April, 23:59:59 PDT.
    assert clock_of("certification_request", record.id).due_at == utc(2026, 4, 18, 6, 59, 59)
    other = certify(session, world.other_investigator, _other_case(session, world), removal_proceedings=True)
    # The other agency (New York) has no holiday that day: Thursday 16 April, 23:59:59 EDT.
    assert clock_of("certification_request", other.id).due_at == utc(2026, 4, 17, 3, 59, 59)


def _other_case(session, world):
    from coenforce.complaints.schemas import ComplaintIn
    from coenforce.complaints.service import open_complaint
    complaint = open_complaint(session, world.other_investigator, parse(ComplaintIn, {
        "employer_name": "Elsewhere Inc", "retaliation_types": ["immigration_threat"], "description": "Fired."}))
    session.commit()
    return complaint


def test_marking_removal_proceedings_later_moves_the_deadline_to_the_earlier_of_the_two(
        world, case, session, frozen, client, login, post_form):
    record = certify(session, world.investigator, case)
    frozen.set(utc(2026, 3, 12, 17))   # Thursday
    login(world.investigator)
    page = f"/complaints/{case.id}/protections"
    response = post_form(page, f"/protections/certifications/{record.id}/removal-proceedings", {})
    assert response.status_code == 302
    # 14 business days from Thursday 12 March: Wednesday 1 April, 23:59:59 PDT (before 31 May).
    deadline = clock_of("certification_request", record.id)
    assert deadline.due_at == utc(2026, 4, 2, 6, 59, 59)
    assert deadline.next_rung_at == deadline.due_at - timedelta(hours=168)
    with db_read() as s:
        assert s.get(CertificationRequest, record.id).removal_proceedings is True
    # Marked twice: a conflict, nothing moves.
    assert post_form(page, f"/protections/certifications/{record.id}/removal-proceedings", {}).status_code == 409


# ----------------------------------------------------------------- rungs

def test_the_certification_rungs_fire_at_their_times_to_the_assignee_and_supervisors(world, case, session, frozen):
    record = certify(session, world.investigator, case, removal_proceedings=True)
    due = clock_of("certification_request", record.id).due_at   # 14 business days from Monday 2 March
    assert due == utc(2026, 3, 21, 6, 59, 59)                    # Friday 20 March, 23:59:59 PDT
    kind = "protection_certification"
    tick_at(frozen, due - timedelta(hours=168, seconds=1))
    assert notices(record.id) == []
    tick_at(frozen, due - timedelta(hours=168))
    assert notices(record.id) == [(f"{kind}.reminder", world.investigator.id)]
    tick_at(frozen, due - timedelta(hours=48))
    assert notices(record.id, f"{kind}.warning") == sorted(
        [(f"{kind}.warning", world.investigator.id), (f"{kind}.warning", world.supervisor.id)])
    tick_at(frozen, due)
    assert {r for _k, r in notices(record.id, f"{kind}.breach")} == {
        world.investigator.id, world.supervisor.id, world.admin.id}
    tick_at(frozen, due + timedelta(hours=24))
    assert len(notices(record.id, f"{kind}.overdue")) == 2
    # Another agency's people are never told.
    assert not {r for _k, r in notices(record.id)} & {world.other_investigator.id, world.other_supervisor.id}


def test_deciding_stops_the_clock_and_declining_needs_a_reason(world, case, session, frozen):
    record = certify(session, world.investigator, case)
    with pytest.raises(Exception) as failure:
        service.decide_certification(session, world.investigator, record,
                                     CertificationDecisionIn(decision="declined"))
    assert "note" in failure.value.fields
    session.rollback()
    service.decide_certification(session, world.investigator, record,
                                 CertificationDecisionIn(decision="certified", note="Signed Supplement B."))
    session.commit()
    deadline = clock_of("certification_request", record.id)
    assert deadline.stopped_at == START and deadline.state_at(START) == "met"
    tick_at(frozen, deadline.due_at + timedelta(days=3))
    assert notices(record.id) == []


def test_rescheduling_keeps_fired_rungs_and_a_rung_now_past_fires_at_the_next_tick(world, case, session, frozen):
    record = certify(session, world.investigator, case)   # due 1 June 06:59:59Z
    kind = "protection_certification"
    tick_at(frozen, utc(2026, 5, 25, 12))                 # the reminder (due - 7 days) fires
    assert notices(record.id) == [(f"{kind}.reminder", world.investigator.id)]
    # The due time moves to 27 May: the reminder stays fired; the warning (due - 48 h) is now past.
    with db_write() as s:
        deadline = s.get(Deadline, clock_of("certification_request", record.id).id)
        escalation.reschedule(s, deadline, utc(2026, 5, 27, 6, 59, 59))
    deadline = clock_of("certification_request", record.id)
    assert deadline.position == 1 and deadline.next_rung_at == utc(2026, 5, 25, 6, 59, 59)
    tick_at(frozen, utc(2026, 5, 25, 12, 0, 30))
    assert [k for k, _r in notices(record.id)].count(f"{kind}.reminder") == 1
    assert len(notices(record.id, f"{kind}.warning")) == 2
    tick_at(frozen, utc(2026, 5, 27, 7))
    assert len(notices(record.id, f"{kind}.breach")) == 3
    with db_read() as s:
        assert s.scalar(select(func.count()).select_from(EscalationStep)
                        .where(EscalationStep.deadline_id == deadline.id)) == 3


@pytest.mark.app_config(PROTECTION_REMOVAL_BUSINESS_DAYS=3)
def test_a_rung_already_past_after_the_switch_fires_at_the_next_tick(world, case, session, frozen):
    record = certify(session, world.investigator, case)
    frozen.set(utc(2026, 3, 20, 17))                      # Friday
    service.note_removal_proceedings(session, world.investigator, record)
    session.commit()
    deadline = clock_of("certification_request", record.id)
    assert deadline.due_at == utc(2026, 3, 26, 6, 59, 59)   # Wednesday 25 March, 23:59:59 PDT
    assert deadline.next_rung_at < frozen()                # the reminder's time has passed
    tick_at(frozen, frozen())
    assert notices(record.id) == [("protection_certification.reminder", world.investigator.id)]


# ----------------------------------------------------------------- Statement of Interest

def test_a_statement_of_interest_is_due_in_ten_business_days_and_sending_it_stops_the_clock(
        world, case, session, frozen):
    letter = service.request_letter(session, world.investigator, case, LetterIn(requested_by="Worker Center"))
    session.commit()
    deadline = clock_of("interest_letter", letter.id)
    assert deadline.due_at == utc(2026, 3, 17, 6, 59, 59)   # Monday 16 March, 23:59:59 PDT
    tick_at(frozen, deadline.due_at - timedelta(hours=48))
    assert notices(letter.id) == [("protection_interest_letter.reminder", world.investigator.id)]
    frozen.set(utc(2026, 3, 16, 17))
    with db_write() as s:
        service.letter_sent(s, world.investigator, s.get(InterestLetter, letter.id),
                            LetterSentIn(sent_to="Valley Legal Aid"))
    deadline = clock_of("interest_letter", letter.id)
    assert deadline.state_at(frozen()) == "met"
    tick_at(frozen, deadline.due_at + timedelta(days=5))
    assert notices(letter.id) == [("protection_interest_letter.reminder", world.investigator.id)]


# ----------------------------------------------------------------- deferred action

def test_the_renewal_reminder_goes_out_exactly_120_days_before_expiry_then_at_expiry(world, case, session, frozen):
    grant = service.record_grant(session, world.investigator, case, GrantIn(
        granted_on=date(2024, 9, 30), expires_on=date(2026, 9, 30), note="Two-year grant."))
    session.commit()
    deadline = clock_of("deferred_action_grant", grant.id)
    assert deadline.due_at == utc(2026, 9, 30, 16)          # 09:00 PDT on the expiry date
    renewal = deadline.due_at - timedelta(days=120)
    assert renewal == utc(2026, 6, 2, 16)
    tick_at(frozen, renewal - timedelta(seconds=1))
    assert notices(grant.id) == []
    tick_at(frozen, renewal)
    kind = "protection_deferred_action"
    assert notices(grant.id) == sorted([(f"{kind}.renewal", world.investigator.id),
                                        (f"{kind}.renewal", world.supervisor.id)])
    tick_at(frozen, deadline.due_at)
    assert len(notices(grant.id, f"{kind}.expiry")) == 2


def test_a_grant_expiring_within_120_days_is_reminded_at_once_and_renewal_stops_it(world, case, session, frozen):
    grant = service.record_grant(session, world.investigator, case, GrantIn(
        granted_on=date(2024, 6, 1), expires_on=date(2026, 6, 1)))
    session.commit()
    assert notices(grant.id) == []  # the tick fires the reminder already due, within a second
    engine_ticks()
    reminded = notices(grant.id)
    assert reminded == sorted([("protection_deferred_action.renewal", world.investigator.id),
                               ("protection_deferred_action.renewal", world.supervisor.id)])
    service.renewal_filed(session, world.investigator, grant)
    session.commit()
    tick_at(frozen, utc(2026, 6, 2))
    assert notices(grant.id) == reminded


# ----------------------------------------------------------------- pages, bad input, access

def count(model):
    with db_read() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("data, field", [
    ({"requested_by": "Legal Aid"}, "certification_form"),
    ({"certification_form": "i914b"}, "requested_by"),
    ({"certification_form": "i797", "requested_by": "Legal Aid"}, "certification_form"),
    ({"certification_form": "i914b", "requested_by": "Legal Aid", "requested_at": "2027-01-01T10:00"}, "requested_at"),
    ({"certification_form": "i914b", "requested_by": "Legal\x00Aid"}, "requested_by"),
])
def test_a_bad_certification_request_is_a_422_naming_the_field_and_writes_nothing(
        world, case, client, login, post_form, data, field):
    login(world.investigator)
    page = f"/complaints/{case.id}/protections"
    response = post_form(page, f"{page}/certifications", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}"' in html and 'class="error"' in html
    assert count(CertificationRequest) == 0 and count(Deadline) == 1   # the complaint's own clock only


@pytest.mark.parametrize("data, message", [
    ({"granted_on": "2025-01-01", "expires_on": "2024-12-31"}, "Must be after the grant date."),
    ({"granted_on": "2024-01-01", "expires_on": "2026-02-01"}, "This grant has expired"),
    ({"granted_on": "2027-01-01", "expires_on": "2028-01-01"}, "Cannot be in the future."),
    ({"granted_on": "01/02/2025", "expires_on": "2027-01-01"}, "Must be a date such as 2026-03-07."),
])
def test_a_bad_grant_is_a_422_with_the_reason_and_writes_nothing(world, case, client, login, post_form, data, message):
    login(world.investigator)
    page = f"/complaints/{case.id}/protections"
    response = post_form(page, f"{page}/grants", data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert count(DeferredActionGrant) == 0


def test_staff_act_from_the_page_and_each_view_is_audited(world, case, client, login, post_form):
    login(world.investigator)
    page = f"/complaints/{case.id}/protections"
    assert 'href="%s"' % page in client.get(f"/complaints/{case.id}").get_data(as_text=True)
    response = post_form(page, f"{page}/certifications", {
        "certification_form": "i914b", "requested_by": "Valley Legal Aid", "removal_proceedings": "y"})
    assert response.status_code == 302
    response = post_form(page, f"{page}/letters", {"requested_by": "Worker Center", "note": "For the union drive."})
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "Valley Legal Aid" in html and "In removal proceedings" in html and "For the union drive." in html
    assert "DHS stopped taking new requests" in html
    with db_read() as s:
        record = s.scalars(select(CertificationRequest)).one()
        assert record.certification_form == "i914b" and record.removal_proceedings
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "protections.view", AuditEntry.record_id == case.id)) == 3  # each page shown
    declined = post_form(page, f"/protections/certifications/{record.id}/decision", {"decision": "declined"})
    assert declined.status_code == 422 and "Say why the certification is declined." in declined.get_data(as_text=True)
    assert post_form(page, f"/protections/certifications/{record.id}/decision",
                     {"decision": "declined", "note": "Not a qualifying crime."}).status_code == 302
    with db_read() as s:
        assert s.get(CertificationRequest, record.id).decision_note == "Not a qualifying crime."


def test_the_note_is_sealed_in_the_database(world, case, session):
    letter = service.request_letter(session, world.investigator, case,
                                    LetterIn(requested_by="Worker Center", note="Canary-Zx81 sealed"))
    session.commit()
    from sqlalchemy import text
    with db_read() as s:
        raw = s.execute(text("SELECT note_enc FROM interest_letters WHERE id = :id"), {"id": letter.id}).scalar()
    assert raw and "Canary-Zx81" not in raw


def test_partner_liaisons_who_see_the_case_read_only(world, case, session, client, login, post_form):
    record = certify(session, world.investigator, case)
    login(world.liaison)
    page = f"/complaints/{case.id}/protections"
    html = client.get(page).get_data(as_text=True)
    assert "Valley Legal Aid" in html and "Record the request" not in html
    assert post_form(page, f"{page}/certifications", {
        "certification_form": "i914b", "requested_by": "X"}).status_code == 403
    assert post_form(page, f"/protections/certifications/{record.id}/decision",
                     {"decision": "certified"}).status_code == 403
    assert count(CertificationRequest) == 1


def test_another_agencys_protections_are_not_found(world, case, session, client, login, post_form):
    record = certify(session, world.investigator, case)
    login(world.other_investigator)
    assert client.get(f"/complaints/{case.id}/protections").status_code == 404
    response = post_form("/account", f"/protections/certifications/{record.id}/decision", {"decision": "certified"})
    assert response.status_code == 404
    response = post_form("/account", f"/complaints/{case.id}/protections/certifications",
                         {"certification_form": "i914b", "requested_by": "X"})
    assert response.status_code == 404
    with db_read() as s:
        assert s.get(CertificationRequest, record.id).decision is None


# ----------------------------------------------------------------- holidays and targets

def test_admins_keep_the_holiday_calendar(world, client, login, post_form):
    login(world.admin)
    response = post_form("/holidays/", "/holidays/", {"date": "2026-07-03", "name": "Independence Day (observed)"})
    assert response.status_code == 302
    again = post_form("/holidays/", "/holidays/", {"date": "2026-07-03", "name": "Twice"})
    assert again.status_code == 422 and "This day is already a holiday." in again.get_data(as_text=True)
    bad = post_form("/holidays/", "/holidays/", {"date": "July 3", "name": ""})
    assert bad.status_code == 422
    assert "Independence Day (observed)" in client.get("/holidays/").get_data(as_text=True)
    with db_read() as s:
        holiday = s.scalars(select(Holiday)).one()
    assert post_form("/holidays/", f"/holidays/{holiday.id}/remove", {}).status_code == 302
    assert count(Holiday) == 0


def test_the_holidays_command_adds_and_lists(world, runner):
    result = runner.invoke(args=["holidays", "add", "State Labor Office", "2026-11-26", "Thanksgiving"])
    assert result.exit_code == 0, result.output
    bad = runner.invoke(args=["holidays", "add", "State Labor Office", "2026-13-01", "Nope"])
    assert bad.exit_code != 0 and "date" in bad.output
    assert runner.invoke(args=["holidays", "list", "State Labor Office"]).output == "2026-11-26\tThanksgiving\n"
    assert runner.invoke(args=["holidays", "list", "Other Agency"]).output == ""
    targets = runner.invoke(args=["protections", "targets", "State Labor Office", "60", "10", "5"])
    assert targets.exit_code == 0 and '"certification_days": 60' in targets.output


def test_admins_set_the_agency_targets_on_a_page(world, client, login, post_form):
    login(world.admin)
    assert 'value="90"' in client.get("/protections/settings").get_data(as_text=True)
    bad = post_form("/protections/settings", "/protections/settings", {
        "certification_days": "0", "removal_business_days": "14", "letter_business_days": "10"})
    assert bad.status_code == 422 and "Must be at least 1." in bad.get_data(as_text=True)
    ok = post_form("/protections/settings", "/protections/settings", {
        "certification_days": "60", "removal_business_days": "10", "letter_business_days": "7"})
    assert ok.status_code == 302
    with db_read() as s:
        assert service.targets(s, world.agency.id) == service.Targets(60, 10, 7)
