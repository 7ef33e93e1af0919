"""Pages for immigration protections: a case's protections page, the agency's
targets, and its holiday calendar. Thin: record, right, form -> schema ->
service -> redirect."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coenforce.complaints.service import get_complaint
from coenforce.db import db
from coenforce.forms import apply_errors, save_change, submitted
from coenforce.protections import service
from coenforce.protections.forms import (
    DecisionForm, GrantForm, HolidayForm, LetterForm, LetterSentForm, RequestForm, SettingsForm,
)
from coenforce.protections.schemas import (
    CertificationDecisionIn, CertificationIn, GrantIn, HolidayIn, LetterIn, LetterSentIn, SettingsIn,
)
from coenforce.security import policy
from coenforce.validation import ValidationError

bp = Blueprint("protections", __name__)
holidays_bp = Blueprint("holidays", __name__, url_prefix="/holidays")


@bp.before_request
@login_required
def _signed_in():
    if not policy.allowed(current_user, "protections.view"):
        abort(403)


@holidays_bp.before_request
@login_required
def _admin():
    if not policy.allowed(current_user, "holidays.manage"):
        abort(403)


FORMS = {"request_form": RequestForm, "decision_form": DecisionForm, "letter_form": LetterForm,
         "sent_form": LetterSentForm, "grant_form": GrantForm}


def _page(protections, status: int = 200, forms: dict | None = None, failed: int | None = None):
    # Forms other than the one that failed start blank (not bound to the posted data).
    built = {name: (forms or {}).get(name) or form(formdata=None) for name, form in FORMS.items()}
    blank = {"blank_decision": DecisionForm(formdata=None), "blank_sent": LetterSentForm(formdata=None)}
    return render_template("protections/detail.html", p=protections, complaint=protections.complaint,
                           failed=failed, **built, **blank), status


@bp.get("/complaints/<id:complaint_id>/protections")
def detail(complaint_id: int):
    protections = service.view_protections(db.session, current_user, complaint_id)
    db.session.commit()  # the audit entry of this view
    return _page(protections)


def _change(complaint_id: int, apply, done: str, form_name: str, schema, failed: int | None = None):
    """One change from the protections page: the record is in scope (`apply`
    is built after it), the user's right, the form, the service; commit, redirect."""
    if not policy.allowed(current_user, "protections.manage"):
        abort(403)

    def refused(status, error):
        complaint = get_complaint(db.session, current_user, complaint_id)
        protections = service.protections_of(db.session, current_user, complaint)
        if error is None:
            return _page(protections, status)
        form = FORMS[form_name]()
        apply_errors(form, error)
        return _page(protections, status, {form_name: form}, failed)
    return save_change(lambda: apply(submitted(schema) if schema else None), done=done,
                       then=url_for("protections.detail", complaint_id=complaint_id), on_error=refused)


@bp.post("/complaints/<id:complaint_id>/protections/certifications")
def request_certification(complaint_id: int):
    complaint = get_complaint(db.session, current_user, complaint_id)
    return _change(complaint_id, lambda data: service.request_certification(db.session, current_user, complaint, data),
                   _("Certification request recorded: the legal deadline's clock is running."), "request_form",
                   CertificationIn)


@bp.post("/protections/certifications/<id:record_id>/removal-proceedings")
def removal_proceedings(record_id: int):
    record = service.get_certification(db.session, current_user, record_id)
    return _change(record.complaint_id,
                   lambda _data: service.note_removal_proceedings(db.session, current_user, record),
                   _("Marked as in removal proceedings: the deadline is now the shorter one."), "decision_form", None)


@bp.post("/protections/certifications/<id:record_id>/decision")
def decide(record_id: int):
    record = service.get_certification(db.session, current_user, record_id)
    return _change(record.complaint_id,
                   lambda data: service.decide_certification(db.session, current_user, record, data),
                   _("Decision recorded."), "decision_form", CertificationDecisionIn, failed=record.id)


@bp.post("/complaints/<id:complaint_id>/protections/letters")
def request_letter(complaint_id: int):
    complaint = get_complaint(db.session, current_user, complaint_id)
    return _change(complaint_id, lambda data: service.request_letter(db.session, current_user, complaint, data),
                   _("Statement of Interest request recorded."), "letter_form", LetterIn)


@bp.post("/protections/letters/<id:record_id>/sent")
def letter_sent(record_id: int):
    letter = service.get_letter(db.session, current_user, record_id)
    return _change(letter.complaint_id, lambda data: service.letter_sent(db.session, current_user, letter, data),
                   _("Letter recorded as sent."), "sent_form", LetterSentIn, failed=letter.id)


@bp.post("/complaints/<id:complaint_id>/protections/grants")
def record_grant(complaint_id: int):
    complaint = get_complaint(db.session, current_user, complaint_id)
    return _change(complaint_id, lambda data: service.record_grant(db.session, current_user, complaint, data),
                   _("Grant recorded: a renewal reminder will go out 120 days before it expires."), "grant_form",
                   GrantIn)


@bp.post("/protections/grants/<id:record_id>/renewal")
def renewal_filed(record_id: int):
    grant = service.get_grant(db.session, current_user, record_id)
    return _change(grant.complaint_id, lambda _data: service.renewal_filed(db.session, current_user, grant),
                   _("Renewal recorded: the reminders stop."), "grant_form", None)


@bp.route("/protections/settings", methods=["GET", "POST"])
def settings():
    if not policy.allowed(current_user, "protections.settings"):
        abort(403)
    form = SettingsForm()
    status = 200
    if request.method == "POST":
        try:
            service.update_targets(db.session, current_user, submitted(SettingsIn))
            db.session.commit()
            flash(_("Targets saved. Clocks already running keep their due times."), "success")
            return redirect(url_for("protections.settings"))
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
            status = 422
    else:
        current = service.targets(db.session, current_user.organization_id)
        form.certification_days.data = current.certification_days
        form.removal_business_days.data = current.removal_business_days
        form.letter_business_days.data = current.letter_business_days
    return render_template("protections/settings.html", form=form), status


# ---------------------------------------------------------------- holidays

def _holidays(form=None, status=200):
    return render_template("protections/holidays.html", holidays=service.list_holidays(db.session, current_user),
                           form=form or HolidayForm()), status


@holidays_bp.get("/")
def index():
    return _holidays()


@holidays_bp.post("/")
def add():
    form = HolidayForm()
    try:
        service.add_holiday(db.session, current_user, submitted(HolidayIn))
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _holidays(form, 422)
    flash(_("Holiday added."), "success")
    return redirect(url_for("holidays.index"))


@holidays_bp.post("/<id:holiday_id>/remove")
def remove(holiday_id: int):
    service.remove_holiday(db.session, current_user, holiday_id)
    db.session.commit()
    flash(_("Holiday removed."), "success")
    return redirect(url_for("holidays.index"))
