"""The audit log page: the agency's own entries, newest first (agency admins)."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from coenforce import schemas
from coenforce.audit import service
from coenforce.audit.schemas import AuditFilter
from coenforce.db import db
from coenforce.enums import SubjectType
from coenforce.security import policy

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE = 100

# Record types the log knows how to name; a module that starts recording a new
# type adds it here so the filter offers it.
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


@bp.get("/")
def log():
    where, errors = schemas.parse_filters(AuditFilter, request.args)
    people = service.organization_people(db.session, current_user)
    if where.person is not None and where.person not in {p.id for p in people}:
        where = where.model_copy(update={"person": None})  # only the agency's own people can be chosen
    first, last = where.first_day, where.last_day
    if first and last and last < first:
        errors["to"] = _("The end date is before the start date.")
        first = last = None
    since, until = service.day_bounds(first, last, current_user.timezone)
    entry_filter = service.EntryFilter(actor_id=where.person, record_type=where.record_type,
                                       record_id=where.record_id, since=since, until=until)
    entries = service.list_entries(db.session, current_user, entry_filter, before=where.before,
                                   after=None if where.before else where.after, limit=PAGE)
    newer = older = None
    if entries:
        if service.has_entries(db.session, current_user, entry_filter, after=entries[0].seq):
            newer = entries[0].seq
        if service.has_entries(db.session, current_user, entry_filter, before=entries[-1].seq):
            older = entries[-1].seq
    filters = {"person": str(where.person or ""), "record_type": where.record_type or "",
               "record_id": request.args.get("record_id", "").strip()[:20],
               "from": request.args.get("from", "").strip()[:10], "to": request.args.get("to", "").strip()[:10]}
    # People of a partner who saw the agency's records are named with their organization.
    actors, organizations = service.outside_actors(db.session, current_user, entries)
    return render_template("audit/log.html", entries=entries, people=people, organizations=organizations,
                           names={p.id: p.name for p in people} | actors, filters=filters,
                           errors=list(errors.values()),
                           query={k: v for k, v in filters.items() if v},
                           record_types=SubjectType.labels(), verb=_verb, newer=newer, older=older)


def _verb(action: str):
    """How to show an action code: its verb if known, else the code itself."""
    return VERBS.get(action.rsplit(".", 1)[-1], action)
