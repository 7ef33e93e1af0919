"""The rules of the legal directory: who keeps and reads each agency's
immigration legal providers and consulates, the CSV imports, the consulate
for a worker's country, and the attorney-list handout given from a complaint.

Each function receives input parsed by `schemas.py`, checks what needs the
database and raises before writing; the caller commits.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import TextIO

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from coenforce import clock
from coenforce.complaints import service as complaints
from coenforce.complaints.models import Complaint, ResponseAction
from coenforce.complaints.schemas import ActionIn
from coenforce.complaints.types import ActionType, Language
from coenforce.db import paged
from coenforce.legal.models import Consulate, LegalProvider, ProviderCounty, ProviderLanguage
from coenforce.legal.schemas import (
    ConsulateFilter, ConsulateIn, ConsulateListQuery, HandoutGivenIn, ProviderFilter, ProviderIn, ProviderListQuery,
    RegionIn, county_key,
)
from coenforce.legal.types import HandoutLanguage
from coenforce.partners.models import Organization, User
from coenforce.partners.service import agencies_working_with
from coenforce.schemas import Page, field_errors
from coenforce.security import policy
from coenforce.validation import NotAllowed, NotFound, ValidationError


# ---------------------------------------------------------------- whose directory

def directory_agencies(session: Session, user: User) -> list[Organization]:
    """The agencies whose directory `user` reads: staff their own; a liaison
    those of its organization's active partnerships (the same rule as the scopes)."""
    if not policy.allowed(user, "legal.view"):
        return []
    return agencies_working_with(session, user)


def _manage(user: User) -> None:
    if not policy.allowed(user, "legal.manage"):
        raise NotAllowed()


# ---------------------------------------------------------------- providers: reading

def get_provider(session: Session, user: User, provider_id: int) -> LegalProvider:
    """The provider if `user` may read it; NotFound (404) otherwise."""
    provider = session.scalar(select(LegalProvider).where(
        LegalProvider.id == provider_id, policy.provider_scope(user)))
    if provider is None:
        raise NotFound()
    return provider


def _provider_conditions(where: ProviderFilter) -> list:
    conditions = []
    if where.agency_id is not None:
        conditions.append(LegalProvider.agency_id == where.agency_id)
    if where.language:
        conditions.append(LegalProvider.id.in_(
            select(ProviderLanguage.provider_id).where(ProviderLanguage.language == where.language)))
    if where.county:
        conditions.append(LegalProvider.id.in_(
            select(ProviderCounty.provider_id).where(ProviderCounty.key == county_key(where.county))))
    if where.service_model:
        conditions.append(LegalProvider.service_model == where.service_model)
    if where.accepting is not None:
        conditions.append(LegalProvider.accepting.is_(where.accepting))
    return conditions


def list_providers(session: Session, user: User, where: ProviderFilter, *, limit: int = 50,
                   offset: int = 0) -> Page:
    """A page of the providers `user` may read that match, by name, with the
    number that match (its languages and counties in two more queries)."""
    conditions = [policy.provider_scope(user), *_provider_conditions(where)]
    total = session.scalar(select(func.count()).select_from(LegalProvider).where(*conditions))
    providers = session.scalars(paged(select(LegalProvider).where(*conditions)
                                      .order_by(LegalProvider.name, LegalProvider.id), limit, offset)).all()
    return Page(list(providers), total, None)


def page_of_providers(session: Session, user: User, query: ProviderListQuery) -> Page:
    """The API's pages, by name, keyed on (name, id)."""
    conditions = [policy.provider_scope(user), *_provider_conditions(query)]
    total = session.scalar(select(func.count()).select_from(LegalProvider).where(*conditions))
    if query.after is not None:
        name, last_id = query.after
        conditions.append((LegalProvider.name > name) | ((LegalProvider.name == name) & (LegalProvider.id > last_id)))
    providers = session.scalars(paged(select(LegalProvider).where(*conditions)
                                      .order_by(LegalProvider.name, LegalProvider.id), query.limit + 1)).all()
    more = len(providers) > query.limit
    providers = list(providers[:query.limit])
    return Page(providers, total, (providers[-1].name, providers[-1].id) if more else None)


