"""Pages for retaliation complaints: thin, form -> service -> redirect."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_login import current_user, login_required

from coenforce import audit, clock
from coenforce.complaints import service
from coenforce.complaints.forms import ActionForm, AssignForm, CloseForm, ComplaintForm, DamagesForm, ShareForm
from coenforce.complaints.types import ACTION_TYPES, ATTORNEY_LIST_LANGUAGES, CLOCK_STATES, RETALIATION_TYPES, STATUSES
from coenforce.db import db
from coenforce.forms import apply_errors, choices, local_to_utc
from coenforce.security import policy
from coenforce.validation import Conflict, Fields, NotAllowed, ValidationError, parse_id

bp = Blueprint("complaints", __name__, url_prefix="/complaints")


@bp.before_request
@login_required
def _signed_in():
    if current_user.role == "organizer":
        abort(403)  # organizers see aggregates, never cases


def _complaint_or_404(complaint_id: int):
    complaint = service.get_complaint(db.session, current_user, complaint_id)
    if complaint is None:
        abort(404)
    return complaint


@bp.get("/")
def index():
    state = request.args.get("state") if request.args.get("state") in CLOCK_STATES else None
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    # A search term with control characters (PostgreSQL refuses NUL) is dropped, not sent on.
    employer = Fields().text(request.args, "employer", max_length=200)
    assignee = request.args.get("assignee", "")
    rows = service.list_complaints(
        db.session, current_user, state=state, status=status, employer=employer,
        assignee_id=parse_id(assignee), unassigned=assignee == "none")
    staff = service.assignable_staff(db.session, current_user.organization_id) if current_user.is_agency_staff else []
    return render_template("complaints/list.html", rows=rows, summarize=service.clock_summary,
                           states=CLOCK_STATES, statuses=STATUSES, staff=staff,
                           filters={"state": state, "status": status, "employer": employer or "", "assignee": assignee},
                           can_create=policy.allowed(current_user, "complaint.create"))


@bp.route("/new", methods=["GET", "POST"])
def new():
    if not policy.allowed(current_user, "complaint.create"):
        abort(403)
    form = ComplaintForm()
    agencies = service.agency_choices(db.session, current_user)
    form.agency_id.choices = choices((str(a.id), a.name) for a in agencies)
    agency_id = parse_id(form.agency_id.data) or (agencies[0].id if agencies else None)
    form.shared_with.choices = choices(
        (p.id, p.name) for p in service.partner_choices(db.session, agency_id)) if agency_id else []
    status = 200
    if form.validate_on_submit():
        try:
            tz = current_user.timezone
            data = {
                "agency_id": agency_id, "employer_name": form.employer_name.data,
                "worksite_address": form.worksite_address.data, "retaliation_types": form.retaliation_types.data,
                "description": form.description.data, "labor_dispute": form.labor_dispute.data,
                "workers_affected": form.workers_affected.data, "language": form.language.data,
                "received_at": local_to_utc(request.form.get("received_at"), tz, "received_at"),
                "shared_with": form.shared_with.data,
            }
            complaint = service.open_complaint(db.session, current_user, data)
            db.session.commit()
            flash(_("Complaint %(ref)s filed. The response clock is running.", ref=complaint.reference), "success")
            return redirect(url_for("complaints.detail", complaint_id=complaint.id))
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
            status = 422
    elif request.method == "POST":
        status = 400
    return render_template("complaints/new.html", form=form, multiple_agencies=len(agencies) > 1), status


def _detail(complaint, status=200, **forms):
    deadline = service.clock_of(db.session, complaint)
    staff = service.assignable_staff(db.session, complaint.agency_id) if current_user.is_agency_staff else []
    partners = service.partner_choices(db.session, complaint.agency_id)
    action_form = forms.get("action_form") or ActionForm()
    assign_form = forms.get("assign_form") or AssignForm(assignee_id=str(complaint.assignee_id or ""))
    assign_form.assignee_id.choices = choices([("", _("Nobody"))] + [(str(u.id), u.name) for u in staff])
    share_form = forms.get("share_form") or ShareForm(shared_with=complaint.shared_with)
    share_form.shared_with.choices = choices((p.id, p.name) for p in partners)
    return render_template(
        "complaints/detail.html", complaint=complaint, clock=service.clock_summary(deadline),
        totals=service.damages_totals(complaint), action_form=action_form, assign_form=assign_form,
        share_form=share_form, damages_form=forms.get("damages_form") or DamagesForm(),
        close_form=forms.get("close_form") or CloseForm(), retaliation_labels=RETALIATION_TYPES,
        action_labels=ACTION_TYPES, language_labels=ATTORNEY_LIST_LANGUAGES, statuses=STATUSES,
        qualifying_labels=[str(ACTION_TYPES[a]) for a in sorted(service.qualifying_actions())], partners={p.id: p.name for p in partners},
        can=lambda action: policy.allowed(current_user, action),
        can_close=policy.may_close(current_user, complaint),
    ), status


@bp.get("/<id:complaint_id>")
def detail(complaint_id: int):
    complaint = _complaint_or_404(complaint_id)
    audit.record(db.session, current_user, "complaint.view", "complaint", complaint.id)
    db.session.commit()
    return _detail(complaint)


def _change(complaint_id: int, form_class, form_name: str, apply, success_message: str):
    """Run one change from a form on the detail page: service, commit, redirect."""
    complaint = _complaint_or_404(complaint_id)
    form = form_class()
    if not form.validate_on_submit():
        return _detail(complaint, 400, **{form_name: form})
    try:
        apply(complaint, form)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _detail(complaint, 422, **{form_name: form})
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except Conflict as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return _detail(complaint, 409)
    flash(success_message, "success")
    return redirect(url_for("complaints.detail", complaint_id=complaint_id))


@bp.post("/<id:complaint_id>/actions")
def add_action(complaint_id: int):
    def apply(complaint, form):
        service.record_action(db.session, current_user, complaint, {
            "type": form.type.data, "note": form.note.data, "language": form.language.data or None,
            "taken_at": local_to_utc(request.form.get("taken_at"), current_user.timezone, "taken_at")})
    return _change(complaint_id, ActionForm, "action_form", apply, _("Action recorded."))


@bp.post("/<id:complaint_id>/assign")
def assign(complaint_id: int):
    def apply(complaint, form):
        value = form.assignee_id.data or ""
        if value and parse_id(value) is None:
            raise ValidationError({"assignee_id": _("Choose an active member of this agency.")})
        service.assign(db.session, current_user, complaint, parse_id(value))
    return _change(complaint_id, AssignForm, "assign_form", apply, _("Assignment saved."))


@bp.post("/<id:complaint_id>/take")
def take(complaint_id: int):
    def apply(complaint, _form):
        service.assign(db.session, current_user, complaint, current_user.id)
    return _change(complaint_id, FlaskForm, "take_form", apply, _("The complaint is assigned to you."))


@bp.post("/<id:complaint_id>/share")
def share(complaint_id: int):
    def apply(complaint, form):
        service.share(db.session, current_user, complaint, form.shared_with.data or [])
    return _change(complaint_id, ShareForm, "share_form", apply, _("Sharing saved."))


@bp.post("/<id:complaint_id>/damages")
def add_damages(complaint_id: int):
    def apply(complaint, form):
        service.add_damages(db.session, current_user, complaint, {
            name: getattr(form, name).data for name in
            ("basis", "workers", "violations", "claimed", "statutory_max", "assessed", "recovered")})
    return _change(complaint_id, DamagesForm, "damages_form", apply, _("Damages recorded."))


@bp.post("/<id:complaint_id>/close")
def close(complaint_id: int):
    def apply(complaint, form):
        service.close(db.session, current_user, complaint, form.note.data)
    return _change(complaint_id, CloseForm, "close_form", apply, _("Complaint closed."))


@bp.app_template_global()
def now_utc():
    return clock.now()
