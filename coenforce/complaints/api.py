"""JSON endpoints for retaliation complaints: thin, the same services as the pages."""
from __future__ import annotations

from coenforce.apikit import blueprint, operation, register as register_api
from coenforce.complaints import service
from coenforce.complaints.schemas import ActionIn, ComplaintIn, ComplaintListQuery, ComplaintOut, ComplaintSummaryOut
from coenforce.db import db

bp = blueprint("complaints_api")


def register(app) -> None:
    register_api(app, bp)


@bp.post("/complaints")
@operation("File a retaliation complaint; its response clock starts.", requires="complaint.create",
           body=ComplaintIn, response=ComplaintOut, status=201)
def create(user, body: ComplaintIn):
    complaint = service.open_complaint(db.session, user, body)
    db.session.commit()
    return complaint


@bp.get("/complaints")
@operation("Complaints the caller may see, nearest due first, a page at a time (follow `next`).",
           query=ComplaintListQuery, response=ComplaintSummaryOut, many=True)
def index(user, query: ComplaintListQuery):
    return service.page_of_complaints(db.session, user, query)


@bp.get("/complaints/<id:id>")
@operation("One complaint with its clock, actions and damages.", record=service.view_complaint,
           response=ComplaintOut)
def show(user, complaint):
    db.session.commit()  # the audit entry of this view
    return complaint


@bp.post("/complaints/<id:id>/actions")
@operation("Record a response action; the first qualifying one stops the clock.",
           record=service.get_complaint, requires="complaint.act", body=ActionIn, response=ComplaintOut,
           status=201, conflict=True)
def add_action(user, complaint, body: ActionIn):
    service.record_action(db.session, user, complaint, body)
    db.session.commit()
    db.session.refresh(complaint)
    return complaint
