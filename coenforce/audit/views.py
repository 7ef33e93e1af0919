"""The audit log page: the agency's own entries, newest first (agency admins)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from coenforce.audit import service
from coenforce.db import db
from coenforce.security import policy

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE = 100
_MAX_ID = service.MAX_RECORD_ID  # a larger number names no record (nor user)
_MAX_SEQ = 2**63 - 1

# Record types the log knows how to name; a module that starts recording a new
# type adds it here so the filter offers it.
RECORD_TYPES = {
    "complaint": _l("Complaint"),
    "third_party_complaint": _l("Third-party complaint"),
    "detention": _l("Detained-worker alert"),
    "raid": _l("Raid"),
    "raid_task": _l("Raid task"),
}
# The last part of an action code ("complaint.view" -> "view"), as a person says it.
VERBS = {
    "view": _l("Viewed"),
    "reveal": _l("Revealed"),
    "export": _l("Exported"),
}


@bp.before_request
@login_required
def _admins_only():
    if not policy.allowed(current_user, "audit.view"):
        abort(403)


def _digits(name: str, maximum: int) -> int | None:
    value = (request.args.get(name) or "").strip()
    return int(value) if value.isdigit() and int(value) <= maximum else None


def _day(name: str, errors: list[str]) -> date | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(_("Enter dates as YYYY-MM-DD."))
        return None


@bp.get("/")
def log():
    org_id = current_user.organization_id
    people = service.organization_people(db.session, org_id)
    errors: list[str] = []
    person = _digits("person", _MAX_ID)
    if person is not None and person not in {p.id for p in people}:
        person = None  # only the agency's own people can be chosen
    record_type = (request.args.get("record_type") or "").strip()
    if record_type not in RECORD_TYPES:
        record_type = ""
    record_id = _digits("record_id", _MAX_ID)
    if (request.args.get("record_id") or "").strip() and record_id is None:
        errors.append(_("A record number is a whole number."))
    first, last = _day("from", errors), _day("to", errors)
    if first and last and last < first:
        errors.append(_("The end date is before the start date."))
        first = last = None
    since, until = service.day_bounds(first, last, current_user.timezone)
    where = service.EntryFilter(actor_id=person, record_type=record_type or None, record_id=record_id,
                                since=since, until=until)

    before, after = _digits("before", _MAX_SEQ), _digits("after", _MAX_SEQ)
    entries = service.list_entries(db.session, org_id, where, before=before, after=None if before else after,
                                   limit=PAGE)
    newer = older = None
    if entries:
        if service.has_entries(db.session, org_id, where, after=entries[0].seq):
            newer = entries[0].seq
        if service.has_entries(db.session, org_id, where, before=entries[-1].seq):
            older = entries[-1].seq
    filters = {"person": str(person) if person is not None else "", "record_type": record_type,
               "record_id": request.args.get("record_id", "").strip()[:20],
               "from": request.args.get("from", "").strip()[:10], "to": request.args.get("to", "").strip()[:10]}
    return render_template("audit/log.html", entries=entries, people=people,
                           names={p.id: p.name for p in people}, filters=filters, errors=errors,
                           query={k: v for k, v in filters.items() if v},
                           record_types=RECORD_TYPES, verb=_verb, newer=newer, older=older)


def _verb(action: str):
    """How to show an action code: its verb if known, else the code itself."""
    return VERBS.get(action.rsplit(".", 1)[-1], action)
