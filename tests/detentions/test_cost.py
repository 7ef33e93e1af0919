"""What raising an alert costs in SQL statements (it must not grow with the number of tasks or people)."""
from tests.detentions.test_alerts import ALERT, contacts  # noqa: F401  (a fixture)
from tests.test_lists import statements


def test_raising_an_alert_sends_few_statements(app, api, world, contacts):
    caller = api(world.liaison)
    caller.post("/detentions", json=ALERT)  # warm: the first request loads what is cached
    with statements(app) as sent:
        assert caller.post("/detentions", json=ALERT).status_code == 201
    # The caller, the agencies, the inserts (alert, partners, tasks, clocks), the fan-out's
    # four reads and its notices and steps: 18 on PostgreSQL, 23 on SQLite (one insert per task).
    assert len(sent) <= 24, "\n".join(sent)
