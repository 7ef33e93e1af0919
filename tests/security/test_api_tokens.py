"""API tokens: the caller is found by the token alone, and what only signing in
uses (the password hash, the TOTP secret, the lockout counters) is never read."""
from tests.conftest import statements

SIGN_IN_ONLY = ("password_hash", "totp_secret_enc", "totp_last_step", "failed_logins", "locked_until")


def test_an_api_call_reads_its_caller_without_the_sign_in_secrets(app, api, world):
    caller = api(world.investigator)
    with statements(app) as seen:
        filed = caller.post("/complaints", json={"employer_name": "Acme Packing",
                                                 "retaliation_types": ["immigration_threat"],
                                                 "description": "Threatened to call immigration."})
        listed = caller.get("/complaints")
    assert filed.status_code == 201, filed.get_json()
    assert listed.status_code == 200 and listed.get_json()["total"] == 1
    token_reads = [s for s in seen if "api_tokens" in s]
    assert len(token_reads) == 2  # one per call
    assert not [s for s in seen if any(column in s for column in SIGN_IN_ONLY)]


def test_a_revoked_token_opens_nothing(app, api, world, session):
    from sqlalchemy import update

    from coenforce import clock
    from coenforce.security.models import ApiToken
    caller = api(world.investigator)
    assert caller.get("/complaints").status_code == 200
    session.execute(update(ApiToken).values(revoked_at=clock.now()))
    session.commit()
    response = caller.get("/complaints")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
