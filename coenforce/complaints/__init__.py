"""Retaliation complaints and their 48-hour response clock."""
from __future__ import annotations

from flask import Flask

from config import ConfigError


def init_app(app: Flask) -> None:
    """Check this module's settings, register its deadline kind and notice
    wording, and its pages and API."""
    from coenforce import escalation, notify
    from coenforce.complaints import api, notices, service, views
    from coenforce.complaints.models import RESPONSE_CLOCK
    from coenforce.complaints.types import ActionType, ComplaintStatus

    for action in app.config["QUALIFYING_ACTIONS"]:
        if action not in set(ActionType):
            raise ConfigError(f"QUALIFYING_ACTIONS names unknown action {action!r}")
    escalation.register_kind(app, escalation.DeadlineKind(
        name=RESPONSE_CLOCK, recipients=service.recipients, groups=service.RECIPIENT_GROUPS,
        conditions=frozenset({"unassigned"})))
    notify.register_messages(app, notices.MESSAGES)
    app.register_blueprint(views.bp)
    api.register(app)
    app.jinja_env.globals.update(ComplaintStatus=ComplaintStatus)
