"""The shape every module follows (docs/adding-a-module.md), checked: the
OpenAPI document covers every API route, registration is per app, the engine
and the configuration import no domain module, and API errors speak the
caller's language."""
import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from config import Config

from coenforce import create_app
from coenforce.db import db
from coenforce.escalation.service import ladder_for
from coenforce.notify.service import message_for
from coenforce.openapi import document

ROOT = Path(__file__).resolve().parent.parent
# Packages of the domain: the engine and the configuration must not import them.
DOMAIN = ("coenforce.complaints", "coenforce.partners", "coenforce.main", "coenforce.audit",
          "coenforce.security", "coenforce.thirdparty", "coenforce.detentions", "coenforce.raids")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_the_openapi_document_covers_every_api_route_and_method(app):
    documented = {(path, method) for path, methods in document()["paths"].items() for method in methods}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi_document":
            path = re.sub(r"<(?:[^>]+:)?([a-z_]+)>", r"{\1}", rule.rule[len("/api/v1"):])
            served |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served and documented == served


def test_every_documented_operation_says_how_it_fails(app):
    for path, methods in document()["paths"].items():
        for method, operation in methods.items():
            assert "401" in operation["responses"], (path, method)
            if "requestBody" in operation:
                assert {"400", "415", "422"} <= set(operation["responses"]), (path, method)


@pytest.mark.parametrize("path", ["config.py", *sorted(str(p.relative_to(ROOT))
                                                      for p in (ROOT / "coenforce/escalation").glob("*.py"))])
def test_the_engine_and_the_configuration_import_no_domain_module(path):
    imports = imported_modules(ROOT / path)
    assert not {name for name in imports if name.startswith(DOMAIN)}, path


def test_importing_the_configuration_loads_nothing_of_the_app():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, config; print(sorted(m for m in sys.modules if m.startswith('coenforce')))"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


def test_registration_belongs_to_each_app_not_to_the_process(database_url, frozen):
    """Two apps with different ladders live side by side: nothing is kept in module globals."""
    from config import COMPLAINT_RESPONSE_LADDER
    quick = [dict(rung) for rung in COMPLAINT_RESPONSE_LADDER]
    quick[-1] = {**quick[-1], "repeat": "1h"}
    plain = create_app({"DATABASE_URL": database_url})
    hourly = create_app({"DATABASE_URL": database_url,
                         "ESCALATION_LADDERS": {**Config.ESCALATION_LADDERS, "complaint_response": quick}})
    try:
        with plain.app_context():
            plain_repeat = ladder_for("complaint_response").rungs[-1].repeat
            assert str(message_for("complaint_response.breach").title) == "Response target missed"
        with hourly.app_context():
            hourly_repeat = ladder_for("complaint_response").rungs[-1].repeat
        assert (plain_repeat.total_seconds(), hourly_repeat.total_seconds()) == (86400, 3600)
    finally:
        for each in (plain, hourly):
            db.engine_for(each).dispose()


def test_a_ladder_no_module_uses_stops_the_app(database_url):
    from config import COMPLAINT_RESPONSE_LADDER, ConfigError
    with pytest.raises(ConfigError, match="'raid_tasks'.*no module registers"):
        create_app({"DATABASE_URL": database_url,
                    "ESCALATION_LADDERS": {**Config.ESCALATION_LADDERS, "raid_tasks": COMPLAINT_RESPONSE_LADDER}})


def test_a_module_without_its_ladder_stops_the_app(database_url):
    from config import ConfigError
    ladders = {k: v for k, v in Config.ESCALATION_LADDERS.items() if k != "third_party_decision"}
    with pytest.raises(ConfigError, match="no ladder for the deadline kind 'third_party_decision'"):
        create_app({"DATABASE_URL": database_url, "ESCALATION_LADDERS": ladders})


def test_api_errors_speak_the_callers_language(world, api):
    # world.supervisor reads Spanish; world.investigator English.
    body = {"retaliation_types": ["firing"], "description": "x", "immigration_status": "x"}
    spanish = api(world.supervisor).post("/complaints", json=body).get_json()["error"]
    english = api(world.investigator).post("/complaints", json=body).get_json()["error"]
    assert spanish["fields"] == {"employer_name": "Este campo es obligatorio.",
                                 "retaliation_types": "Elija uno de los valores de la lista.",
                                 "immigration_status": "Campo desconocido."}
    assert english["fields"] == {"employer_name": "This field is required.",
                                 "retaliation_types": "Choose one of the listed values.",
                                 "immigration_status": "Unknown field."}
