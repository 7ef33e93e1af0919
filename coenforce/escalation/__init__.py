"""The escalation engine: deadlines, ladders of notices, and the tick.

It knows no domain module. A module registers its deadline kinds from its
`init_app` (`register_kind(app, DeadlineKind(...))`: the recipient groups and a
callback that names the people, by user id) and calls `open_deadline` /
`stop_deadline`.
"""
from coenforce.escalation.models import ClockReading, ClockState, Deadline, clock_reading  # noqa: F401
from coenforce.escalation.service import (  # noqa: F401
    DeadlineKind, check_ladders, deadline_for, open_deadline, register_kind, stop_deadline, tick,
)


def init_app(app) -> None:
    """After every module registered its kinds: check the configuration's ladders,
    and give templates the clock states."""
    check_ladders(app)
    app.jinja_env.globals["ClockState"] = ClockState