def providers_for(session: Session, agency_id: int, language: Language | str | None = None,
                  county: str | None = None, accepting: bool | None = True) -> list[LegalProvider]:
    """The providers of one agency's directory (for other modules, e.g. choosing
    an attorney for a detained worker): by default those accepting cases, in
    `language` and serving `county` when given, by name. The caller has
    already checked that its user works with `agency_id`."""
    where = ProviderFilter(agency_id=agency_id, language=language, county=county, accepting=accepting)
    return list(session.scalars(select(LegalProvider).where(*_provider_conditions(where))
                                .order_by(LegalProvider.name, LegalProvider.id)))


def counties_of(session: Session, agency_id: int) -> list[str]:
    """The counties an agency's accepting providers serve, by name (one spelling each)."""
    rows = session.execute(
        select(ProviderCounty.key, func.min(ProviderCounty.name))
        .join(LegalProvider, LegalProvider.id == ProviderCounty.provider_id)
        .where(LegalProvider.agency_id == agency_id, LegalProvider.accepting.is_(True))
        .group_by(ProviderCounty.key).order_by(ProviderCounty.key)).all()
    return [name for _key, name in rows]


# ---------------------------------------------------------------- providers: changing

def _fill(provider: LegalProvider, data: ProviderIn, user_id: int | None) -> None:
    provider.name = data.name
    provider.service_model = data.service_model
    provider.phone = data.phone
    provider.email = data.email
    provider.address = data.address
    provider.website = data.website
    provider.notes = data.notes
    provider.accepting = data.accepting
    provider.last_verified_on = data.last_verified_on
    provider.updated_at = clock.now()
    provider.updated_by_id = user_id
    # Rows kept where they stay, so the primary keys do not collide on flush.
    languages = {row.language: row for row in provider.language_rows}
    provider.language_rows = [languages.get(code) or ProviderLanguage(language=code) for code in data.languages]
    counties = {row.key: row for row in provider.county_rows}
    rows = []
    for name in data.counties:
        row = counties.get(county_key(name)) or ProviderCounty(key=county_key(name))
        row.name = name
        rows.append(row)
    provider.county_rows = rows


def _new_provider(session: Session, agency_id: int, data: ProviderIn, user_id: int | None) -> LegalProvider:
    now = clock.now()
    provider = LegalProvider(agency_id=agency_id, created_at=now, language_rows=[], county_rows=[])
    _fill(provider, data, user_id)
    session.add(provider)
    return provider


def add_provider(session: Session, user: User, data: ProviderIn) -> LegalProvider:
    """Add a provider to the directory of the user's agency."""
    _manage(user)
    provider = _new_provider(session, user.organization_id, data, user.id)
    session.flush()
    return provider


def update_provider(session: Session, user: User, provider: LegalProvider, data: ProviderIn) -> None:
    _manage(user)
    _fill(provider, data, user.id)
    session.flush()


def set_accepting(session: Session, user: User, provider: LegalProvider, accepting: bool) -> None:
    """Mark a provider as (not) taking cases now: it leaves (or joins) the handout."""
    _manage(user)
    provider.accepting = accepting
    provider.updated_at = clock.now()
    provider.updated_by_id = user.id
    session.flush()


# ---------------------------------------------------------------- CSV imports

def _rows(file: TextIO) -> list[tuple[int, dict]]:
    """The CSV's rows with their line numbers (the header is line 1); blank lines skipped."""
    reader = csv.DictReader(file)
    if not reader.fieldnames:
        raise ValidationError({"file": _l("The file is empty.")})
    rows = []
    for row in reader:
        if None in row:
            raise ValidationError({f"line {reader.line_num}": _l("This line has more values than the header.")})
        values = {name.strip(): (value or "") for name, value in row.items() if name is not None}
        if any(v.strip() for v in values.values()):
            rows.append((reader.line_num, values))
    return rows


