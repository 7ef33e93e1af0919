"""Pages for third-party complaints and the strategic-enforcement queue: thin,
form -> schema -> service -> redirect."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coenforce import schemas
from coenforce.db import db
from coenforce.escalation import ClockState
from coenforce.forms import apply_errors, choices, save_change, submitted
from coenforce.schemas import PageNumber
from coenforce.security import policy
from coenforce.thirdparty import queue, service
from coenforce.thirdparty.forms import DecisionForm, InvestigateForm, ReportForm
from coenforce.thirdparty.schemas import DecisionIn, InvestigateIn, QueueFilter, ReportFilter, ReportIn
from coenforce.thirdparty.types import Industry, ReportStatus
from coenforce.validation import Conflict, ValidationError

bp = Blueprint("thirdparty", __name__, url_prefix="/third-party")
queue_bp = Blueprint("strategic", __name__, url_prefix="/strategic")
PAGE = 50


def _requires(action: str):
    def check():
        if not policy.allowed(current_user, action):
            abort(403)
    return login_required(check)


bp.before_request(_requires("thirdparty.view"))
queue_bp.before_request(_requires("strategic.view"))


def _page() -> int:
    page, _errors = schemas.parse_filters(PageNumber, request.args)
    return page.page


@bp.get("/")
def index():
    where, errors = schemas.parse_filters(ReportFilter, request.args)
    page = _page()
    reports = service.list_reports(db.session, current_user, where, limit=PAGE, offset=(page - 1) * PAGE)
    filters = {"status": where.status or "", "industry": where.industry or "", "state": where.state or ""}
    return render_template("thirdparty/list.html", reports=reports.items, total=reports.total, page=page,
                           page_size=PAGE, statuses=ReportStatus, industries=Industry, states=ClockState,
                           filters=filters, errors=errors, query={k: v for k, v in filters.items() if v})


@bp.route("/new", methods=["GET", "POST"])
def new():
    if not policy.allowed(current_user, "thirdparty.create"):
        abort(403)
    form = ReportForm()
    agencies = service.agency_choices(db.session, current_user)
    form.agency_id.choices = choices((str(a.id), a.name) for a in agencies)
    status = 200
    if request.method == "POST":
        try:
            report = service.file_report(db.session, current_user, submitted(ReportIn))
            db.session.commit()
            flash(_("Report %(ref)s sent. The agency must acknowledge it.", ref=report.reference), "success")
            return redirect(url_for("thirdparty.detail", report_id=report.id))
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
            status = 422
    return render_template("thirdparty/new.html", form=form, multiple_agencies=len(agencies) > 1,
                           agency_staff=current_user.is_agency_staff), status


def _detail(report, status=200, decision_form=None):
    return render_template("thirdparty/detail.html", report=report,
                           decision_form=decision_form or DecisionForm()), status


@bp.get("/<id:report_id>")
def detail(report_id: int):
    report = service.view_report(db.session, current_user, report_id)
    db.session.commit()  # the audit entry of this view
    return _detail(report)


def _change(report_id: int, action: str, apply, done: str, form=None, schema=None):
    """One change from the detail page: scope, role, form, service; commit and redirect."""
    report = service.get_report(db.session, current_user, report_id)
    if not policy.allowed(current_user, action):
        abort(403)

    def failed(status, error):
        if error is not None:
            apply_errors(form, error)
        return _detail(report, status, decision_form=form if error is not None else None)
    return save_change(lambda: apply(report, submitted(schema) if schema else None), done=done,
                       then=url_for("thirdparty.detail", report_id=report_id), on_error=failed)


@bp.post("/<id:report_id>/acknowledge")
def acknowledge(report_id: int):
    return _change(report_id, "thirdparty.acknowledge", done=_("Report acknowledged."),
                   apply=lambda r, _data: service.acknowledge(db.session, current_user, r))


@bp.post("/<id:report_id>/decision")
def decide(report_id: int):
    return _change(report_id, "thirdparty.decide", done=_("Decision recorded."), form=DecisionForm(),
                   schema=DecisionIn, apply=lambda r, data: service.decide(db.session, current_user, r, data))


# ---------------------------------------------------------------- the strategic queue

@queue_bp.get("/")
def ranked():
    where, errors = schemas.parse_filters(QueueFilter, request.args)
    page = _page()
    employers = queue.ranked(db.session, current_user, where, limit=PAGE, offset=(page - 1) * PAGE)
    filters = {"industry": where.industry or "", "area": where.area or "",
               "include_investigated": "1" if where.include_investigated else ""}
    return render_template("thirdparty/queue.html", employers=employers.items, total=employers.total, page=page,
                           page_size=PAGE, industries=Industry, filters=filters, errors=errors,
                           query={k: v for k, v in filters.items() if v}, form=InvestigateForm(),
                           points_help=queue.REASON_HELP, offset=(page - 1) * PAGE)


@queue_bp.post("/investigate")
def investigate():
    if not policy.allowed(current_user, "strategic.investigate"):
        abort(403)
    try:
        data = submitted(InvestigateIn)
        count = service.investigate_employer(db.session, current_user, current_user.organization_id,
                                             data.employer_key, data.case_reference)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        for message in exc.fields.values():
            flash(str(message), "error")
        return redirect(url_for("strategic.ranked")), 303
    except Conflict as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("strategic.ranked")), 303
    flash(_("Investigation opened; %(num)s reports moved to it.", num=count), "success")
    return redirect(url_for("strategic.ranked"))
