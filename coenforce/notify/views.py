"""The outbox page: every notice of the agency and its state (agency admins)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from coenforce.db import db
from coenforce.notify.models import NOTICE_STATUSES, Notice
from coenforce.notify.service import message_for, notices_for_organization, requeue
from coenforce.security import policy
from coenforce.validation import parse_id

bp = Blueprint("notify", __name__, url_prefix="/outbox")
PAGE = 100
STATUS_LABELS = {
    "pending": _l("Waiting to be sent"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
    "dead": _l("Dead after retries"),
    "cancelled": _l("Cancelled"),
}


@bp.before_request
@login_required
def _admins_only():
    if not policy.allowed(current_user, "outbox.manage"):
        abort(403)


@bp.get("/")
def outbox():
    status = request.args.get("status") if request.args.get("status") in NOTICE_STATUSES else None
    page = min(parse_id(request.args.get("page")) or 1, 10_000)
    query = notices_for_organization(current_user.organization_id)
    if status:
        query = query.where(Notice.status == status)
    notices = db.session.scalars(query.limit(PAGE).offset((page - 1) * PAGE)).all()
    counts = dict(db.session.execute(
        select(Notice.status, func.count()).where(Notice.organization_id == current_user.organization_id)
        .group_by(Notice.status)).tuples().all())
    # 401/403 from SendGrid mean the key is wrong: every notice will fail until fixed.
    config_fault = db.session.scalar(select(func.count()).where(
        Notice.organization_id == current_user.organization_id, Notice.status == "failed",
        Notice.provider_status.in_((401, 403))))
    return render_template("notify/outbox.html", notices=notices, counts=counts, status=status, page=page,
                           page_size=PAGE, statuses=NOTICE_STATUSES, status_labels=STATUS_LABELS,
                           kind_title=lambda kind: message_for(kind).title, config_fault=config_fault, form=FlaskForm())


@bp.post("/<id:notice_id>/requeue")
def requeue_notice(notice_id: int):
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    notice = db.session.scalar(select(Notice).where(
        Notice.id == notice_id, Notice.organization_id == current_user.organization_id))
    if notice is None:
        abort(404)
    if notice.status not in ("dead", "failed"):
        flash(_("Only dead or failed notices can be sent again."), "error")
        return redirect(url_for("notify.outbox"))
    requeue(db.session, notice)
    db.session.commit()
    flash(_("Notice %(id)s will be sent again.", id=notice.id), "success")
    return redirect(url_for("notify.outbox"))
