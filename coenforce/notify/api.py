"""JSON endpoint for the outbox (agency admins and supervisors)."""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from coenforce import clock
from coenforce.apikit import ApiAbort, blueprint, current_api_user, respond, token_required
from coenforce.db import db
from coenforce.notify.models import Notice
from coenforce.notify.service import notices_for_organization
from coenforce.security import policy
from coenforce.validation import parse_id

bp = blueprint("notify_api")
SUBJECT_TYPES = ("complaint", "third_party_complaint", "detention", "raid", "raid_task")


def notice_json(notice: Notice) -> dict:
    return {
        "id": notice.id, "recipient": notice.recipient.email, "kind": notice.kind, "status": notice.status,
        "subject_type": notice.subject_type, "subject_id": notice.subject_id, "attempts": notice.attempts,
        "last_error": notice.last_error, "created_at": clock.iso(notice.created_at),
        "sent_at": clock.iso(notice.sent_at),
    }


@bp.get("/notices")
@token_required
def index():
    user = current_api_user()
    if not policy.allowed(user, "notices.view"):
        raise ApiAbort(403, _("You do not have permission to do that."))
    query = notices_for_organization(user.organization_id)
    fields = {}
    subject_type = request.args.get("subject_type")
    if subject_type is not None:
        if subject_type not in SUBJECT_TYPES:
            fields["subject_type"] = _("Choose one of the listed values.")
        query = query.where(Notice.subject_type == subject_type)
    subject_id = request.args.get("subject_id")
    if subject_id is not None:
        if parse_id(subject_id) is None:
            fields["subject_id"] = _("Must be a whole number.")
        else:
            query = query.where(Notice.subject_id == parse_id(subject_id))
    if fields:
        raise ApiAbort(422, _("Some fields are invalid."), fields)
    return respond({"items": [notice_json(n) for n in db.session.scalars(query.limit(1000))]})
