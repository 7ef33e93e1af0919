"""JSON endpoints for partnerships and their points of contact."""
from __future__ import annotations

from coenforce.apikit import blueprint, operation, register as register_api
from coenforce.db import db
from coenforce.partners import service
from coenforce.partners.schemas import PartnershipChange, PartnershipOut

bp = blueprint("partners_api")


def register(app) -> None:
    register_api(app, bp)


@bp.get("/partnerships")
@operation("The partnerships of the caller's organization, with both points of contact.",
           requires="partnership.view", response=PartnershipOut, many=True)
def index(user):
    return service.partnerships_for(db.session, user)


@bp.patch("/partnerships/<id:id>")
@operation("Name the caller's side's point of contact (agency admins: agency_contact_id; partner liaisons: "
           "partner_contact_id) or, for agency admins, pause, resume or end the partnership.",
           record=service.get_partnership, requires="partnership.view", body=PartnershipChange,
           response=PartnershipOut, conflict=True)
def change(user, partnership, body: PartnershipChange):
    service.change_partnership(db.session, user, partnership, body)
    db.session.commit()
    return partnership
