"""Nothing leaks sideways: a full request cycle with canary personal data
leaves no canary in any log record, even with SQL statement logging on. The
check reads the log as written (`caplog.text`): messages, their arguments and
tracebacks, not only each record's message."""
import logging

from coenforce import escalation
from coenforce.notify.dispatcher import dispatch

from tests.conftest import csrf_token

CANARY = "Canary-Xq7Zr"


def leaked(caplog, canary: str = CANARY) -> list[str]:
    """The lines of the captured log, tracebacks included, that carry the canary."""
    return [line for line in caplog.text.splitlines() if canary in line]


def test_the_check_sees_a_canary_in_a_traceback(caplog):
    """A canary only in an exception's text is not in any record's message, but it is in the log."""
    caplog.set_level(logging.DEBUG)
    try:
        raise ValueError(f"bad value {CANARY}")
    except ValueError:
        logging.getLogger("coenforce.test").exception("request failed")
    assert not [r for r in caplog.records if CANARY in r.getMessage()]
    assert leaked(caplog) == [f"ValueError: bad value {CANARY}"]


def test_no_canary_reaches_any_log_record(app, client, login, api, world, session, frozen, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # as if an operator turned on SQL logging
    try:
        login(world.investigator)
        token = csrf_token(client, "/complaints/new")
        filed = client.post("/complaints/new", data={
            "employer_name": f"{CANARY} Farms", "retaliation_types": ["immigration_threat"],
            "description": f"{CANARY} was told immigration would be called.", "labor_dispute": f"{CANARY} wages",
            "workers_affected": "1", "language": "es", "received_at": "", "csrf_token": token})
        assert filed.status_code == 302
        page = filed.headers["Location"]
        client.post(f"{page}/actions", data={"type": "note", "note": f"Spoke to {CANARY}", "taken_at": "",
                                             "csrf_token": csrf_token(client, page)})
        # Bad input carrying the canary, through the pages and the API.
        client.post("/complaints/new", data={"employer_name": f"{CANARY}\x00", "csrf_token": token})
        caller = api(world.liaison)
        caller.post("/complaints", json={"employer_name": CANARY, "retaliation_types": ["x"], "description": CANARY})
        caller.post("/complaints", data=f'{{"employer_name": "{CANARY}"', headers={"Content-Type": "application/json"})
        # The escalation tick and the dispatcher (log sender) over the canary case.
        frozen.advance(hours=50)
        escalation.tick(session, frozen())
        dispatch(session, frozen())
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert len(caplog.records) > 10, "the cycle was logged (SQL, notices), so the check means something"
    assert not leaked(caplog), leaked(caplog)
