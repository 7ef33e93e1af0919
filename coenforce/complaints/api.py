"""JSON endpoints for retaliation complaints: thin, the same services as the pages."""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from coenforce import audit, clock
from coenforce.apikit import ApiAbort, blueprint, current_api_user, json_body, respond, token_required
from coenforce.complaints import service
from coenforce.complaints.models import Complaint
from coenforce.db import db
from coenforce.security import policy
from coenforce.validation import Fields, NotAllowed, parse_id

bp = blueprint("complaints_api")


def complaint_json(complaint: Complaint, with_detail: bool = True) -> dict:
    deadline = service.clock_of(db.session, complaint)
    summary = service.clock_summary(deadline)
    body = {
        "id": complaint.id,
        "reference": complaint.reference,
        "agency_id": complaint.agency_id,
        "filed_by_org_id": complaint.filed_by_org_id,
        "employer_name": complaint.employer_name,
        "retaliation_types": complaint.retaliation_types,
        "description": complaint.description,
        "labor_dispute": complaint.labor_dispute,
        "worksite_address": complaint.worksite_address,
        "language": complaint.language,
        "workers_affected": complaint.workers_affected,
        "received_at": clock.iso(complaint.received_at),
        "status": complaint.status,
        "assignee_id": complaint.assignee_id,
        "shared_with": complaint.shared_with,
        "attorney_list": {"provided_at": clock.iso(complaint.attorney_list_provided_at),
                          "language": complaint.attorney_list_language},
        "closed_at": clock.iso(complaint.closed_at),
        "clock": {k: clock.iso(v) if k.endswith("_at") else v for k, v in summary.items()},
        "actions": [],
    }
    if with_detail:
        body["actions"] = [{
            "id": a.id, "type": a.type, "qualifying": a.qualifying, "taken_at": clock.iso(a.taken_at),
            "note": a.note, "language": a.language, "recorded_by": a.recorded_by_id,
            "recorded_at": clock.iso(a.recorded_at),
        } for a in complaint.actions]
        totals = service.damages_totals(complaint)
        body["damages"] = {
            "items": [{"id": d.id, "basis": d.basis, "workers": d.workers, "violations": d.violations,
                       "claimed_cents": d.claimed_cents, "statutory_max_cents": d.statutory_max_cents,
                       "assessed_cents": d.assessed_cents, "recovered_cents": d.recovered_cents}
                      for d in complaint.damages],
            "totals_cents": totals,
        }
    return body


def _visible(complaint_id: int) -> Complaint:
    complaint = service.get_complaint(db.session, current_api_user(), complaint_id)
    if complaint is None:
        raise ApiAbort(404, _("Not found."))
    return complaint


@bp.post("/complaints")
@token_required
def create():
    if not policy.allowed(current_api_user(), "complaint.create"):
        raise NotAllowed()  # before reading the body: a refusal says nothing about the fields
    complaint = service.open_complaint(db.session, current_api_user(), json_body("ComplaintIn"))
    db.session.commit()
    return respond(complaint_json(complaint), 201)


@bp.get("/complaints")
@token_required
def index():
    state = request.args.get("state")
    if state not in (None, "running", "met", "breached"):
        raise ApiAbort(422, _("Some fields are invalid."), {"state": _("Choose one of the listed values.")})
    assignee = request.args.get("assignee_id")
    if assignee is not None and parse_id(assignee) is None:
        raise ApiAbort(422, _("Some fields are invalid."), {"assignee_id": _("Must be a whole number.")})
    fields = Fields()
    employer = fields.text(request.args, "employer", max_length=200)
    if fields.errors:
        raise ApiAbort(422, _("Some fields are invalid."), fields.errors)
    rows = service.list_complaints(db.session, current_api_user(), state=state,
                                   assignee_id=parse_id(assignee), employer=employer)
    return respond({"items": [complaint_json(c, with_detail=False) for c, _d in rows]})


@bp.get("/complaints/<id:complaint_id>")
@token_required
def show(complaint_id: int):
    complaint = _visible(complaint_id)
    audit.record(db.session, current_api_user(), "complaint.view", "complaint", complaint.id)
    db.session.commit()
    return respond(complaint_json(complaint))


@bp.post("/complaints/<id:complaint_id>/actions")
@token_required
def add_action(complaint_id: int):
    complaint = _visible(complaint_id)
    if not policy.allowed(current_api_user(), "complaint.act"):
        raise NotAllowed()
    service.record_action(db.session, current_api_user(), complaint, json_body("ActionIn"))
    db.session.commit()
    db.session.refresh(complaint)
    return respond(complaint_json(complaint), 201)
