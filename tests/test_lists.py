"""Lists cost the same number of SQL statements whatever the number of rows
(no query per row), and their pages give every item exactly once."""
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, text

from coenforce.complaints.schemas import ActionIn, AssignIn
from coenforce.complaints.service import assign, record_action
from coenforce.db import db

from tests.conftest import BACKEND, statements

CASE_LINK = re.compile(r'href="/complaints/(\d+)"')


@pytest.fixture
def file_complaints(world, make_complaint, make_user, session):
    """n more complaints with what lists show: shares, an action, and each its own
    assignee (so a lazy load per row could not hide behind the identity map)."""
    def file(n):
        for i in range(n):
            investigator = make_user(world.agency, "investigator", two_factor=False)
            complaint = make_complaint(investigator, employer_name=f"Employer {i}", shared_with=[world.partner.id])
            record_action(session, world.supervisor, complaint, ActionIn(type="note", note="Called."))
            assign(session, world.supervisor, complaint, AssignIn(assignee_id=investigator.id))
            session.commit()
    return file


def statement_counts(app, request, file_complaints, before: int, after: int) -> tuple[int, int]:
    file_complaints(before)
    with statements(app) as few:
        assert request().status_code == 200
    file_complaints(after - before)
    with statements(app) as many:
        assert request().status_code == 200
    return len(few), len(many)


@pytest.mark.parametrize("path", ["/complaints?limit=200", "/notices?limit=200"])
def test_api_lists_send_a_fixed_number_of_statements(app, api, world, file_complaints, path):
    caller = api(world.supervisor)
    few, many = statement_counts(app, lambda: caller.get(path), file_complaints, 2, 12)
    assert few == many, (few, many)


@pytest.mark.parametrize("path, user", [("/complaints/", "supervisor"), ("/complaints/", "liaison"),
                                        ("/outbox/", "admin"), ("/audit/", "admin"),
                                        ("/", "supervisor")])
def test_list_pages_send_a_fixed_number_of_statements(app, client, login, world, file_complaints, path, user):
    login(getattr(world, user))
    client.get(path)  # the first request of a session may write its last-seen time
    few, many = statement_counts(app, lambda: client.get(path), file_complaints, 2, 12)
    assert few == many, (few, many)


def test_following_next_gives_every_complaint_once(app, api, world, file_complaints, client):
    file_complaints(23)
    caller = api(world.investigator)
    seen, pages = [], 0
    url = "/complaints?limit=5"
    while url:
        body = caller.get(url).get_json()
        assert body["total"] == 23
        seen += [item["id"] for item in body["items"]]
        pages += 1
        url = body["next"] and body["next"].split("/api/v1", 1)[1]
    assert pages == 5 and len(seen) == 23 and len(set(seen)) == 23
    due = [item["clock"]["due_at"] for item in caller.get("/complaints?limit=200").get_json()["items"]]
    assert due == sorted(due)


def test_a_forged_page_link_is_422(api, world):
    response = api(world.investigator).get("/complaints?after=bm90LWEtY3Vyc29y")
    assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {"after"}
    assert api(world.investigator).get("/complaints?limit=201").status_code == 422


def test_list_pages_show_the_total_and_link_the_next_page(client, login, world, file_complaints):
    file_complaints(55)
    login(world.admin)
    first = client.get("/complaints/").get_data(as_text=True)
    assert "55 in all · page 1 of 2" in first and 'href="/complaints/?page=2"' in first
    second = client.get("/complaints/?page=2").get_data(as_text=True)
    assert "page 2 of 2" in second
    shown = [CASE_LINK.findall(page) for page in (first, second)]
    assert [len(ids) for ids in shown] == [50, 5] and len(set(shown[0]) | set(shown[1])) == 55


@contextmanager
def transaction_ends(app):
    """How the transactions the app runs end, in order ("commit" or "rollback")."""
    ends = []
    engine = db.engine_for(app)
    handlers = {name: (lambda conn, name=name: ends.append(name)) for name in ("commit", "rollback")}
    for name, handler in handlers.items():
        event.listen(engine, name, handler)
    try:
        yield ends
    finally:
        for name, handler in handlers.items():
            event.remove(engine, name, handler)


def test_a_read_that_succeeds_commits_on_postgresql_and_one_that_fails_rolls_back(app, api, world, file_complaints):
    file_complaints(2)
    caller = api(world.supervisor)
    with transaction_ends(app) as ends:
        assert caller.get("/complaints?limit=5").status_code == 200
    if BACKEND == "postgresql":
        assert ends == ["commit"], "psycopg forgets its prepared statements at a rollback"
    else:  # SQLite keeps nothing prepared across transactions: closing ends the read
        assert ends == ["rollback"]
    with transaction_ends(app) as ends:
        assert caller.get("/complaints/999999").status_code == 404
    assert "commit" not in ends


def load_many_complaints(session, agency_id: int, n: int) -> None:
    """n more complaints with their clocks, written by two statements, and the
    planner's statistics brought up to date (autovacuum may be off)."""
    session.execute(text("""
        INSERT INTO complaints (agency_id, filed_by_org_id, employer_name, employer_key, description, language,
                                workers_affected, received_at, status, created_at)
        SELECT :agency, :agency, 'Employer ' || g, 'employer ' || g, 'Loaded for planning.', 'en', 1,
               now() - g * interval '1 minute', 'open', now()
        FROM generate_series(1, :n) AS g"""), {"agency": agency_id, "n": n})
    session.execute(text("""
        INSERT INTO deadlines (organization_id, subject_type, subject_id, kind, reference, path, starts_at, due_at,
                               position, created_at)
        SELECT c.agency_id, 'complaint', c.id, 'complaint_response', 'RC-' || c.id, '/complaints/' || c.id,
               c.received_at, c.received_at + interval '48 hours', 1, now()
        FROM complaints AS c LEFT JOIN deadlines AS d
             ON d.subject_type = 'complaint' AND d.subject_id = c.id AND d.kind = 'complaint_response'
        WHERE d.id IS NULL"""))
    session.commit()
    session.execute(text("ANALYZE complaints"))
    session.execute(text("ANALYZE deadlines"))
    session.commit()


@pytest.mark.postgresql_only
@pytest.mark.parametrize("path", ["/complaints?limit=50", "/complaints?limit=50&state=running"])
def test_a_list_statement_is_prepared_and_planned_once(app, api, world, session, path):
    # Planning the list statement cost more than running it. Prepared (a read
    # that succeeds commits, so psycopg keeps what it prepared) and with the
    # page size in its text, PostgreSQL settles on one generic plan; with the
    # LIMIT a parameter it planned every request again.
    load_many_complaints(session, world.agency.id, 2000)
    caller = api(world.supervisor)
    served = []

    def seen(conn, cursor, statement, *_):
        if " LIMIT " in statement:
            served.append((conn.connection.dbapi_connection, statement))
    engine = db.engine_for(app)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for _ in range(15):
            assert caller.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    connection, statement = served[-1]
    assert all(c is connection for c, _ in served), "one connection served the requests one after another"
    with connection.cursor() as cursor:
        # psycopg numbers the parameters of what it prepares: compare the text before the first.
        head = statement.split("%(", 1)[0]
        plans = cursor.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                               "WHERE left(statement, %s) = %s", (len(head), head)).fetchall()
    connection.rollback()
    assert plans, "the list statement is prepared on its connection"
    generic, custom = plans[0]
    assert generic >= 5 and custom <= 5, plans
