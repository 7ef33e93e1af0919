"""Inputs for organizations, people and partnerships (the CLI and admin pages)."""
from __future__ import annotations

from pydantic import SecretStr

from coenforce.partners.models import OrgKind, Role
from coenforce.schemas import Count, Email, Input, OptionalField, OptionalText, Text, TimeZoneName


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
