"""Pages of the legal directory and the attorney-list handout: thin,
form -> schema -> service -> redirect."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from coenforce import clock, schemas
from coenforce.complaints import service as complaints
from coenforce.db import db
from coenforce.forms import apply_errors, choices, submitted
from coenforce.legal import service
from coenforce.legal.forms import ConsulateForm, HandoutForm, ProviderForm, RegionForm
from coenforce.legal.schemas import (
    ConsulateFilter, ConsulateIn, HandoutGivenIn, HandoutQuery, ProviderFilter, ProviderIn, RegionIn,
)
from coenforce.legal.types import US_REGIONS, HandoutLanguage, Language, ServiceModel
from coenforce.schemas import PageNumber, country_names
from coenforce.security import policy
from coenforce.validation import Conflict, ValidationError

bp = Blueprint("legal", __name__, url_prefix="/legal")
PAGE = 50


@bp.before_request
@login_required
def _signed_in():
    if not policy.allowed(current_user, "legal.view"):
        abort(403)


def _requires(action: str) -> None:
    if not policy.allowed(current_user, action):
        abort(403)


def _page() -> int:
    page, _errors = schemas.parse_filters(PageNumber, request.args)
    return page.page


def country_name(code: str) -> str:
    return country_names(str(get_locale() or "en")).get(code, code)


# ---------------------------------------------------------------- providers

@bp.get("/")
def providers():
    where, errors = schemas.parse_filters(ProviderFilter, request.args)
    page = _page()
    found = service.list_providers(db.session, current_user, where, limit=PAGE, offset=(page - 1) * PAGE)
    agencies = service.directory_agencies(db.session, current_user)
    filters = {"agency_id": str(where.agency_id or ""), "language": where.language or "",
               "county": where.county or "", "service_model": where.service_model or "",
               "accepting": "" if where.accepting is None else ("yes" if where.accepting else "no")}
    return render_template("legal/providers.html", providers=found.items, total=found.total, page=page,
                           page_size=PAGE, agencies=agencies, agency_names={a.id: a.name for a in agencies},
                           languages=Language, service_models=ServiceModel, filters=filters, errors=errors,
                           query={k: v for k, v in filters.items() if v})


def _provider_form(provider=None) -> ProviderForm:
    if request.method == "POST" or provider is None:
        return ProviderForm()
    return ProviderForm(data={
        "name": provider.name, "service_model": provider.service_model, "languages": provider.languages,
        "counties": ", ".join(provider.counties), "accepting": "yes" if provider.accepting else "no",
        "phone": provider.phone, "email": provider.email, "address": provider.address,
        "website": provider.website, "notes": provider.notes, "last_verified_on": provider.last_verified_on})


def _save(form, template: str, apply, done: str, **context):
    """Post a form through its schema and the service; 422 with the form's errors."""
    status = 200
    if request.method == "POST":
        try:
            apply()
            db.session.commit()
            flash(done, "success")
            return redirect(context.pop("next_url"))
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
            status = 422
    context.pop("next_url", None)
    return render_template(template, form=form, **context), status


@bp.route("/providers/new", methods=["GET", "POST"])
def new_provider():
    _requires("legal.manage")
    form = _provider_form()
    return _save(form, "legal/provider_form.html", done=_("Provider added."), provider=None,
                 next_url=url_for("legal.providers"),
                 apply=lambda: service.add_provider(db.session, current_user, submitted(ProviderIn)))


@bp.route("/providers/<id:provider_id>/edit", methods=["GET", "POST"])
def edit_provider(provider_id: int):
    provider = service.get_provider(db.session, current_user, provider_id)
    _requires("legal.manage")
    form = _provider_form(provider)
    return _save(form, "legal/provider_form.html", done=_("Provider saved."), provider=provider,
                 next_url=url_for("legal.providers"),
                 apply=lambda: service.update_provider(db.session, current_user, provider, submitted(ProviderIn)))


@bp.post("/providers/<id:provider_id>/not-accepting")
def stop_accepting(provider_id: int):
    provider = service.get_provider(db.session, current_user, provider_id)
    _requires("legal.manage")
    service.set_accepting(db.session, current_user, provider, False)
    db.session.commit()
    flash(_("%(name)s is marked as not accepting cases.", name=provider.name), "success")
    return redirect(url_for("legal.providers"))


# ---------------------------------------------------------------- consulates

