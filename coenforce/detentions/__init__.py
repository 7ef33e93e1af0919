"""Detained-worker alerts: when a worker in a co-enforcement case is detained,
the agency and its partners know within seconds, each acknowledges, and the
response tasks (consulate, family, attorney, the agency's intervention) run on
deadlines. This module alone holds A-Numbers and a worker's country, encrypted."""
from __future__ import annotations

from flask import Flask

from config import ConfigError


def init_app(app: Flask) -> None:
    """Check the task targets, register the alert's clocks and wording, pages and API."""
    from coenforce import escalation, notify, scheduler
    from coenforce.detentions import api, cli, notices, service, views
    from coenforce.detentions.a_number import mask_a_number
    from coenforce.detentions.models import ACK_CLOCK, task_clock
    from coenforce.detentions.types import AlertStatus, TaskKind

    hours = app.config["DETENTION_TASK_HOURS"]
    if set(hours) != {k.value for k in TaskKind} or not all(isinstance(h, int) and h > 0 for h in hours.values()):
        raise ConfigError(f"DETENTION_TASK_HOURS must give whole hours for each of {sorted(k.value for k in TaskKind)}")
    for kind in [ACK_CLOCK] + [task_clock(k) for k in TaskKind]:
        escalation.register_kind(app, escalation.DeadlineKind(
            name=kind, recipients=service.recipients, groups=service.RECIPIENT_GROUPS, urgent=True))
    notify.register_messages(app, notices.MESSAGES)
    # The retention job: sealed fields of alerts closed past the retention period.
    scheduler.register_job(app, "detention_retention", service.purge_closed, seconds=3600)
    app.register_blueprint(views.bp)
    api.register(app)
    cli.register(app)
    app.jinja_env.globals.update(AlertStatus=AlertStatus, mask_a_number=mask_a_number)
