"""The OpenAPI 3.1 document, generated from the routes under /api/v1 and the
schemas each one declares with `apikit.operation`: nothing here is written by
hand, so the document cannot drift from what the API accepts and returns."""
from __future__ import annotations

import re

from flask import Flask, current_app
from pydantic.json_schema import models_json_schema

from coenforce.apikit import PREFIX, Operation
from coenforce.validation import MAX_ID

_ERRORS = {400: "Malformed JSON", 401: "Missing or bad token", 403: "Not allowed", 404: "Not found",
           409: "Conflict with the record's state", 415: "Not JSON", 422: "Invalid fields"}
_ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                       "fields": {"type": "object", "additionalProperties": {"type": "string"}}},
    }},
}
_PARAMETER = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")
# A path segment that takes one of a few words: <any(consulate,family):task>.
_CHOICE = re.compile(r"<any\(([a-z_, ]+)\):([a-z_]+)>")
_REF = "#/components/schemas/{model}"


def operations(app: Flask) -> list[tuple[str, str, Operation, dict[str, list[str]]]]:
    """(path, method, operation, the words of its choice segments) of every documented
    endpoint, the path as OpenAPI writes it."""
    found = []
    for rule in app.url_map.iter_rules():
        op = getattr(app.view_functions[rule.endpoint], "operation", None)
        if op is None or not rule.rule.startswith(PREFIX):
            continue
        choices = {name: [w.strip() for w in words.split(",")] for words, name in _CHOICE.findall(rule.rule)}
        path = _PARAMETER.sub(r"{\1}", _CHOICE.sub(r"{\2}", rule.rule[len(PREFIX):]))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((path, method.lower(), op, choices))
    return found


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _without_null(schema: dict) -> dict:
    """A query parameter is absent, never null: document only its other forms."""
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    if len(options) == 1:
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
        return {**rest, **options[0]}
    return {k: v for k, v in schema.items() if k != "default"}


def document(app: Flask | None = None) -> dict:
    found = operations(app or current_app)
    models = {(op.body, "validation") for _p, _m, op, _c in found if op.body}
    models |= {(op.query, "validation") for _p, _m, op, _c in found if op.query}
    models |= {(op.response, "serialization") for _p, _m, op, _c in found if op.response}
    keys, definitions = models_json_schema(sorted(models, key=lambda m: (m[0].__name__, m[1])), ref_template=_REF)
    components = {"Error": _ERROR_SCHEMA, **definitions.get("$defs", {})}

    paths: dict[str, dict] = {}
    for path, method, op, choices in found:
        spec: dict = {"summary": op.summary}
        parameters = [{"name": name, "in": "path", "required": True,
                       "schema": {"type": "string", "enum": choices[name]} if name in choices
                       else {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
                      for name in re.findall(r"{([a-z_]+)}", path)]
        if op.query:
            query = op.query.model_json_schema(ref_template=_REF)
            parameters += [{"name": name, "in": "query", "schema": _without_null(schema)}
                           for name, schema in query.get("properties", {}).items()]
        if parameters:
            spec["parameters"] = parameters
        if op.body:
            spec["requestBody"] = {"required": True, "content": _json(keys[(op.body, "validation")])}
        if op.response is None:
            result = {"type": "object"}
        elif op.many:
            result = {"type": "object", "required": ["items", "total", "next"], "properties": {
                "items": {"type": "array", "items": keys[(op.response, "serialization")]},
                "total": {"type": "integer", "minimum": 0},
                "next": {"type": ["string", "null"], "description": "The URL of the next page, or null"}}}
        else:
            result = keys[(op.response, "serialization")]
        spec["responses"] = {str(op.status): {"description": "OK", "content": _json(result)}}
        for code in op.error_statuses():
            spec["responses"][str(code)] = {"description": _ERRORS[code],
                                            "content": _json({"$ref": "#/components/schemas/Error"})}
        paths.setdefault(path, {})[method] = spec
    return {
        "openapi": "3.1.0",
        "info": {"title": "coenforce", "version": "1",
                 "description": "Retaliation complaints, their response clocks and escalation notices."},
        "servers": [{"url": PREFIX}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
