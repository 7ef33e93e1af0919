"""Creating organizations, people and partnerships (CLI and admin pages)."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from coenforce import clock
from coenforce.partners.models import AGENCY_ROLES, ORG_KINDS, PARTNER_ROLES, Organization, Partnership, User
from coenforce.security.passwords import hash_password, password_problem
from coenforce.validation import Fields, ValidationError


def create_organization(session: Session, data: dict) -> Organization:
    f = Fields()
    name = f.text(data, "name", required=True, max_length=200)
    kind = f.choice(data, "kind", ORG_KINDS, required=True)
    timezone = f.timezone(data, "timezone", default=current_app.config["DEFAULT_TIMEZONE"])
    hours = f.integer(data, "response_target_hours", minimum=1, maximum=24 * 30)
    if name and session.scalar(select(Organization).where(Organization.name == name)):
        f.fail("name", _l("An organization with this name exists."))
    f.raise_if_any()
    org = Organization(name=name, kind=kind, timezone=timezone, created_at=clock.now(),
                       response_target_hours=hours or current_app.config["DEFAULT_RESPONSE_TARGET_HOURS"])
    session.add(org)
    session.flush()
    return org


def organization_named(session: Session, name: str) -> Organization | None:
    return session.scalar(select(Organization).where(Organization.name == name))


def create_user(session: Session, data: dict) -> User:
    f = Fields()
    email = f.email(data, "email")
    org = organization_named(session, data.get("org") or "")
    if org is None:
        f.fail("org", _l("No organization with this name."))
    role = f.choice(data, "role", AGENCY_ROLES + PARTNER_ROLES, required=True)
    if org is not None and role is not None:
        allowed = AGENCY_ROLES if org.is_agency else PARTNER_ROLES
        if role not in allowed:
            f.fail("role", _l("This role does not exist in this kind of organization."))
    name = f.text(data, "name", max_length=200)
    language = f.choice(data, "language", current_app.config["LANGUAGES"], default="en")
    password = data.get("password") or ""
    problem = password_problem(password)
    if problem:
        f.fail("password", problem)
    if email and session.scalar(select(User).where(User.email == email)):
        f.fail("email", _l("A user with this email exists."))
    f.raise_if_any()
    user = User(organization_id=org.id, email=email, name=name or email.split("@")[0], role=role,
                language=language, password_hash=hash_password(password), active=True,
                created_at=clock.now())
    session.add(user)
    session.flush()
    return user


def create_partnership(session: Session, agency_name: str, partner_name: str) -> Partnership:
    agency = organization_named(session, agency_name)
    partner = organization_named(session, partner_name)
    f = Fields()
    if agency is None or not agency.is_agency:
        f.fail("agency", _l("No agency with this name."))
    if partner is None or partner.is_agency:
        f.fail("partner", _l("No partner organization with this name."))
    f.raise_if_any()
    existing = session.scalar(select(Partnership).where(
        Partnership.agency_id == agency.id, Partnership.partner_id == partner.id))
    if existing:
        raise ValidationError({"partner": _l("These organizations are partners already.")})
    partnership = Partnership(agency_id=agency.id, partner_id=partner.id, created_at=clock.now())
    session.add(partnership)
    session.flush()
    return partnership
