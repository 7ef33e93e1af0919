"""The outbox page: every notice of the agency and its state (agency admins)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from coenforce import schemas
from coenforce.db import db
from coenforce.notify import outbox as service
from coenforce.notify.models import REQUEUEABLE, NoticeStatus
from coenforce.notify.schemas import OutboxPage
from coenforce.notify.service import message_for
from coenforce.security import policy
from coenforce.validation import Conflict

bp = Blueprint("notify", __name__, url_prefix="/outbox")
PAGE = 100


@bp.before_request
@login_required
def _admins_only():
    if not policy.allowed(current_user, "outbox.manage"):
        abort(403)


@bp.get("/")
def outbox():
    where, _errors = schemas.parse_filters(OutboxPage, request.args)
    notices = service.list_notices(db.session, current_user, status=where.status, limit=PAGE,
                                   offset=(where.page - 1) * PAGE)
    return render_template("notify/outbox.html", notices=notices.items, total=notices.total,
                           counts=service.outbox_counts(db.session, current_user),
                           status=where.status, page=where.page, page_size=PAGE, statuses=NoticeStatus,
                           requeueable=REQUEUEABLE, kind_title=lambda kind: message_for(kind).title,
                           config_fault=service.provider_refusals(db.session, current_user), form=FlaskForm())


@bp.post("/<id:notice_id>/requeue")
def requeue_notice(notice_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        notice = service.requeue(db.session, current_user, notice_id)
    except Conflict as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("notify.outbox"))
    db.session.commit()
    flash(_("Notice %(id)s will be sent again.", id=notice.id), "success")
    return redirect(url_for("notify.outbox"))
