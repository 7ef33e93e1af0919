"""The command line of CONTRACT.md, run through Flask's CLI runner."""
import json

from sqlalchemy import select

from coenforce.partners.models import Partnership, User

from tests.conftest import PASSWORD, db_read


def test_orgs_users_partnerships_and_tokens(runner, session, client, monkeypatch):
    agency = runner.invoke(args=["orgs", "create", "County Labor Office", "--kind", "agency",
                                 "--timezone", "America/Chicago"])
    assert agency.exit_code == 0 and agency.output.strip().isdigit()
    partner = runner.invoke(args=["orgs", "create", "Day Laborer Center", "--kind", "partner"])
    assert partner.exit_code == 0
    duplicate = runner.invoke(args=["orgs", "create", "Day Laborer Center", "--kind", "partner"])
    assert duplicate.exit_code == 1 and "error: name:" in duplicate.output
    bad_zone = runner.invoke(args=["orgs", "create", "X", "--kind", "agency", "--timezone", "Mars/Olympus"])
    assert bad_zone.exit_code == 1 and "time zone" in bad_zone.output

    monkeypatch.setenv("COENFORCE_NEW_PASSWORD", PASSWORD)
    made = runner.invoke(args=["users", "create", "Ana@Example.org", "--org", "County Labor Office",
                               "--role", "supervisor", "--name", "Ana", "--language", "es"])
    assert made.exit_code == 0, made.output
    wrong_role = runner.invoke(args=["users", "create", "b@example.org", "--org", "Day Laborer Center",
                                     "--role", "investigator"])
    assert wrong_role.exit_code == 1 and "role" in wrong_role.output
    monkeypatch.setenv("COENFORCE_NEW_PASSWORD", "short")
    weak = runner.invoke(args=["users", "create", "c@example.org", "--org", "County Labor Office",
                               "--role", "investigator"])
    assert weak.exit_code == 1 and "password" in weak.output

    linked = runner.invoke(args=["partnerships", "create", "County Labor Office", "Day Laborer Center"])
    assert linked.exit_code == 0
    with db_read() as s:
        assert s.scalar(select(Partnership)) is not None
        user = s.scalar(select(User).where(User.email == "ana@example.org"))
    assert user.language == "es" and user.role == "supervisor"

    token = runner.invoke(args=["users", "token", "ana@example.org"]).output.strip()
    assert token.startswith("coe_")
    assert client.get("/api/v1/notices", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert runner.invoke(args=["users", "token", "nobody@example.org"]).exit_code != 0


def test_escalate_and_dispatch_print_json_counts(runner, world, make_complaint):
    make_complaint(world.investigator)
    ticked = runner.invoke(args=["escalate", "--now", "2026-03-04T17:00:00Z"])
    assert ticked.exit_code == 0
    assert json.loads(ticked.output) == {"deadlines": 1, "fired": 1, "skipped": 3, "notices": 2, "held": 0}
    sent = runner.invoke(args=["dispatch", "--now", "2026-03-04T17:00:05+00:00"])
    assert json.loads(sent.output)["sent"] == 3
    assert runner.invoke(args=["escalate", "--now", "tomorrow"]).exit_code == 2


def test_seed_demo_runs_once_and_prints_logins(runner, session):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and "admin@demo.coenforce.test" in first.output
    assert "password:" in first.output
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "exists already" in again.output
    with db_read() as s:
        assert len(s.scalars(select(User)).all()) == 6


def test_migrate_is_idempotent(runner):
    assert runner.invoke(args=["migrate"]).exit_code == 0
    assert runner.invoke(args=["migrate"]).exit_code == 0
