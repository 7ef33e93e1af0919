"""The strategic-enforcement queue ranks employers by the evidence held, says
why on each row, groups the spellings of one employer, filters by industry
and area, and opens an investigation from a row."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from coenforce.complaints.models import Complaint
from coenforce.schemas import parse
from coenforce.thirdparty import queue, service
from coenforce.thirdparty.models import EmployerEvidence, ThirdPartyReport
from coenforce.thirdparty.schemas import DecisionIn, QueueFilter, ReportIn
from coenforce.thirdparty.types import ReportStatus

from tests.conftest import START, db_read, db_write
from tests.test_lists import statements

ROW = re.compile(r'<tr data-key="([^"]+)">')


@pytest.fixture
def report(session):
    def file(user, employer, workers=None, industry="other", area=None, **extra):
        filed = service.file_report(session, user, parse(ReportIn, {
            "employer_name": employer, "violation_types": ["wage_theft"], "description": "Seen by members.",
            "workers_affected": workers, "industry": industry, "area": area, **extra}))
        session.commit()
        return filed
    return file


@pytest.fixture
def evidence(world, make_org, make_user, partner_up, make_complaint, report, session, frozen):
    """Hand-built evidence whose order is known (scores in the comments)."""
    second_partner = make_org("partner", name="Farmworker Union")
    partner_up(world.agency, second_partner)
    second_liaison = make_user(second_partner, "liaison")
    # Valley Farms: 1 report, 5 workers, 100 days old: 10.
    frozen.set(START - timedelta(days=100))
    report(world.liaison, "Valley Farms", workers=5, industry="agriculture")
    frozen.set(START - timedelta(days=2))
    # Alpha Roofing and Bravo Builders: 1 report, 10 workers, same time: 10 + 1 + 20 = 31 each.
    report(world.liaison, "Bravo Builders", workers=10, industry="construction")
    report(world.liaison, "Alpha Roofing", workers=10, industry="construction")
    frozen.set(START - timedelta(days=1))
    # Sunrise Car Wash: 1 report, 300 workers (capped at 30 points), recent: 60.
    report(world.liaison, "Sunrise Car Wash", workers=300, industry="car_washes", area="Oakland")
    # Declined Co: its one report declined, so not in the queue.
    declined = report(world.liaison, "Declined Co", workers=50)
    service.decide(session, world.supervisor, session.get(ThirdPartyReport, declined.id),
                   DecisionIn(decision="decline", reason="Out of our jurisdiction."))
    session.commit()
    frozen.set(START)
    # Acme Packing under two spellings from two partners, and a retaliation complaint:
    # 2 reports 20 + complaint 15 + a second organization 10 + 120 workers 12 + recent 20 = 77.
    report(world.liaison, "ACME Packing, LLC", workers=40, industry="food_processing", area="Fresno")
    report(second_liaison, "Acme Packing LLC", workers=120, industry="food_processing", area="Fresno")
    make_complaint(world.investigator, employer_name="Acme  Packing", workers_affected=3)
    return world


EXPECTED = [("acme packing", 77), ("sunrise car wash", 60), ("alpha roofing", 31), ("bravo builders", 31),
            ("valley farms", 10)]


def test_employers_rank_by_evidence_with_their_reasons(evidence, session):
    page = queue.ranked(session, evidence.supervisor, QueueFilter())
    assert [(item.evidence.employer_key, item.score) for item in page.items] == EXPECTED
    assert page.total == 5
    for item in page.items:
        assert sum(reason.points for reason in item.reasons) == item.score  # the reasons explain the whole score
    acme = page.items[0]
    assert (acme.evidence.reports, acme.evidence.partners, acme.evidence.complaints, acme.evidence.workers) == (
        2, 2, 1, 120)
    assert acme.evidence.employer_name == "Acme Packing LLC"  # the latest spelling
    assert [r.text for r in acme.reasons] == ["2 third-party reports", "1 retaliation complaint",
                                              "reported by 2 different organizations", "up to 120 workers affected",
                                              "latest evidence 0 days ago"]
    # Another agency's staff see none of it; partners have no queue.
    assert queue.ranked(session, evidence.other_investigator, QueueFilter()).total == 0


def test_the_page_filters_by_industry_and_area_and_shows_why(client, login, evidence):
    login(evidence.investigator)
    html = client.get("/strategic/").get_data(as_text=True)
    assert ROW.findall(html) == [key for key, _score in EXPECTED]
    assert "reported by 2 different organizations (+10)" in html
    assert ROW.findall(client.get("/strategic/?industry=construction").get_data(as_text=True)) == [
        "alpha roofing", "bravo builders"]
    assert ROW.findall(client.get("/strategic/?area=oakland").get_data(as_text=True)) == ["sunrise car wash"]
    assert "Open investigation" not in html  # investigators see the queue; leads open investigations
    bad = client.get("/strategic/?industry=smuggling")
    assert bad.status_code == 200 and "Choose one of the listed values." in bad.get_data(as_text=True)


def test_opening_an_investigation_from_the_queue(client, login, post_form, evidence, session):
    login(evidence.admin)
    assert post_form("/strategic/", "/strategic/investigate", {"employer_key": "acme packing"}).status_code == 303
    response = post_form("/strategic/", "/strategic/investigate",
                         {"employer_key": "acme packing", "case_reference": "SE-2026-01"})
    assert response.status_code == 302
    with db_read() as s:
        reports = s.scalars(select(ThirdPartyReport).where(ThirdPartyReport.employer_key == "acme packing")).all()
        assert {(r.status, r.case_reference) for r in reports} == {(ReportStatus.INVESTIGATING, "SE-2026-01")}
        assert all(r.decision_deadline.stopped_at is not None for r in reports)
    assert ROW.findall(client.get("/strategic/").get_data(as_text=True))[0] == "sunrise car wash"
    shown = client.get("/strategic/?include_investigated=1").get_data(as_text=True)
    assert "Investigation SE-2026-01 open since" in shown
    again = post_form("/strategic/", "/strategic/investigate",
                      {"employer_key": "acme packing", "case_reference": "SE-2026-02"})
    assert again.status_code == 303
    assert "already open" in client.get("/strategic/").get_data(as_text=True)


def test_a_rebuild_gives_the_same_evidence_as_keeping_it_current(evidence, session):
    columns = ("employer_key", "employer_name", "industry", "area", "reports", "partners", "complaints", "workers",
               "last_evidence_at")
    with db_write() as s:
        kept = {tuple(getattr(row, c) for c in columns) for row in s.scalars(select(EmployerEvidence))}
        s.execute(EmployerEvidence.__table__.delete())
        queue.refresh(s, evidence.agency.id)
    with db_read() as s:
        assert {tuple(getattr(row, c) for c in columns) for row in s.scalars(select(EmployerEvidence))} == kept
        assert s.scalar(select(Complaint.employer_key)) == "acme packing"


def test_the_queue_page_sends_a_fixed_number_of_statements(app, client, login, world, report):
    login(world.investigator)
    report(world.liaison, "First Employer")
    with statements(app) as few:
        assert client.get("/strategic/").status_code == 200
    for i in range(12):
        report(world.liaison, f"Employer {i}", workers=10 * (i + 1), area=f"Area {i}")
    with statements(app) as many:
        assert client.get("/strategic/").status_code == 200
    assert len(few) == len(many)


def test_the_rebuild_command_fills_the_queue_for_complaints_filed_before_it_existed(
        runner, world, make_complaint, session):
    make_complaint(world.investigator, employer_name="Old Employer, Inc.")
    with db_write() as s:
        s.execute(EmployerEvidence.__table__.delete())
    result = runner.invoke(args=["strategic-queue", "rebuild"])
    assert result.exit_code == 0 and "State Labor Office: 1 employers" in result.output
    with db_read() as s:
        assert s.scalars(select(EmployerEvidence.employer_key)).all() == ["old employer"]
