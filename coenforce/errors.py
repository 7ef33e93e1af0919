"""Error pages and JSON errors: generic, translated, never a traceback."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug import exceptions as werkzeug_exceptions
from werkzeug.exceptions import HTTPException, InternalServerError

from coenforce.validation import NotAllowed, NotFound

log = logging.getLogger("coenforce")

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid", 429: "rate_limited",
          500: "internal_error"}


def api_error(status: int, message: str, fields: dict | None = None):
    body = {"error": {"code": _CODES.get(status, "error"), "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc):
        if _wants_json():
            return api_error(400, _("The form expired or was not sent by this site."))
        return render_template("errors/error.html", status=400,
                               message=_("The form expired or was not sent by this site. Go back, reload and try again.")), 400

    # A service's refusals, where a page did not handle them itself.
    app.register_error_handler(NotFound, lambda exc: _http(werkzeug_exceptions.NotFound()))
    app.register_error_handler(NotAllowed, lambda exc: _http(werkzeug_exceptions.Forbidden()))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        messages = {
            400: _("The request could not be understood."),
            401: _("Sign in to continue."),
            403: _("You do not have permission to do that."),
            404: _("Not found."),
            405: _("That method is not allowed here."),
            413: _("The request is too large."),
            429: _("Too many attempts. Wait a minute and try again."),
        }
        message = messages.get(status, _("Something went wrong."))
        if _wants_json():
            return api_error(status, message)
        return render_template("errors/error.html", status=status, message=message), status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return _http(exc)
        # Logged with its traceback for operators; the user sees a generic page.
        log.exception("unhandled error on %s %s", request.method, request.url_rule or "?")
        return _http(InternalServerError())
