"""People of the admin's own agency: who is active, ending sessions, turning accounts off."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from coenforce.db import db
from coenforce.security import policy, service
from coenforce.validation import ValidationError

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
