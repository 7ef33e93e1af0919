"""The public intake: anyone reports an employer without an account, and later
reads the report's status with a receipt code.

It asks for nothing about the reporter and keeps nothing about the request:
no address or browser is stored, and the rate limit counts under a keyed hash
of the address that lives only in the limiter's short-lived counters. Plain
HTML forms, no script: it works on a cheap phone.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re

from flask import Blueprint, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from coenforce import schemas
from coenforce.db import db
from coenforce.extensions import limiter
from coenforce.forms import apply_errors, choices
from coenforce.thirdparty import service
from coenforce.thirdparty.forms import PublicReportForm, ReceiptForm
from coenforce.thirdparty.schemas import PublicReportIn, ReceiptIn
from coenforce.validation import NotFound, ValidationError

bp = Blueprint("public", __name__, url_prefix="/report")


def _address_key() -> str:
    """The rate limit's key: the address under a keyed hash, never the address."""
    secret = current_app.config["SECRET_KEY"].encode()
    return "public:" + hmac.new(secret, get_remote_address().encode(), hashlib.sha256).hexdigest()[:32]


def _lang() -> str:
    return str(get_locale())


@bp.route("/", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PUBLIC_REPORT_RATE_LIMIT"], methods=["POST"], key_func=_address_key)
def report():
    form = PublicReportForm()
    agencies = service.agency_choices(db.session, None)
    form.agency_id.choices = choices((str(a.id), a.name) for a in agencies)
    status = 200
    if request.method == "POST":
        try:
            data = schemas.parse(PublicReportIn, schemas.form_values(PublicReportIn, request.form))
            report, code = service.file_public_report(db.session, data)
            db.session.commit()
            return render_template("public/receipt.html", code=code, agency=report.agency, lang=_lang())
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
            status = 422
    return render_template("public/report.html", form=form, multiple_agencies=len(agencies) > 1,
                           lang=_lang()), status


@bp.route("/status", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PUBLIC_RECEIPT_RATE_LIMIT"], methods=["POST"], key_func=_address_key)
def status():
    """The code travels in the body of a POST, never in a URL that could be logged."""
    form = ReceiptForm()
    found, code = None, 200
    if request.method == "POST":
        try:
            found = service.report_for_receipt(db.session, schemas.parse(
                ReceiptIn, schemas.form_values(ReceiptIn, request.form)))
        except ValidationError as exc:
            apply_errors(form, exc)
            code = 422
        except NotFound:
            form.code.errors = list(form.code.errors) + [_("No report has this receipt code. Check it and try again.")]
            code = 404
    return render_template("public/status.html", form=form, report=found, lang=_lang()), code


class _NoClientAddress(logging.Filter):
    """The development server's request log begins with the client's address:
    replace it, so that no log of this app holds one."""

    _ADDRESS = re.compile(r"^\S+ - - ")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = self._ADDRESS.sub("- - - ", record.msg)
        return True


def init_app(app) -> None:
    app.register_blueprint(bp)
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, _NoClientAddress) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(_NoClientAddress())
