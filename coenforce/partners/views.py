"""People of the admin's own agency (who is active, ending sessions, turning accounts off), and
partnerships: their status, their points of contact, and the directory of contacts."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from coenforce import schemas
from coenforce.db import db
from coenforce.partners import service as partners
from coenforce.partners.models import OrgKind, PartnershipStatus
from coenforce.partners.schemas import ContactIn, PartnershipStatusIn
from coenforce.security import policy, service
from coenforce.validation import Conflict, ValidationError

bp = Blueprint("partners", __name__, url_prefix="/people")


@bp.before_request
@login_required
def _admins_only():
    if not policy.allowed(current_user, "people.manage"):
        abort(403)


@bp.get("/")
def people():
    return render_template("partners/people.html", people=service.colleagues(db.session, current_user),
                           form=FlaskForm())


@bp.post("/<id:user_id>/<action>")
def change(user_id: int, action: str):
    try:
        if action == "end-sessions":
            user = service.end_sessions(db.session, current_user, user_id)
            message = _("Every session of %(name)s is ended.", name=user.name)
        elif action in ("disable", "enable"):
            user = service.set_active(db.session, current_user, user_id, action == "enable")
            message = _("%(name)s can no longer sign in.", name=user.name) if action == "disable" else \
                _("%(name)s can sign in again.", name=user.name)
        else:
            abort(404)
    except ValidationError as exc:
        db.session.rollback()
        flash(" ".join(exc.fields.values()), "error")
        return redirect(url_for("partners.people"))
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("partners.people"))


# ---------------------------------------------------------------- partnerships

partnerships_bp = Blueprint("partnerships", __name__, url_prefix="/partnerships")


@partnerships_bp.before_request
@login_required
def _members_only():
    if not policy.allowed(current_user, "partnership.view"):
        abort(403)


@partnerships_bp.get("/")
def partnerships():
    rows = partners.partnerships_for(db.session, current_user)
    own_side = OrgKind.AGENCY if current_user.is_agency_staff else OrgKind.PARTNER
    may_name = policy.allowed(current_user, "partnership.agency_contact" if own_side == OrgKind.AGENCY
                              else "partnership.partner_contact")
    choices = {p.id: partners.contact_choices(db.session, p, own_side) for p in rows} if may_name else {}
    return render_template("partners/partnerships.html", partnerships=rows, own_side=own_side, may_name=may_name,
                           choices=choices, statuses=PartnershipStatus, form=FlaskForm())


@partnerships_bp.get("/directory")
def directory():
    """Both points of contact of every partnership, with how to reach them."""
    return render_template("partners/directory.html", partnerships=partners.partnerships_for(db.session, current_user))


def _partnership_change(partnership_id: int, action: str, schema, done: str, apply):
    """One change from the partnerships page: the record, the user's right to
    `action`, the form through `schema`, then the service; on a refusal the page
    again, saying why."""
    partnership = partners.get_partnership(db.session, current_user, partnership_id)
    if not policy.allowed(current_user, action):
        abort(403)
    try:
        apply(partnership, schemas.parse(schema, schemas.form_values(schema, request.form)))
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        flash(" ".join(exc.fields.values()), "error")
        return partnerships(), 422
    except Conflict as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return partnerships(), 409
    flash(done, "success")
    return redirect(url_for("partnerships.partnerships"))


@partnerships_bp.post("/<id:partnership_id>/contact")
def name_contact(partnership_id: int):
    side = OrgKind.AGENCY if current_user.is_agency_staff else OrgKind.PARTNER
    action = "partnership.agency_contact" if side == OrgKind.AGENCY else "partnership.partner_contact"
    return _partnership_change(partnership_id, action, ContactIn, _("Point of contact saved."),
                               lambda p, data: partners.set_contact(db.session, current_user, p, side, data))


@partnerships_bp.post("/<id:partnership_id>/status")
def change_status(partnership_id: int):
    return _partnership_change(partnership_id, "partnership.manage", PartnershipStatusIn,
                               _("Partnership status saved."),
                               lambda p, data: partners.set_status(db.session, current_user, p, data))
