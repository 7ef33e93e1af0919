"""Creating organizations, people and partnerships (CLI and admin pages)."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from coenforce import clock
from coenforce.partners.models import ROLES_OF, Organization, OrgKind, Partnership, User
from coenforce.partners.schemas import OrganizationIn, PartnershipIn, UserIn
from coenforce.security.passwords import hash_password, password_problem
from coenforce.validation import ValidationError


def create_organization(session: Session, data: OrganizationIn) -> Organization:
    if organization_named(session, data.name):
        raise ValidationError({"name": _l("An organization with this name exists.")})
    org = Organization(
        name=data.name, kind=data.kind, timezone=data.timezone or current_app.config["DEFAULT_TIMEZONE"],
        response_target_hours=data.response_target_hours or current_app.config["DEFAULT_RESPONSE_TARGET_HOURS"],
        created_at=clock.now())
    session.add(org)
    session.flush()
    return org


def organization_named(session: Session, name: str) -> Organization | None:
    return session.scalar(select(Organization).where(Organization.name == name))


def create_user(session: Session, data: UserIn) -> User:
    errors: dict = {}
    org = organization_named(session, data.org)
    if org is None:
        errors["org"] = _l("No organization with this name.")
    elif data.role not in ROLES_OF[org.kind]:
        errors["role"] = _l("This role does not exist in this kind of organization.")
    if data.language is not None and data.language not in current_app.config["LANGUAGES"]:
        errors["language"] = _l("Choose one of the listed values.")
    password = data.password.get_secret_value()
    problem = password_problem(password)
    if problem:
        errors["password"] = problem
    if session.scalar(select(User).where(User.email == data.email)):
        errors["email"] = _l("A user with this email exists.")
    if errors:
        raise ValidationError(errors)
    user = User(organization_id=org.id, email=data.email, name=data.name or data.email.split("@")[0],
                role=data.role, language=data.language or "en", password_hash=hash_password(password),
                active=True, created_at=clock.now())
    session.add(user)
    session.flush()
    return user


def create_partnership(session: Session, data: PartnershipIn) -> Partnership:
    agency = organization_named(session, data.agency)
    partner = organization_named(session, data.partner)
    errors: dict = {}
    if agency is None or agency.kind != OrgKind.AGENCY:
        errors["agency"] = _l("No agency with this name.")
    if partner is None or partner.kind != OrgKind.PARTNER:
        errors["partner"] = _l("No partner organization with this name.")
    if errors:
        raise ValidationError(errors)
    existing = session.scalar(select(Partnership).where(
        Partnership.agency_id == agency.id, Partnership.partner_id == partner.id))
    if existing:
        raise ValidationError({"partner": _l("These organizations are partners already.")})
    partnership = Partnership(agency_id=agency.id, partner_id=partner.id, created_at=clock.now())
    session.add(partnership)
    session.flush()
    return partnership
