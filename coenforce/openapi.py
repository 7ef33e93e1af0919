"""The OpenAPI 3 document: the description of every endpoint and the schemas
that request bodies are checked against (coenforce.apikit.json_body)."""
from __future__ import annotations

import copy

from coenforce.complaints.types import ACTION_TYPES, ATTORNEY_LIST_LANGUAGES, RETALIATION_TYPES
from coenforce.notify.models import NOTICE_STATUSES
from coenforce.validation import MAX_ID

TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}

_SCHEMAS: dict = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                           "fields": {"type": "object", "additionalProperties": {"type": "string"}}},
        }},
    },
    "Clock": {
        "type": "object", "required": ["due_at", "stopped_at", "state"],
        "properties": {
            "started_at": TIME, "due_at": TIME, "stopped_at": NULLABLE_TIME,
            "state": {"type": "string", "enum": ["running", "met", "breached"]},
            "target_hours": {"type": "number"},
            "remaining_seconds": {"type": ["integer", "null"]},
            "elapsed_seconds": {"type": "integer"},
        },
    },
    "ComplaintIn": {
        "type": "object", "additionalProperties": False,
        "required": ["employer_name", "retaliation_types", "description"],
        "properties": {
            "employer_name": {"type": "string", "minLength": 1, "maxLength": 200},
            "retaliation_types": {"type": "array", "minItems": 1, "uniqueItems": True,
                                  "items": {"type": "string", "enum": list(RETALIATION_TYPES)}},
            "description": {"type": "string", "minLength": 1, "maxLength": 10000},
            "labor_dispute": {"type": "string", "maxLength": 5000},
            "received_at": TIME,
            "language": {"type": "string", "enum": list(ATTORNEY_LIST_LANGUAGES)},
            "workers_affected": {"type": "integer", "minimum": 1, "maximum": 100000},
            "worksite_address": {"type": "string", "maxLength": 300},
            "shared_with": {"type": "array", "uniqueItems": True, "items": ID},
            "agency_id": ID,
        },
    },
    "ActionIn": {
        "type": "object", "additionalProperties": False, "required": ["type"],
        "properties": {
            "type": {"type": "string", "enum": list(ACTION_TYPES)},
            "taken_at": TIME,
            "note": {"type": "string", "maxLength": 5000},
            "language": {"type": "string", "enum": list(ATTORNEY_LIST_LANGUAGES)},
        },
    },
    "Action": {
        "type": "object", "required": ["id", "type", "qualifying", "taken_at"],
        "properties": {"id": ID, "type": {"type": "string"}, "qualifying": {"type": "boolean"}, "taken_at": TIME,
                       "note": {"type": ["string", "null"]}, "language": {"type": ["string", "null"]},
                       "recorded_by": {"type": "integer"}, "recorded_at": TIME},
    },
    "Complaint": {
        "type": "object",
        "required": ["id", "employer_name", "retaliation_types", "status", "received_at", "clock", "actions"],
        "properties": {
            "id": ID, "reference": {"type": "string"}, "agency_id": ID, "filed_by_org_id": ID,
            "employer_name": {"type": "string"},
            "retaliation_types": {"type": "array", "items": {"type": "string"}},
            "description": {"type": "string"}, "labor_dispute": {"type": ["string", "null"]},
            "worksite_address": {"type": ["string", "null"]}, "language": {"type": "string"},
            "workers_affected": {"type": "integer"}, "received_at": TIME,
            "status": {"type": "string", "enum": ["open", "responding", "closed"]},
            "assignee_id": {"type": ["integer", "null"]},
            "shared_with": {"type": "array", "items": {"type": "integer"}},
            "attorney_list": {"type": "object", "properties": {"provided_at": NULLABLE_TIME,
                                                               "language": {"type": ["string", "null"]}}},
            "damages": {"type": "object"},
            "closed_at": NULLABLE_TIME,
            "clock": {"$ref": "#/components/schemas/Clock"},
            "actions": {"type": "array", "items": {"$ref": "#/components/schemas/Action"}},
        },
    },
    "Notice": {
        "type": "object", "required": ["id", "recipient", "kind", "status", "created_at", "sent_at"],
        "properties": {
            "id": ID, "recipient": {"type": "string"}, "kind": {"type": "string"},
            "status": {"type": "string", "enum": list(NOTICE_STATUSES)},
            "subject_type": {"type": "string"}, "subject_id": {"type": "integer"},
            "attempts": {"type": "integer"}, "last_error": {"type": ["string", "null"]},
            "created_at": TIME, "sent_at": NULLABLE_TIME,
        },
    },
}


def component(name: str) -> dict:
    """A schema with its $refs resolved, for checking request bodies."""
    return _SCHEMAS[name]


def _json(schema_ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}


def _list_of(schema_ref: str) -> dict:
    return {"application/json": {"schema": {
        "type": "object", "required": ["items"],
        "properties": {"items": {"type": "array", "items": {"$ref": f"#/components/schemas/{schema_ref}"}}}}}}


def _errors(*codes: int) -> dict:
    text = {400: "Malformed JSON", 401: "Missing or bad token", 403: "Not allowed", 404: "Not found",
            409: "Conflict with the record's state", 415: "Not JSON", 422: "Invalid fields"}
    return {str(c): {"description": text[c], "content": _json("Error")} for c in codes}


_ID_PARAM = {"name": "id", "in": "path", "required": True, "schema": ID}


def document() -> dict:
    paths = {
        "/complaints": {
            "post": {
                "summary": "File a retaliation complaint; its response clock starts.",
                "requestBody": {"required": True, "content": _json("ComplaintIn")},
                "responses": {"201": {"description": "Created", "content": _json("Complaint")},
                              **_errors(400, 401, 403, 415, 422)},
            },
            "get": {
                "summary": "Complaints the caller may see.",
                "parameters": [
                    {"name": "state", "in": "query", "schema": {"type": "string", "enum": ["running", "met", "breached"]}},
                    {"name": "assignee_id", "in": "query", "schema": ID},
                    {"name": "employer", "in": "query", "schema": {"type": "string", "maxLength": 200}},
                ],
                "responses": {"200": {"description": "OK", "content": _list_of("Complaint")}, **_errors(401, 422)},
            },
        },
        "/complaints/{id}": {
            "get": {
                "summary": "One complaint with its clock and actions.",
                "parameters": [_ID_PARAM],
                "responses": {"200": {"description": "OK", "content": _json("Complaint")}, **_errors(401, 404)},
            },
        },
        "/complaints/{id}/actions": {
            "post": {
                "summary": "Record a response action; the first qualifying one stops the clock.",
                "parameters": [_ID_PARAM],
                "requestBody": {"required": True, "content": _json("ActionIn")},
                "responses": {"201": {"description": "Created", "content": _json("Complaint")},
                              **_errors(400, 401, 403, 404, 409, 415, 422)},
            },
        },
        "/notices": {
            "get": {
                "summary": "The organization's notices (agency admins and supervisors).",
                "parameters": [
                    {"name": "subject_type", "in": "query", "schema": {"type": "string", "enum": [
                        "complaint", "third_party_complaint", "detention", "raid", "raid_task"]}},
                    {"name": "subject_id", "in": "query", "schema": ID},
                ],
                "responses": {"200": {"description": "OK", "content": _list_of("Notice")}, **_errors(401, 403, 422)},
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "coenforce", "version": "1",
                 "description": "Retaliation complaints, their response clocks and escalation notices."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": copy.deepcopy(_SCHEMAS),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