def _parse_rows(rows: list[tuple[int, dict]], schema) -> list[tuple[int, object]]:
    parsed, errors = [], {}
    for line, values in rows:
        try:
            parsed.append((line, schema.model_validate(values, context={"timezone": None})))
        except Exception as exc:  # pydantic.ValidationError
            if not hasattr(exc, "errors"):
                raise
            for name, message in field_errors(exc).items():
                errors[f"line {line}: {name}"] = message
    if errors:
        raise ValidationError(errors)
    return parsed


def import_providers(session: Session, agency: Organization, file: TextIO) -> dict[str, int]:
    """Load an agency's providers from CSV (a header line naming ProviderIn's
    fields; lists separated by ";"). Every row is checked first: one bad row
    writes nothing and is named by its line. A provider already listed under
    the same name is updated. Returns {"added": n, "updated": m}."""
    rows = _parse_rows(_rows(file), ProviderIn)
    seen: dict[str, int] = {}
    for line, data in rows:
        key = data.name.casefold()
        if key in seen:
            raise ValidationError({f"line {line}: name": _l("Listed twice in the file (line %(line)s).",
                                                            line=seen[key])})
        seen[key] = line
    existing = {p.name.casefold(): p for p in session.scalars(
        select(LegalProvider).where(LegalProvider.agency_id == agency.id))}
    counts = {"added": 0, "updated": 0}
    for _line, data in rows:
        provider = existing.get(data.name.casefold())
        if provider is None:
            _new_provider(session, agency.id, data, None)
            counts["added"] += 1
        else:
            _fill(provider, data, None)
            counts["updated"] += 1
    session.flush()
    return counts


def import_consulates(session: Session, agency: Organization, file: TextIO) -> dict[str, int]:
    """Load an agency's consulates from CSV (ConsulateIn's fields), all or
    nothing. One already listed for the same country and city is updated."""
    rows = _parse_rows(_rows(file), ConsulateIn)
    seen: dict[tuple, int] = {}
    for line, data in rows:
        key = (data.country, data.city.casefold())
        if key in seen:
            raise ValidationError({f"line {line}: city": _l("Listed twice in the file (line %(line)s).",
                                                            line=seen[key])})
        seen[key] = line
    existing = {(c.country, c.city.casefold()): c for c in session.scalars(
        select(Consulate).where(Consulate.agency_id == agency.id))}
    counts = {"added": 0, "updated": 0}
    for _line, data in rows:
        consulate = existing.get((data.country, data.city.casefold()))
        if consulate is None:
            _new_consulate(session, agency.id, data, None)
            counts["added"] += 1
        else:
            _fill_consulate(consulate, data, None)
            counts["updated"] += 1
    session.flush()
    return counts


# ---------------------------------------------------------------- consulates

def get_consulate(session: Session, user: User, consulate_id: int) -> Consulate:
    consulate = session.scalar(select(Consulate).where(Consulate.id == consulate_id, policy.consulate_scope(user)))
    if consulate is None:
        raise NotFound()
    return consulate


def _consulate_conditions(where: ConsulateFilter) -> list:
    conditions = []
    if where.agency_id is not None:
        conditions.append(Consulate.agency_id == where.agency_id)
    if where.country:
        conditions.append(Consulate.country == where.country)
    if where.region:
        conditions.append(Consulate.region == where.region)
    return conditions


def list_consulates(session: Session, user: User, where: ConsulateFilter, *, limit: int = 50,
                    offset: int = 0) -> Page:
    conditions = [policy.consulate_scope(user), *_consulate_conditions(where)]
    total = session.scalar(select(func.count()).select_from(Consulate).where(*conditions))
    consulates = session.scalars(paged(select(Consulate).where(*conditions)
                                       .order_by(Consulate.country, Consulate.city, Consulate.id), limit, offset)).all()
    return Page(list(consulates), total, None)


