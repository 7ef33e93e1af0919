"""The pure ladder functions: schedule order, due steps, catch-up and parsing."""
from datetime import datetime, timedelta, timezone

import pytest

from config import COMPLAINT_RESPONSE_LADDER
from coenforce.escalation.ladder import LadderError, parse_ladder

T0 = datetime(2026, 3, 2, 17, 0, tzinfo=timezone.utc)
DUE = T0 + timedelta(hours=48)
LADDER = parse_ladder(COMPLAINT_RESPONSE_LADDER)


def names(entries):
    return [e.rung.name for e in entries]


def test_schedule_follows_the_default_ladder():
    """24 h reminder, 40 h warning, 48 h breach, then every 24 h overdue."""
    schedule = LADDER.schedule(T0, DUE)
    first = [next(schedule) for _ in range(8)]
    assert names(first) == ["intake", "unassigned", "reminder", "warning", "breach", "overdue", "overdue", "overdue"]
    offsets = [(e.at - T0) / timedelta(hours=1) for e in first]
    assert offsets == [0, 4, 24, 40, 48, 72, 96, 120]
    assert [e.position for e in first] == list(range(8))


def test_a_rung_is_not_due_a_minute_early():
    """At 23:59 after intake only the first two entries are due; at 24:00 the reminder."""
    early = LADDER.step(2, T0, DUE, T0 + timedelta(hours=24) - timedelta(minutes=1))
    assert early.fire is None and early.next_at == T0 + timedelta(hours=24)
    on_time = LADDER.step(2, T0, DUE, T0 + timedelta(hours=24))
    assert on_time.fire.rung.name == "reminder" and on_time.skipped == ()
    assert on_time.next_position == 3 and on_time.next_at == T0 + timedelta(hours=40)


def test_catch_up_fires_only_the_newest_and_lists_the_skipped():
    """A scheduler down from 3 h to 50 h fires the breach and skips three rungs."""
    step = LADDER.step(1, T0, DUE, T0 + timedelta(hours=50))
    assert step.fire.rung.name == "breach"
    assert names(step.skipped) == ["unassigned", "reminder", "warning"]
    assert step.next_position == 5 and step.next_at == T0 + timedelta(hours=72)


def test_repeating_overdue_rung_goes_on_every_day():
    step = LADDER.step(5, T0, DUE, T0 + timedelta(hours=24 * 10))
    assert step.fire.rung.name == "overdue"
    assert step.fire.at == T0 + timedelta(hours=240)
    assert len(step.skipped) == 7  # 72 h, 96 h, ... 216 h
    assert step.next_at == T0 + timedelta(hours=264)


def test_short_target_orders_rungs_by_time():
    """With a 24 h target the 'due-8h' warning comes before the 'start+24h' reminder."""
    due = T0 + timedelta(hours=24)
    first = [next(iter_) for iter_ in [LADDER.schedule(T0, due)] for _ in range(6)]
    assert names(first) == ["intake", "unassigned", "warning", "reminder", "breach", "overdue"]


@pytest.mark.parametrize("rungs, message", [
    ([], "at least one rung"),
    ([{"name": "x", "at": "soon", "to": ["a"]}], "'at' must look like"),
    ([{"name": "x", "at": "start", "to": []}], "non-empty list"),
    ([{"name": "x", "at": "start", "to": ["a"], "repeat": "24h"}, {"name": "y", "at": "due", "to": ["a"]}],
     "only the last rung may repeat"),
    ([{"name": "x", "at": "start", "to": ["a"]}, {"name": "x", "at": "due", "to": ["a"]}], "duplicate name"),
    ([{"name": "x", "at": "start", "to": ["a"], "when": 1}], "unknown keys"),
    ([{"name": "x", "at": "due", "to": ["a"], "repeat": "0h"}], "'repeat' must look like"),
])
def test_malformed_ladders_are_refused_with_the_rung_named(rungs, message):
    with pytest.raises(LadderError, match=message):
        parse_ladder(rungs)


def test_a_bad_ladder_stops_the_app_at_start_up(database_url):
    from config import ConfigError
    from coenforce import create_app
    with pytest.raises(ConfigError, match="ESCALATION_LADDERS"):
        create_app({"DATABASE_URL": database_url,
                    "ESCALATION_LADDERS": {"complaint_response": [{"name": "x", "at": "later", "to": ["supervisors"]}]}})
    with pytest.raises(RuntimeError, match="unknown recipient groups"):
        create_app({"DATABASE_URL": database_url,
                    "ESCALATION_LADDERS": {"complaint_response": [{"name": "x", "at": "due", "to": ["everyone"]}]}})
