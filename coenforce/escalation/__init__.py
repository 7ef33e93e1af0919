"""The escalation engine: deadlines, ladders of notices, and the tick.

It knows no domain module. A module registers its deadline kinds from its
`init_app` (`register_kind(app, DeadlineKind(...))`: the recipient groups and a
callback that names the people, by user id) and calls `open_deadline` /
`stop_deadline`. The scheduler's tick fires every rung, a clock's first one
included (the scheduler looks for due clocks every DISPATCH_POLL_SECONDS), except
the first rungs of urgent kinds, which fire in the transaction that opens the clock.

Business-day durations (`business_days_after`) skip weekends and each
organization's holidays (`Holiday`); `reschedule` moves a running clock's due time.
"""
from coenforce.escalation.models import ClockReading, ClockState, Deadline, Holiday, clock_reading  # noqa: F401
from coenforce.escalation.service import (  # noqa: F401
    DeadlineKind, DueDeadline, anything_due, business_days_after, calendar_days_after, check_ladders, deadline_for,
    open_deadline, register_kind, reschedule, stop_deadline, tick,
)


def init_app(app) -> None:
    """After every module registered its kinds: check the configuration's ladders,
    and give templates the clock states."""
    check_ladders(app)
    app.jinja_env.globals["ClockState"] = ClockState
