"""JSON endpoint for the outbox (agency admins and supervisors)."""
from __future__ import annotations

from coenforce.apikit import blueprint, operation, register as register_api
from coenforce.db import db
from coenforce.notify import outbox
from coenforce.notify.schemas import NoticeFilter, NoticeOut

bp = blueprint("notify_api")


def register(app) -> None:
    register_api(app, bp)


@bp.get("/notices")
@operation("The organization's notices, newest first, a page at a time (agency admins and supervisors).",
           requires="notices.view", query=NoticeFilter, response=NoticeOut, many=True)
def index(user, query: NoticeFilter):
    return outbox.page_of_notices(db.session, user, query)
