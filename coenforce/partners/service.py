"""Creating organizations, people and partnerships (CLI and admin pages)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from coenforce import clock
from coenforce.partners.models import (
    AGENCY_ROLES, ROLES_OF, Organization, OrgKind, Partnership, PartnershipStatus, Role, User,
)
from coenforce.partners.schemas import (
    ContactIn, OrganizationIn, PartnershipChange, PartnershipIn, PartnershipStatusIn, UserIn,
)
from coenforce.security import policy
from coenforce.security.passwords import hash_password, password_problem
from coenforce.validation import Conflict, NotAllowed, NotFound, ValidationError


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


def agency_named(session: Session, name: str) -> Organization:
    """The agency called `name` (for the command line); ValidationError if there is none."""
    agency = session.scalar(select(Organization).where(Organization.name == name, Organization.kind == OrgKind.AGENCY))
    if agency is None:
        raise ValidationError({"agency": _l("No agency has this name.")})
    return agency


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


# ---------------------------------------------------------------- partnerships

def partnerships_for(session: Session, user: User) -> list[Partnership]:
    """The partnerships of the user's organization, active first, by the other side's name."""
    other = Organization.name
    return list(session.scalars(
        select(Partnership).join(Organization, Organization.id == (
            Partnership.partner_id if user.is_agency_staff else Partnership.agency_id))
        .where(policy.partnership_scope(user))
        .order_by(Partnership.status != PartnershipStatus.ACTIVE, other)).unique())


def get_partnership(session: Session, user: User, partnership_id: int) -> Partnership:
    partnership = session.scalar(select(Partnership).where(Partnership.id == partnership_id,
                                                           policy.partnership_scope(user)))
    if partnership is None:
        raise NotFound()
    return partnership


def partnership_between(session: Session, agency_name: str, partner_name: str) -> Partnership:
    """The partnership of two organizations named on the command line."""
    partnership = session.scalar(
        select(Partnership).join(Organization, Organization.id == Partnership.agency_id)
        .where(Organization.name == agency_name,
               Partnership.partner_id == select(Organization.id).where(Organization.name == partner_name)
               .scalar_subquery()))
    if partnership is None:
        raise ValidationError({"partner": _l("These organizations are not partners.")})
    return partnership


def contact_choices(session: Session, partnership: Partnership, side: OrgKind) -> list[User]:
    """Who may be a side's point of contact: active agency staff, or an active partner liaison."""
    if side == OrgKind.AGENCY:
        where = (User.organization_id == partnership.agency_id, User.role.in_(AGENCY_ROLES))
    else:
        where = (User.organization_id == partnership.partner_id, User.role == Role.LIAISON)
    return list(session.scalars(select(User).where(User.active.is_(True), *where).order_by(User.name)))


def set_contact(session: Session, user: User | None, partnership: Partnership, side: OrgKind,
                data: ContactIn) -> None:
    """Name (or clear) one side's point of contact. Agency admins name the
    agency's, partner liaisons their organization's; `user` None is the operator
    at the command line."""
    if user is not None:
        own_side = OrgKind.AGENCY if user.is_agency_staff else OrgKind.PARTNER
        action = "partnership.agency_contact" if side == OrgKind.AGENCY else "partnership.partner_contact"
        if side != own_side or not policy.allowed(user, action):
            raise NotAllowed()
    if partnership.status == PartnershipStatus.ENDED:
        raise Conflict(_l("This partnership has ended."))
    field = "agency_contact_id" if side == OrgKind.AGENCY else "partner_contact_id"
    if data.contact_id is not None and data.contact_id not in {
            u.id for u in contact_choices(session, partnership, side)}:
        message = (_l("Choose an active member of the agency.") if side == OrgKind.AGENCY
                   else _l("Choose an active liaison of the partner organization."))
        raise ValidationError({"contact_id": message})
    setattr(partnership, field, data.contact_id)
    session.flush()


# An ended partnership stays ended: its history is kept, and a new one starts afresh.
_STATUS_CHANGES = {PartnershipStatus.ACTIVE: {PartnershipStatus.PAUSED, PartnershipStatus.ENDED},
                   PartnershipStatus.PAUSED: {PartnershipStatus.ACTIVE, PartnershipStatus.ENDED},
                   PartnershipStatus.ENDED: set()}


def set_status(session: Session, user: User | None, partnership: Partnership, data: PartnershipStatusIn) -> None:
    """Pause, resume or end a partnership (agency admins, or the operator with `user` None).
    Paused and ended partnerships take no new sharing; what was shared stays."""
    if user is not None and not policy.allowed(user, "partnership.manage"):
        raise NotAllowed()
    if data.status == partnership.status:
        return
    if data.status not in _STATUS_CHANGES[partnership.status]:
        raise Conflict(_l("This partnership has ended."))
    partnership.status = data.status
    partnership.status_changed_at = clock.now()
    session.flush()


