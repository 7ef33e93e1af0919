"""Inputs for organizations, people and partnerships (the CLI and admin pages)."""
from __future__ import annotations

from datetime import datetime

from pydantic import SecretStr

from coenforce.partners.models import OrgKind, PartnershipStatus, Role
from coenforce.schemas import Count, Email, Id, Input, OptionalField, OptionalText, Output, Text, TimeZoneName


class OrganizationIn(Input):
    name: Text(200)
    kind: OrgKind
    # The deployment's default zone (COENFORCE_DEFAULT_TIMEZONE) if not given.
    timezone: OptionalField(TimeZoneName)
    # Agencies: hours to a first qualifying response (DEFAULT_RESPONSE_TARGET_HOURS if not given).
    response_target_hours: OptionalField(Count(24 * 30))


class UserIn(Input):
    email: Email
    org: Text(200)
    role: Role
    name: OptionalText(200)
    # One of the app's languages (LANGUAGES); English if not given.
    language: OptionalField(Text(8))
    password: SecretStr


class PartnershipIn(Input):
    agency: Text(200)
    partner: Text(200)


class ContactIn(Input):
    # None: nobody is the point of contact on this side.
    contact_id: OptionalField(Id)


class PartnershipStatusIn(Input):
    status: PartnershipStatus


class PartnershipChange(Input):
    """A partnership's change by API: the caller's side's point of contact
    (agency_contact_id for agency admins, partner_contact_id for partner
    liaisons) and, for agency admins, its status. Give only what changes."""

    agency_contact_id: OptionalField(Id)
    partner_contact_id: OptionalField(Id)
    status: OptionalField(PartnershipStatus)


class ContactOut(Output):
    id: int
    name: str
    email: str
    phone: str | None


class PartnershipOut(Output):
    id: int
    agency_id: int
    agency_name: str
    partner_id: int
    partner_name: str
    status: PartnershipStatus
    status_changed_at: datetime | None
    agency_contact: ContactOut | None
    partner_contact: ContactOut | None
