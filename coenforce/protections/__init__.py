"""Immigration protections on a case: T and U visa certification requests on
the jurisdiction's legal deadline (90 days, or 14 business days in removal
proceedings by default), Statement of Interest letters, and labor-based
deferred action grants with renewal reminders; each on the escalation engine.
Also the agency's legal targets and its holiday calendar (the engine's
business days skip those days)."""
from __future__ import annotations

from flask import Flask

from config import ConfigError


def init_app(app: Flask) -> None:
    """Check the defaults, register the clocks and their wording, pages and CLI."""
    from flask_babel import format_date

    from coenforce import escalation, notify
    from coenforce.protections import cli, notices, service, views
    from coenforce.protections.models import CERTIFICATION_CLOCK, LETTER_CLOCK, RENEWAL_CLOCK

    for name, top in (("PROTECTION_CERTIFICATION_DAYS", 365), ("PROTECTION_REMOVAL_BUSINESS_DAYS", 120),
                      ("PROTECTION_LETTER_BUSINESS_DAYS", 120), ("PROTECTION_EXPIRY_HOUR", 23)):
        value, low = app.config[name], 0 if name.endswith("HOUR") else 1
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= top:
            raise ConfigError(f"{name} must be a whole number from {low} to {top}")
    for kind in (CERTIFICATION_CLOCK, LETTER_CLOCK, RENEWAL_CLOCK):
        escalation.register_kind(app, escalation.DeadlineKind(
            name=kind, recipients=service.recipients, groups=service.RECIPIENT_GROUPS))
    notify.register_messages(app, notices.MESSAGES)
    app.register_blueprint(views.bp)
    app.register_blueprint(views.holidays_bp)
    cli.register(app)
    app.add_template_filter(lambda day: format_date(day, "medium") if day else "", "day")
