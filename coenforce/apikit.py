"""What every JSON endpoint shares: bearer-token auth, the order of checks,
parsing with the operation's schemas, the error shape, and the description
the OpenAPI document is generated from.

An endpoint is declared with `@operation(...)`; the view receives the caller
and parsed input and returns what the response schema describes:

    @bp.post("/complaints/<id:id>/actions")
    @operation(_l("Record a response action."), record=service.get_complaint,
               requires="complaint.act", body=ActionIn, response=ComplaintOut, status=201)
    def add_action(user, complaint, body): ...

Checks run in one order for every endpoint: token (401), the record within
the caller's scope (404), the caller's role (403), then the input (400, 415,
422), so a refusal never says anything about the fields.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlencode

from flask import Blueprint, Flask, current_app, g, jsonify, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from pydantic import BaseModel, TypeAdapter, create_model

from coenforce import schemas
from coenforce.db import READ_METHODS, db
from coenforce.errors import api_error
from coenforce.security import policy
from coenforce.security.tokens import user_for_token
from coenforce.validation import Conflict, NotAllowed, NotFound, ValidationError

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says of one endpoint."""

    summary: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    many: bool
    record: bool
    requires: str | None
    conflict: bool

    def error_statuses(self) -> list[int]:
        codes = {401}
        if self.record:
            codes.add(404)
        if self.requires or self.record:
            codes.add(403)
        if self.body:
            codes |= {400, 415, 422}
        if self.query:
            codes.add(422)
        if self.conflict:
            codes.add(409)
        return sorted(codes)


class ApiAbort(Exception):
    def __init__(self, status: int, message: str, fields: dict | None = None):
        self.response = api_error(status, message, fields)


class NoCookieSessionOnTheApi(SecureCookieSessionInterface):
    """The JSON API knows its callers by bearer token only (and so asks for no
    CSRF token): a session cookie sent with an API request is not even read, so
    no signed-in browser session can act through the API."""

    def open_session(self, app: Flask, request):
        if request.path.startswith(PREFIX + "/"):
            return None  # Flask gives the request a null session
        return super().open_session(app, request)


def blueprint(name: str) -> Blueprint:
    """A module's API blueprint, with the shared error handling."""
    module_bp = Blueprint(name, __name__, url_prefix=PREFIX)
    module_bp.register_error_handler(ApiAbort, lambda exc: exc.response)
    module_bp.register_error_handler(ValidationError, _validation_error)
    module_bp.register_error_handler(NotFound, lambda exc: api_error(404, _("Not found.")))
    module_bp.register_error_handler(NotAllowed,
                                     lambda exc: api_error(403, _("You do not have permission to do that.")))
    module_bp.register_error_handler(Conflict, lambda exc: api_error(409, str(exc.message) or _("Conflict.")))
    return module_bp


def register(app: Flask, module_bp: Blueprint) -> None:
    """Serve a module's API: bearer tokens only, so no CSRF token is asked for."""
    from coenforce.extensions import csrf
    csrf.exempt(module_bp)
    app.register_blueprint(module_bp)


def _validation_error(exc: ValidationError):
    return api_error(422, _("Some fields are invalid."), exc.fields)


def _caller():
    """The user of `Authorization: Bearer <token>`, or ApiAbort(401)."""
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    user = _token_user(token.strip()) if scheme.lower() == "bearer" and token else None
    if user is None:
        abort = ApiAbort(401, _("A valid API token is required."))
        abort.response[0].headers["WWW-Authenticate"] = "Bearer"
        raise abort
    g.api_user = user  # the caller's language words the errors
    return user


def _token_user(token: str):
    """The token's user, in the request's session. On SQLite a request that
    writes holds the one write lock from its first statement: the token is read
    in a read transaction of its own first, so the lock is taken by the writes."""
    if request.method in READ_METHODS or db.engine_for(current_app).dialect.name != "sqlite":
        return user_for_token(db.session, token)
    reader = db.new_session(sqlite_begin="DEFERRED")
    try:
        user = user_for_token(reader, token)
    finally:
        reader.close()
    return db.session.merge(user, load=False) if user is not None else None


def _body(model: type[BaseModel]):
    if not request.is_json:
        raise ApiAbort(415, _("Send JSON with Content-Type: application/json."))
    if request.get_json(silent=True) is None:
        raise ApiAbort(400, _("The body is not valid JSON."))
    return schemas.parse_json(model, request.get_data())


def _next_link(page: schemas.Page) -> str | None:
    """The URL of the page after this one: the same request with the last item's cursor."""
    if page.next_key is None:
        return None
    args = {**request.args.to_dict(), "after": schemas.encode_cursor(page.next_key)}
    return f"{request.base_url}?{urlencode(args)}"


def _page_model(item: type[BaseModel]) -> type[BaseModel]:
    """A list response: the page's items, how many match in all, the next page's URL."""
    return create_model(f"{item.__name__}Page", items=(list[item], ...), total=(int, ...), next=(str | None, ...))


def _json(out: BaseModel, status: int):
    # pydantic writes the JSON itself (in Rust), without a dict built first.
    return _json_bytes(out.model_dump_json(), status)


def _json_bytes(body: str | bytes, status: int):
    return current_app.response_class(body, status=status, mimetype="application/json")


def operation(summary, *, record: Callable | None = None, requires: str | None = None,
              body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
              response: type[BaseModel] | None = None, status: int = 200, many: bool = False,
              conflict: bool = False):
    """Declare a JSON endpoint: see the module docstring. `record(session, user, id)`
    loads the record named by the path's `id` within the caller's scope."""
    items = TypeAdapter(list[response]) if response is not None and many else None
    page_out = _page_model(response) if items is not None else None

    def decorate(view):
        @functools.wraps(view)
        def endpoint(**path: Any):
            user = _caller()
            args: list = [user]
            if record is not None:
                args.append(record(db.session, user, path.pop("id")))
            if requires is not None and not policy.allowed(user, requires):
                raise NotAllowed()
            kwargs = dict(path)
            if query is not None:
                kwargs["query"] = schemas.parse(query, request.args.to_dict())
            if body is not None:
                kwargs["body"] = _body(body)
            result = view(*args, **kwargs)
            if response is None:
                return jsonify(result or {}), status
            if many:
                page = result if isinstance(result, schemas.Page) else schemas.Page(list(result), len(result), None)
                if page.shaped:
                    return _json_bytes(schemas.row_serializer(page_out).to_json(
                        {"items": page.items, "total": page.total, "next": _next_link(page)}, warnings="error"), status)
                # Items the service already built as the response schema are not validated twice.
                built = all(isinstance(item, response) for item in page.items)
                out = page_out.model_construct(
                    items=page.items if built else items.validate_python(page.items, from_attributes=True),
                    total=page.total, next=_next_link(page))
                return _json(out, status)
            return _json(response.model_validate(result), status)

        endpoint.operation = Operation(summary, body, query, response, status, many, record is not None,
                                       requires, conflict)
        return endpoint
    return decorate


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3 document of every endpoint (public: it names no data)."""
    from coenforce.openapi import document
    return jsonify(document())