@bp.get("/consulates")
def consulates():
    where, errors = schemas.parse_filters(ConsulateFilter, request.args)
    page = _page()
    found = service.list_consulates(db.session, current_user, where, limit=PAGE, offset=(page - 1) * PAGE)
    agencies = service.directory_agencies(db.session, current_user)
    filters = {"agency_id": str(where.agency_id or ""), "country": where.country or "",
               "region": where.region or ""}
    region_form = RegionForm(data={"region": current_user.organization.region or ""}) \
        if policy.allowed(current_user, "legal.manage") else None
    return render_template("legal/consulates.html", consulates=found.items, total=found.total, page=page,
                           page_size=PAGE, agencies=agencies, agency_names={a.id: a.name for a in agencies},
                           countries=list(country_names(str(get_locale() or "en")).items()), regions=US_REGIONS, filters=filters, errors=errors,
                           query={k: v for k, v in filters.items() if v}, region_form=region_form)


def _consulate_form(consulate=None) -> ConsulateForm:
    if request.method == "POST" or consulate is None:
        form = ConsulateForm()
    else:
        form = ConsulateForm(data={name: getattr(consulate, name) or "" for name in
                                   ("country", "region", "city", "phone", "email", "address", "hours")})
    form.country.choices = choices([("", "—")] + list(country_names(str(get_locale() or "en")).items()))
    return form


@bp.route("/consulates/new", methods=["GET", "POST"])
def new_consulate():
    _requires("legal.manage")
    form = _consulate_form()
    return _save(form, "legal/consulate_form.html", done=_("Consulate added."), consulate=None,
                 next_url=url_for("legal.consulates"),
                 apply=lambda: service.add_consulate(db.session, current_user, submitted(ConsulateIn)))


@bp.route("/consulates/<id:consulate_id>/edit", methods=["GET", "POST"])
def edit_consulate(consulate_id: int):
    consulate = service.get_consulate(db.session, current_user, consulate_id)
    _requires("legal.manage")
    form = _consulate_form(consulate)
    return _save(form, "legal/consulate_form.html", done=_("Consulate saved."), consulate=consulate,
                 next_url=url_for("legal.consulates"),
                 apply=lambda: service.update_consulate(db.session, current_user, consulate,
                                                        submitted(ConsulateIn)))


@bp.post("/region")
def region():
    _requires("legal.manage")
    try:
        service.set_region(db.session, current_user, submitted(RegionIn))
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        for message in exc.fields.values():
            flash(str(message), "error")
        return redirect(url_for("legal.consulates")), 303
    flash(_("Region saved."), "success")
    return redirect(url_for("legal.consulates"))


# ---------------------------------------------------------------- the attorney-list handout

@bp.get("/attorney-list/<id:complaint_id>")
def handout(complaint_id: int):
    """Choose language and county; the list below is printed in that language."""
    query, errors = schemas.parse_filters(HandoutQuery, request.args)
    sheet = service.handout(db.session, current_user, complaint_id, query.language, query.county)
    counties = service.counties_of(db.session, sheet.complaint.agency_id)
    form = HandoutForm(data={"language": query.language, "county": query.county or ""})
    form.county.choices = choices([("", "—")] + [(name, name) for name in counties])
    with force_locale(str(query.language)):
        # The sheet speaks the worker's language; the controls around it the user's.
        # Rendered by an autoescaping template: safe to insert as it is.
        page = Markup(render_template("legal/_handout_sheet.html", sheet=sheet, printed_at=clock.now()))
    return render_template("legal/handout.html", sheet=sheet, page=page, form=form, errors=errors,
                           given_form=HandoutGivenIn, languages=HandoutLanguage)


@bp.post("/attorney-list/<id:complaint_id>/given")
def handout_given(complaint_id: int):
    """Record that the list was given: the complaint's attorney-list action."""
    complaint = complaints.get_complaint(db.session, current_user, complaint_id)
    _requires("legal.handout")
    _requires("complaint.act")
    try:
        service.record_handout(db.session, current_user, complaint, submitted(HandoutGivenIn))
        db.session.commit()
    except (ValidationError, Conflict) as exc:
        db.session.rollback()
        messages = exc.fields.values() if isinstance(exc, ValidationError) else [exc.message]
        for message in messages:
            flash(str(message), "error")
        return redirect(url_for("legal.handout", complaint_id=complaint_id)), 303
    flash(_("The attorney list is recorded as given."), "success")
    return redirect(url_for("complaints.detail", complaint_id=complaint_id))
