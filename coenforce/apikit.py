"""What every JSON endpoint shares: bearer-token auth, body parsing against
the OpenAPI schemas, the error shape, and the OpenAPI document itself."""
from __future__ import annotations

import functools

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _
from jsonschema import Draft202012Validator

from coenforce.db import db
from coenforce.errors import api_error
from coenforce.security.tokens import user_for_token
from coenforce.validation import Conflict, NotAllowed, ValidationError

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)


def blueprint(name: str) -> Blueprint:
    """A module's API blueprint, with the shared error handling."""
    module_bp = Blueprint(name, __name__, url_prefix=PREFIX)
    module_bp.register_error_handler(ValidationError, _validation_error)
    module_bp.register_error_handler(NotAllowed, lambda exc: api_error(403, _("You do not have permission to do that.")))
    module_bp.register_error_handler(Conflict, lambda exc: api_error(409, str(exc.message) or _("Conflict.")))
    return module_bp


def _validation_error(exc: ValidationError):
    return api_error(422, _("Some fields are invalid."), exc.fields)


class ApiAbort(Exception):
    def __init__(self, status: int, message: str, fields: dict | None = None):
        self.response = api_error(status, message, fields)


def token_required(view):
    """Authenticate with `Authorization: Bearer <token>` (401 otherwise); sets g.api_user."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        user = user_for_token(db.session, token.strip()) if scheme.lower() == "bearer" and token else None
        if user is None:
            response = api_error(401, _("A valid API token is required."))
            response[0].headers["WWW-Authenticate"] = "Bearer"
            return response
        g.api_user = user
        try:
            return view(*args, **kwargs)
        except ApiAbort as abort:
            db.session.rollback()
            return abort.response
    return wrapper


def json_body(schema_name: str) -> dict:
    """The request's JSON object, checked against the named OpenAPI schema."""
    from coenforce.openapi import component

    if not request.is_json:
        raise ApiAbort(415, _("Send JSON with Content-Type: application/json."))
    data = request.get_json(silent=True)
    if data is None:
        raise ApiAbort(400, _("The body is not valid JSON."))
    if not isinstance(data, dict):
        raise ApiAbort(422, _("The body must be a JSON object."), {"body": _("Must be a JSON object.")})
    fields: dict[str, str] = {}
    validator = Draft202012Validator(component(schema_name))
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else "body"
            fields.setdefault(missing, _("This field is required."))
        elif error.validator == "additionalProperties":
            for extra in sorted(set(data) - set(component(schema_name).get("properties", {}))):
                fields.setdefault(extra, _("Unknown field."))
        else:
            name = str(error.absolute_path[0]) if error.absolute_path else "body"
            fields.setdefault(name, _schema_message(error))
    if fields:
        raise ApiAbort(422, _("Some fields are invalid."), fields)
    return data


def _schema_message(error) -> str:
    return {
        "type": _("Has the wrong type."),
        "enum": _("Choose one of the listed values."),
        "maxLength": _("Is too long."),
        "minLength": _("Is too short."),
        "minItems": _("Choose at least one."),
        "minimum": _("Is too small."),
        "maximum": _("Is too large."),
        "format": _("Has the wrong format."),
        "uniqueItems": _("Lists a value twice."),
        "pattern": _("Has the wrong format."),
    }.get(error.validator, _("Is invalid."))


def current_api_user():
    return g.api_user


def respond(payload, status: int = 200):
    return jsonify(payload), status


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3 document of every endpoint (public: it names no data)."""
    from coenforce.openapi import document
    return jsonify(document())
