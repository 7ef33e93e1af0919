"""Third-party complaints and the strategic-enforcement queue: a worker
organization, the agency or anyone on the public page reports an employer
without naming a worker; the agency acknowledges, then decides."""
from __future__ import annotations

from flask import Flask

from config import ConfigError


def init_app(app: Flask) -> None:
    """Check the targets, register both clocks and their wording, the pages,
    the public intake and the API."""
    from coenforce import escalation, notify
    from coenforce.thirdparty import api, cli, notices, public, service, views
    from coenforce.thirdparty.models import ACK_CLOCK, DECISION_CLOCK
    from coenforce.thirdparty.types import ReportStatus

    for name in ("THIRD_PARTY_ACK_HOURS", "THIRD_PARTY_DECISION_DAYS"):
        if not isinstance(app.config[name], int) or app.config[name] < 1:
            raise ConfigError(f"{name} must be a whole number of at least 1")
    for kind in (ACK_CLOCK, DECISION_CLOCK):
        escalation.register_kind(app, escalation.DeadlineKind(
            name=kind, recipients=service.recipients, groups=service.RECIPIENT_GROUPS))
    notify.register_messages(app, notices.MESSAGES)
    app.register_blueprint(views.bp)
    app.register_blueprint(views.queue_bp)
    public.init_app(app)
    api.register(app)
    cli.register(app)
    app.jinja_env.globals.update(ReportStatus=ReportStatus)
