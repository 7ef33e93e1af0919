"""The rules of complaints called directly, as the pages and the API call them:
closing, sharing with the filer, and who may close."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from coenforce import escalation
from coenforce.complaints import service
from coenforce.complaints.models import Complaint
from coenforce.complaints.schemas import ActionIn, AssignIn, CloseIn, ShareIn
from coenforce.escalation import ClockState
from coenforce.notify.models import Notice, NoticeStatus
from coenforce.validation import Conflict, NotAllowed, ValidationError

from tests.conftest import START


def reload(session, complaint_id) -> Complaint:
    session.rollback()
    session.expire_all()
    return session.get(Complaint, complaint_id)


def test_closing_stops_the_clock_where_it_stands_and_ends_escalation(app, world, make_complaint, session, frozen):
    complaint = make_complaint(world.investigator)
    frozen.advance(hours=10)
    service.close(session, world.supervisor, reload(session, complaint.id), CloseIn(note="Resolved by the employer."))
    session.commit()

    closed = reload(session, complaint.id)
    assert closed.is_closed and closed.closed_at == START + timedelta(hours=10)
    assert closed.closing_note == "Resolved by the employer."
    assert closed.deadline.stopped_at == START + timedelta(hours=10)
    assert closed.clock["state"] == ClockState.MET  # closed inside the 48 hours
    assert closed.deadline.next_rung_at is None
    # The intake notice is the only one; nothing more can come.
    assert escalation.tick(session, START + timedelta(days=5))["fired"] == 0
    kinds = session.scalars(select(Notice.kind).where(Notice.subject_id == complaint.id)).all()
    assert kinds == ["complaint_response.intake"]


def test_closing_after_the_target_is_a_breach_and_cancels_unsent_notices(app, world, make_complaint, session,
                                                                       frozen):
    complaint = make_complaint(world.investigator)
    escalation.tick(session, frozen.advance(hours=49))  # the breach rung fires, its notices wait unsent
    session.commit()
    waiting = session.scalars(select(Notice).where(Notice.status == NoticeStatus.PENDING)).all()
    assert {n.kind for n in waiting} == {"complaint_response.intake", "complaint_response.breach"}
    service.close(session, world.admin, reload(session, complaint.id), CloseIn(note="Withdrawn."))
    session.commit()
    closed = reload(session, complaint.id)
    assert closed.clock["state"] == ClockState.BREACHED
    statuses = {n.kind: n.status for n in session.scalars(select(Notice))}
    # Nothing unsent leaves after the close: a breach notice about a closed case helps nobody.
    assert statuses == {"complaint_response.intake": NoticeStatus.CANCELLED,
                        "complaint_response.breach": NoticeStatus.CANCELLED}


def test_a_closed_complaint_takes_no_more_changes(app, world, make_complaint, session):
    complaint = make_complaint(world.investigator)
    service.close(session, world.supervisor, reload(session, complaint.id), CloseIn(note="Done."))
    session.commit()
    closed = reload(session, complaint.id)
    for change in (lambda: service.record_action(session, world.investigator, closed, ActionIn(type="site_visit")),
                   lambda: service.assign(session, world.supervisor, closed, AssignIn(assignee_id=None)),
                   lambda: service.close(session, world.supervisor, closed, CloseIn(note="Again."))):
        with pytest.raises(Conflict):
            change()
        session.rollback()
    assert reload(session, complaint.id).actions == []


@pytest.mark.parametrize("role, assigned, may", [
    ("supervisor", False, True), ("admin", False, True),
    ("investigator", True, True), ("investigator", False, False),
    ("liaison", False, False),
])
def test_who_may_close(app, world, make_complaint, session, role, assigned, may):
    complaint = make_complaint(world.investigator, shared_with=[world.partner.id])
    if assigned:
        service.assign(session, world.supervisor, reload(session, complaint.id),
                       AssignIn(assignee_id=world.investigator.id))
        session.commit()
    user = getattr(world, role)
    if may:
        service.close(session, user, reload(session, complaint.id), CloseIn(note="Closed."))
        session.commit()
        assert reload(session, complaint.id).is_closed
    else:
        with pytest.raises(NotAllowed):
            service.close(session, user, reload(session, complaint.id), CloseIn(note="Closed."))
        session.rollback()
        assert not reload(session, complaint.id).is_closed


def test_the_filing_partner_stays_shared(app, world, make_org, partner_up, make_complaint, session):
    second = make_org("partner", name="Second Partner")
    partner_up(world.agency, second)
    filed = make_complaint(world.liaison)
    assert reload(session, filed.id).shared_with == [world.partner.id]  # shared with the filer at once

    service.share(session, world.investigator, reload(session, filed.id), ShareIn(shared_with=[second.id]))
    session.commit()
    assert reload(session, filed.id).shared_with == sorted([world.partner.id, second.id])
    # Unsharing everyone leaves the filer following its case.
    service.share(session, world.investigator, reload(session, filed.id), ShareIn(shared_with=[]))
    session.commit()
    assert reload(session, filed.id).shared_with == [world.partner.id]


def test_sharing_only_with_the_agencys_partners_and_only_by_agency_staff(app, world, make_complaint, session):
    complaint = make_complaint(world.investigator)
    with pytest.raises(ValidationError) as refused:
        service.share(session, world.investigator, reload(session, complaint.id),
                      ShareIn(shared_with=[world.other_partner.id]))
    assert set(refused.value.fields) == {"shared_with"}
    session.rollback()
    with pytest.raises(NotAllowed):
        service.share(session, world.liaison, reload(session, complaint.id), ShareIn(shared_with=[world.partner.id]))
    session.rollback()
    assert reload(session, complaint.id).shared_with == []


def test_sharing_and_revoking_are_recorded_and_a_revoked_partner_gets_404(
        app, world, make_complaint, session, api, frozen, client, login):
    complaint = make_complaint(world.investigator)
    liaison = api(world.liaison)
    assert liaison.get(f"/complaints/{complaint.id}").status_code == 404
    service.share(session, world.investigator, reload(session, complaint.id), ShareIn(shared_with=[world.partner.id]))
    session.commit()
    assert liaison.get(f"/complaints/{complaint.id}").status_code == 200
    frozen.advance(hours=2)
    service.share(session, world.supervisor, reload(session, complaint.id), ShareIn(shared_with=[]))
    session.commit()
    assert liaison.get(f"/complaints/{complaint.id}").status_code == 404
    login(world.liaison)
    assert client.get(f"/complaints/{complaint.id}").status_code == 404
    events = [(e.partner_id, e.shared, e.by_user_id, e.at) for e in reload(session, complaint.id).share_events]
    assert events == [(world.partner.id, True, world.investigator.id, START),
                      (world.partner.id, False, world.supervisor.id, START + timedelta(hours=2))]


def test_sharing_with_a_paused_partnership_is_kept_but_not_added(app, world, make_complaint, session, api):
    complaint = make_complaint(world.investigator, shared_with=[world.partner.id])
    api(world.admin).patch(f"/partnerships/{world.partnership.id}", json={"status": "paused"})
    # Saving the form unchanged keeps the existing share...
    service.share(session, world.investigator, reload(session, complaint.id), ShareIn(shared_with=[world.partner.id]))
    session.commit()
    assert reload(session, complaint.id).shared_with == [world.partner.id]
    # ...but once revoked it cannot be added back while paused.
    service.share(session, world.investigator, reload(session, complaint.id), ShareIn(shared_with=[]))
    session.commit()
    with pytest.raises(ValidationError):
        service.share(session, world.investigator, reload(session, complaint.id),
                      ShareIn(shared_with=[world.partner.id]))
    session.rollback()
