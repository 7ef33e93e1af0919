"""Pages for detained-worker alerts: thin, form -> schema -> service -> redirect.
The form works on a phone; the alert page shows the clock and the tasks."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coenforce import schemas
from coenforce.complaints import service as complaints
from coenforce.db import db
from coenforce.detentions import service
from coenforce.detentions.forms import AlertForm, CloseForm, TaskForm
from coenforce.detentions.schemas import AlertIn, CloseIn, TaskDoneIn
from coenforce.detentions.types import TaskKind
from coenforce.forms import apply_errors, choices, save_change, submitted
from coenforce.schemas import PageNumber, country_names
from coenforce.security import policy
from coenforce.validation import ValidationError

bp = Blueprint("detentions", __name__, url_prefix="/detentions")
PAGE = 50
# ICE's Online Detainee Locator: the app links to it for the user to open; it never calls it.
LOCATOR = "https://locator.ice.gov/odls/#/search"


@bp.before_request
@login_required
def _signed_in():
    if not policy.allowed(current_user, "detention.view"):
        abort(403)


@bp.get("/")
def index():
    page, _errors = schemas.parse_filters(PageNumber, request.args)
    alerts = service.list_alerts(db.session, current_user, limit=PAGE, offset=(page.page - 1) * PAGE)
    return render_template("detentions/list.html", alerts=alerts.items, total=alerts.total, page=page.page,
                           page_size=PAGE)


@bp.route("/new", methods=["GET", "POST"])
def new():
    if not policy.allowed(current_user, "detention.create"):
        abort(403)
    form = AlertForm()
    agencies = complaints.agency_choices(db.session, current_user)
    form.agency_id.choices = choices((str(a.id), a.name) for a in agencies)
    chosen = next((a for a in agencies if str(a.id) == form.agency_id.data), agencies[0] if agencies else None)
    cases = complaints.list_complaints(db.session, current_user, limit=200).items
    form.complaint_id.choices = choices([("", _("None"))] + [(str(c.id), f"{c.reference} · {c.employer_name}")
                                                             for c in cases])
    form.country.choices = choices([("", _("Not known"))] + list(country_names(str(get_locale())).items()))
    form.partner_ids.choices = choices((p.id, p.name) for p in complaints.partner_choices(db.session, chosen.id)
                                       if p.id != current_user.organization_id) if chosen else []
    status = 200
    if request.method == "POST":
        try:
            alert = service.raise_alert(db.session, current_user, submitted(AlertIn))
            db.session.commit()
            flash(_("Alert %(ref)s raised: everyone who must act has been told.", ref=alert.reference), "success")
            return redirect(url_for("detentions.detail", alert_id=alert.id))
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
            status = 422
    return render_template("detentions/new.html", form=form, multiple_agencies=len(agencies) > 1), status


def _detail(alert, status=200, revealed=None, forms=None):
    return render_template(
        "detentions/detail.html", alert=alert, clock=service.clock_of(db.session, alert).reading(),
        tasks=TaskKind, task_form=(forms or {}).get("task_form") or TaskForm(),
        close_form=(forms or {}).get("close_form") or CloseForm(), revealed=revealed, locator=LOCATOR,
        countries=country_names(str(get_locale())), acknowledged=any(a.user_id == current_user.id for a in alert.acknowledgements),
        consulate=service.consulate_of(db.session, alert), attorneys=service.attorney_choices(db.session, alert),
    ), status


@bp.get("/<id:alert_id>")
def detail(alert_id: int):
    alert = service.view_alert(db.session, current_user, alert_id)
    db.session.commit()  # the audit entry of this view
    return _detail(alert)


@bp.post("/<id:alert_id>/reveal")
def reveal(alert_id: int):
    alert = service.get_alert(db.session, current_user, alert_id)
    if not policy.allowed(current_user, "detention.reveal"):
        abort(403)
    number = service.reveal_a_number(db.session, current_user, alert)
    db.session.commit()  # the audit entry of this reveal
    return _detail(alert, revealed=number)


def _change(alert_id: int, action: str, apply, done: str, form_name: str | None = None, form=None, schema=None):
    """One change from the alert page: scope, role, form, service; commit and redirect."""
    alert = service.get_alert(db.session, current_user, alert_id)
    if not policy.allowed(current_user, action):
        abort(403)

    def failed(status, error):
        if error is not None:
            apply_errors(form, error)
            return _detail(alert, status, forms={form_name: form})
        return _detail(alert, status)
    return save_change(lambda: apply(alert, submitted(schema) if schema else None), done=done,
                       then=url_for("detentions.detail", alert_id=alert_id), on_error=failed)


@bp.post("/<id:alert_id>/acknowledge")
def acknowledge(alert_id: int):
    return _change(alert_id, "detention.acknowledge", done=_("Alert acknowledged."),
                   apply=lambda a, _data: service.acknowledge(db.session, current_user, a))


@bp.post("/<id:alert_id>/tasks/<any(consulate,family,attorney,intervention):task>")
def complete_task(alert_id: int, task: str):
    kind = TaskKind(task)
    return _change(alert_id, "detention.intervene" if kind == TaskKind.INTERVENTION else "detention.act",
                   done=_("Task recorded."), form_name="task_form", form=TaskForm(), schema=TaskDoneIn,
                   apply=lambda a, data: service.complete_task(db.session, current_user, a, kind, data))


@bp.post("/<id:alert_id>/close")
def close(alert_id: int):
    return _change(alert_id, "detention.close", done=_("Alert closed."), form_name="close_form", form=CloseForm(),
                   schema=CloseIn, apply=lambda a, data: service.close(db.session, current_user, a, data))


