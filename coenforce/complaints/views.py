"""Pages for retaliation complaints: thin, form -> schema -> service -> redirect."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coenforce import schemas
from coenforce.complaints import service
from coenforce.complaints.forms import ActionForm, AssignForm, CloseForm, ComplaintForm, DamagesForm, ShareForm
from coenforce.complaints.schemas import (
    ActionIn, AssignIn, CloseIn, ComplaintFilter, ComplaintIn, DamagesIn, ShareIn,
)
from coenforce.complaints.types import ActionType, ComplaintStatus
from coenforce.db import db
from coenforce.escalation import ClockState
from coenforce.forms import apply_errors, choices, save_change, submitted
from coenforce.schemas import PageNumber
from coenforce.security import policy
from coenforce.validation import ValidationError

bp = Blueprint("complaints", __name__, url_prefix="/complaints")
PAGE = 50


@bp.before_request
@login_required
def _signed_in():
    if not policy.allowed(current_user, "complaint.view"):
        abort(403)  # organizers see aggregates, never cases


@bp.get("/")
def index():
    args = request.args.to_dict()
    # The assignee select sends a person's id or "none" (nobody).
    assignee = args.pop("assignee", "")
    if assignee != "none":
        args["assignee_id"] = assignee
    where, errors = schemas.parse_filters(ComplaintFilter, args)
    page, _page_errors = schemas.parse_filters(PageNumber, request.args)
    complaints = service.list_complaints(db.session, current_user, where, unassigned=assignee == "none",
                                         limit=PAGE, offset=(page.page - 1) * PAGE)
    staff = service.assignable_staff(db.session, current_user.organization_id) if current_user.is_agency_staff else []
    filters = {"state": where.state, "status": where.status, "employer": where.employer or "",
               "assignee": assignee if assignee == "none" else str(where.assignee_id or "")}
    return render_template("complaints/list.html", complaints=complaints.items, total=complaints.total,
                           page=page.page, page_size=PAGE, states=ClockState, statuses=ComplaintStatus,
                           staff=staff, errors=errors, filters=filters,
                           query={k: v for k, v in filters.items() if v})


@bp.route("/new", methods=["GET", "POST"])
def new():
    if not policy.allowed(current_user, "complaint.create"):
        abort(403)
    form = ComplaintForm()
    agencies = service.agency_choices(db.session, current_user)
    form.agency_id.choices = choices((str(a.id), a.name) for a in agencies)
    chosen = next((a for a in agencies if str(a.id) == form.agency_id.data), agencies[0] if agencies else None)
    form.shared_with.choices = choices(
        (p.id, p.name) for p in service.partner_choices(db.session, chosen.id)) if chosen else []
    status = 200
    if request.method == "POST":
        try:
            complaint = service.open_complaint(db.session, current_user, submitted(ComplaintIn))
            db.session.commit()
            flash(_("Complaint %(ref)s filed. The response clock is running.", ref=complaint.reference), "success")
            return redirect(url_for("complaints.detail", complaint_id=complaint.id))
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
            status = 422
    return render_template("complaints/new.html", form=form, multiple_agencies=len(agencies) > 1), status


def _detail(complaint, status=200, **forms):
    staff = service.assignable_staff(db.session, complaint.agency_id) if current_user.is_agency_staff else []
    partners = service.partner_choices(db.session, complaint.agency_id)
    shared = service.partnerships_of(db.session, complaint)
    assign_form = forms.get("assign_form") or AssignForm(assignee_id=str(complaint.assignee_id or ""))
    assign_form.assignee_id.choices = choices([("", _("Nobody"))] + [(str(u.id), u.name) for u in staff])
    share_form = forms.get("share_form") or ShareForm(shared_with=complaint.shared_with)
    share_form.shared_with.choices = choices((p.id, p.name) for p in partners)
    return render_template(
        "complaints/detail.html", complaint=complaint, clock=complaint.clock,
        action_form=forms.get("action_form") or ActionForm(), assign_form=assign_form, share_form=share_form,
        damages_form=forms.get("damages_form") or DamagesForm(), close_form=forms.get("close_form") or CloseForm(),
        qualifying_labels=[str(a.label) for a in ActionType if a in service.qualifying_actions()],
        partners={p.partner_id: p.partner.name for p in shared} | {p.id: p.name for p in partners},
        can_close=policy.may_close(current_user, complaint), partnerships=shared,
    ), status


@bp.get("/<id:complaint_id>")
def detail(complaint_id: int):
    complaint = service.view_complaint(db.session, current_user, complaint_id)
    db.session.commit()  # the audit entry of this view
    return _detail(complaint)


def _change(complaint_id: int, *, may, form_name: str, form, schema, apply, done: str):
    """One change from a form on the detail page: the caller's right to it,
    then the form's values, then the service; commit and redirect."""
    complaint = service.get_complaint(db.session, current_user, complaint_id)
    if not may(complaint):
        abort(403)

    def failed(status, error):
        if error is not None:
            apply_errors(form, error)
            return _detail(complaint, status, **{form_name: form})
        return _detail(complaint, status)
    return save_change(lambda: apply(complaint, submitted(schema) if schema else None), done=done,
                       then=url_for("complaints.detail", complaint_id=complaint_id), on_error=failed)


def _role(action: str):
    return lambda _complaint: policy.allowed(current_user, action)


@bp.post("/<id:complaint_id>/actions")
def add_action(complaint_id: int):
    return _change(complaint_id, may=_role("complaint.act"), form_name="action_form", form=ActionForm(),
                   schema=ActionIn, done=_("Action recorded."),
                   apply=lambda c, data: service.record_action(db.session, current_user, c, data))


@bp.post("/<id:complaint_id>/assign")
def assign(complaint_id: int):
    return _change(complaint_id, may=_role("complaint.assign"), form_name="assign_form", form=AssignForm(),
                   schema=AssignIn, done=_("Assignment saved."),
                   apply=lambda c, data: service.assign(db.session, current_user, c, data))


@bp.post("/<id:complaint_id>/take")
def take(complaint_id: int):
    return _change(complaint_id, may=_role("complaint.take"), form_name="take_form", form=None, schema=None,
                   done=_("The complaint is assigned to you."),
                   apply=lambda c, _data: service.assign(db.session, current_user, c,
                                                         AssignIn(assignee_id=current_user.id)))


@bp.post("/<id:complaint_id>/share")
def share(complaint_id: int):
    return _change(complaint_id, may=_role("complaint.share"), form_name="share_form", form=ShareForm(),
                   schema=ShareIn, done=_("Sharing saved."),
                   apply=lambda c, data: service.share(db.session, current_user, c, data))


@bp.post("/<id:complaint_id>/damages")
def add_damages(complaint_id: int):
    return _change(complaint_id, may=_role("complaint.damages"), form_name="damages_form", form=DamagesForm(),
                   schema=DamagesIn, done=_("Damages recorded."),
                   apply=lambda c, data: service.add_damages(db.session, current_user, c, data))


@bp.post("/<id:complaint_id>/close")
def close(complaint_id: int):
    return _change(complaint_id, may=lambda c: policy.may_close(current_user, c), form_name="close_form",
                   form=CloseForm(), schema=CloseIn, done=_("Complaint closed."),
                   apply=lambda c, data: service.close(db.session, current_user, c, data))