def change_partnership(session: Session, user: User, partnership: Partnership, data: PartnershipChange) -> None:
    """The API's change: each field given is applied by the rule above it; all or nothing."""
    given = data.model_fields_set
    if "agency_contact_id" in given:
        set_contact(session, user, partnership, OrgKind.AGENCY, ContactIn(contact_id=data.agency_contact_id))
    if "partner_contact_id" in given:
        set_contact(session, user, partnership, OrgKind.PARTNER, ContactIn(contact_id=data.partner_contact_id))
    if "status" in given and data.status is not None:
        set_status(session, user, partnership, PartnershipStatusIn(status=data.status))


def agencies_working_with(session: Session, user: User) -> list[Organization]:
    """Agencies `user` may file with: staff their own; a partner those of its active partnerships."""
    if user.is_agency_staff:
        return [user.organization]
    return list(session.scalars(
        select(Organization).join(Partnership, Partnership.agency_id == Organization.id)
        .where(Partnership.partner_id == user.organization_id, Partnership.status == PartnershipStatus.ACTIVE)
        .order_by(Organization.name)))


def agency_chosen(agencies: list[Organization], agency_id: int | None,
                  refusal=_l("Choose an agency your organization works with.")) -> Organization:
    """The agency named by `agency_id` among `agencies`; the only one when none is named."""
    if agency_id is None and len(agencies) == 1:
        return agencies[0]
    if agency_id is None:
        raise ValidationError({"agency_id": _l("This field is required.")})
    chosen = next((a for a in agencies if a.id == agency_id), None)
    if chosen is None:
        raise ValidationError({"agency_id": refusal})
    return chosen


# ---------------------------------------------------------------- who a notice can reach

@dataclass
class Reachable:
    """The active people a batch of notices can go to, grouped for recipient callbacks."""

    by_role: dict[tuple[int, str], list[int]]
    # (agency, partner) -> (the agency's point of contact, the partner's), None when unnamed or inactive.
    contacts: dict[tuple[int, int], tuple[int | None, int | None]]
    active: set[int]

    def of(self, organization_id: int, role: Role) -> list[int]:
        return self.by_role.get((organization_id, role), [])

    def contacts_of(self, agency_id: int, partner_id: int) -> list[int]:
        return [c for c in self.contacts.get((agency_id, partner_id), (None, None)) if c]

    def agency_contact(self, agency_id: int, partner_id: int) -> int | None:
        return self.contacts.get((agency_id, partner_id), (None, None))[0]

    def partner_contact(self, agency_id: int, partner_id: int) -> int | None:
        return self.contacts.get((agency_id, partner_id), (None, None))[1]


# The statements of `reachable`, built once: every notice's recipients go through them.
_CONTACTS = select(Partnership.agency_id, Partnership.partner_id, Partnership.agency_contact_id,
                   Partnership.partner_contact_id).where(
    Partnership.agency_id.in_(bindparam("agencies", expanding=True)),
    Partnership.partner_id.in_(bindparam("partners", expanding=True)))
_LEADS_AND_NAMED = (and_(User.organization_id.in_(bindparam("agencies", expanding=True)),
                         User.role.in_((Role.SUPERVISOR, Role.AGENCY_ADMIN))),
                    User.id.in_(bindparam("people", expanding=True)))
_PEOPLE = {
    False: select(User.id, User.organization_id, User.role).where(User.active.is_(True), or_(*_LEADS_AND_NAMED)),
    True: select(User.id, User.organization_id, User.role).where(User.active.is_(True), or_(
        *_LEADS_AND_NAMED, and_(User.organization_id.in_(bindparam("partners", expanding=True)),
                                User.role == Role.LIAISON))),
}


def reachable(session: Session, agencies: set[int], partners: set[int], *, liaisons: bool = False,
              people: set[int] = frozenset()) -> Reachable:
    """Two queries for many notices: the points of contact of the partnerships
    between `agencies` and `partners`, then the active supervisors and admins of
    the agencies, the liaisons of the partners (if asked), those contacts and
    `people` by id."""
    # Plain statements run on the connection (after the flush session.execute would
    # do): the session's ORM layer adds nothing to them but time.
    session.flush()
    connection = session.connection()
    named: dict[tuple[int, int], tuple[int | None, int | None]] = {}
    if agencies and partners:
        for agency_id, partner_id, agency_contact_id, partner_contact_id in connection.execute(
                _CONTACTS, {"agencies": list(agencies), "partners": list(partners)}):
            named[(agency_id, partner_id)] = (agency_contact_id, partner_contact_id)
    by_id = set(people) | {c for pair in named.values() for c in pair if c}
    params = {"agencies": list(agencies), "people": list(by_id)} | ({"partners": list(partners)} if liaisons else {})
    rows = connection.execute(_PEOPLE[liaisons], params).all()
    by_role: dict[tuple[int, str], list[int]] = defaultdict(list)
    for user_id, organization_id, role in rows:
        by_role[(organization_id, role)].append(user_id)
    active = {user_id for user_id, _org, _role in rows}
    return Reachable(dict(by_role), {pair: tuple(c if c in active else None for c in ids)
                                     for pair, ids in named.items()}, active)
