"""The escalation engine: deadlines, ladders of notices, and the tick.

It knows no domain module. A module registers a deadline kind (who the
recipient groups are) and calls `open_deadline` / `stop_deadline`.
"""
from coenforce.escalation.service import (  # noqa: F401
    DeadlineKind, open_deadline, register_kind, stop_deadline, tick,
)
