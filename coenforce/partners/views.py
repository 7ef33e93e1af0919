"""People of the admin's own agency: who is active, ending sessions, turning accounts off."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from coenforce.db import db
from coenforce.partners.models import User
from coenforce.security import policy, service, sessions
from coenforce.validation import ValidationError

bp = Blueprint("partners", __name__, url_prefix="/people")
ROLE_LABELS = {
    "agency_admin": _l("Agency admin"),
    "supervisor": _l("Supervisor"),
    "investigator": _l("Investigator"),
    "liaison": _l("Partner liaison"),
    "organizer": _l("Organizer"),
}


@bp.before_request
@login_required
def _admins_only():
    if not policy.allowed(current_user, "people.manage"):
        abort(403)


def _colleague_or_404(user_id: int) -> User:
    user = db.session.scalar(select(User).where(User.id == user_id,
                                                User.organization_id == current_user.organization_id))
    if user is None:
        abort(404)
    return user


@bp.get("/")
def people():
    users = db.session.scalars(select(User).where(User.organization_id == current_user.organization_id)
                               .order_by(User.name)).all()
    live = {u.id: sessions.live_count(db.session, u.id) for u in users}
    return render_template("partners/people.html", users=users, live=live, form=FlaskForm(), roles=ROLE_LABELS)


@bp.post("/<id:user_id>/<action>")
def change(user_id: int, action: str):
    if not FlaskForm().validate_on_submit():
        abort(400)
    user = _colleague_or_404(user_id)
    try:
        if action == "end-sessions":
            service.end_sessions(db.session, current_user, user)
            message = _("Every session of %(name)s is ended.", name=user.name)
        elif action in ("disable", "enable"):
            service.set_active(db.session, current_user, user, action == "enable")
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