def page_of_consulates(session: Session, user: User, query: ConsulateListQuery) -> Page:
    """The API's pages, by country then id."""
    conditions = [policy.consulate_scope(user), *_consulate_conditions(query)]
    total = session.scalar(select(func.count()).select_from(Consulate).where(*conditions))
    if query.after is not None:
        country, last_id = query.after
        conditions.append((Consulate.country > country) | ((Consulate.country == country) & (Consulate.id > last_id)))
    consulates = session.scalars(paged(select(Consulate).where(*conditions)
                                       .order_by(Consulate.country, Consulate.id), query.limit + 1)).all()
    more = len(consulates) > query.limit
    consulates = list(consulates[:query.limit])
    return Page(consulates, total, (consulates[-1].country, consulates[-1].id) if more else None)


def _fill_consulate(consulate: Consulate, data: ConsulateIn, user_id: int | None) -> None:
    for name in ("country", "region", "city", "phone", "email", "address", "hours"):
        setattr(consulate, name, getattr(data, name))
    consulate.updated_at = clock.now()
    consulate.updated_by_id = user_id


def _new_consulate(session: Session, agency_id: int, data: ConsulateIn, user_id: int | None) -> Consulate:
    consulate = Consulate(agency_id=agency_id, created_at=clock.now())
    _fill_consulate(consulate, data, user_id)
    session.add(consulate)
    return consulate


def add_consulate(session: Session, user: User, data: ConsulateIn) -> Consulate:
    _manage(user)
    consulate = _new_consulate(session, user.organization_id, data, user.id)
    session.flush()
    return consulate


def update_consulate(session: Session, user: User, consulate: Consulate, data: ConsulateIn) -> None:
    _manage(user)
    _fill_consulate(consulate, data, user.id)
    session.flush()


def consulate_for(session: Session, agency_id: int, country: str) -> Consulate | None:
    """The consulate of `country` (ISO alpha-2) in an agency's directory to
    call for a worker: one serving the agency's region if there is, else any
    of that country (those serving the region first, then by city)."""
    region = select(Organization.region).where(Organization.id == agency_id).scalar_subquery()
    return session.scalars(
        select(Consulate).where(Consulate.agency_id == agency_id, Consulate.country == (country or "").upper())
        .order_by(case((Consulate.region == region, 0), else_=1), Consulate.city, Consulate.id).limit(1)).first()


def set_region(session: Session, user: User, data: RegionIn) -> None:
    """The US state the user's agency works in (its consulates are picked by it)."""
    _manage(user)
    user.organization.region = data.region
    session.flush()


def set_region_of(session: Session, agency: Organization, data: RegionIn) -> None:
    """The same from the command line."""
    agency.region = data.region
    session.flush()


# ---------------------------------------------------------------- the attorney-list handout

@dataclass(frozen=True)
class Handout:
    """What the attorney list shows: providers accepting cases in the county
    that work in the language, then the others accepting in the county."""

    complaint: Complaint
    agency: Organization
    language: HandoutLanguage
    county: str | None
    matching: list[LegalProvider]
    others: list[LegalProvider]


def handout(session: Session, user: User, complaint_id: int, language: HandoutLanguage,
            county: str | None) -> Handout:
    """The handout for a complaint of the user's agency; NotFound for any other."""
    complaint = complaints.get_complaint(session, user, complaint_id)
    if not (policy.allowed(user, "legal.handout") and complaint.agency_id == user.organization_id):
        raise NotAllowed()
    matching, others = [], []
    if county:
        for provider in providers_for(session, complaint.agency_id, county=county):
            (matching if language in provider.languages else others).append(provider)
    return Handout(complaint, user.organization, language, county, matching, others)


def record_handout(session: Session, user: User, complaint: Complaint, data: HandoutGivenIn) -> ResponseAction:
    """The list was given: the complaint's action for it, whose rule sets the
    complaint's attorney-list field."""
    if not policy.allowed(user, "legal.handout"):
        raise NotAllowed()
    return complaints.record_action(session, user, complaint, ActionIn(
        type=ActionType.ATTORNEY_LIST_PROVIDED, language=Language(data.language)))
