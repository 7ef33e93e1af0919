"""Organizations, users and agency-partner partnerships."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coenforce.db import Base, UTCDateTime
from coenforce.enums import EnumText, LabeledEnum
from coenforce.security.crypto.columns import EncryptedField, encrypted_column, row_key_column


class OrgKind(LabeledEnum):
    AGENCY = "agency", _l("Agency")
    PARTNER = "partner", _l("Partner organization")


class Role(LabeledEnum):
    AGENCY_ADMIN = "agency_admin", _l("Agency admin")
    SUPERVISOR = "supervisor", _l("Supervisor")
    INVESTIGATOR = "investigator", _l("Investigator")
    LIAISON = "liaison", _l("Partner liaison")
    ORGANIZER = "organizer", _l("Organizer")

class PartnershipStatus(LabeledEnum):
    ACTIVE = "active", _l("Active")
    PAUSED = "paused", _l("Paused")
    ENDED = "ended", _l("Ended")


AGENCY_ROLES = frozenset({Role.AGENCY_ADMIN, Role.SUPERVISOR, Role.INVESTIGATOR})
PARTNER_ROLES = frozenset({Role.LIAISON, Role.ORGANIZER})
# The roles that exist in each kind of organization.
ROLES_OF = {OrgKind.AGENCY: AGENCY_ROLES, OrgKind.PARTNER: PARTNER_ROLES}


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrgKind] = mapped_column(EnumText(OrgKind, 16))
    timezone: Mapped[str] = mapped_column(String(64))
    # Hours within which an agency commits to a first qualifying response.
    response_target_hours: Mapped[int] = mapped_column(Integer, default=48)
    # Agencies: the US state (USPS code) they work in, to pick a consulate (legal directory).
    region: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    users: Mapped[list["User"]] = relationship(back_populates="organization")

    @property
    def is_agency(self) -> bool:
        return self.kind == OrgKind.AGENCY


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(EnumText(Role, 32))
    language: Mapped[str] = mapped_column(String(8), default="en")
    # A work phone, shown in the points-of-contact directory (staff, never workers).
    phone: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bound into the ciphertext of the row's encrypted fields (security/crypto/columns.py).
    row_key: Mapped[str] = row_key_column()
    # Two-factor login (TOTP). The last accepted time step makes each code single-use.
    # Encrypted at rest: a copy of the database must not let anyone mint codes.
    totp_secret_enc: Mapped[str | None] = encrypted_column()
    totp_secret = EncryptedField("totp_secret_enc")
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Per-account login throttling: failures in a row and when the account may try again.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    organization: Mapped[Organization] = relationship(back_populates="users", lazy="joined")

    # Flask-Login's interface.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def requires_two_factor(self) -> bool:
        """Agency staff must use TOTP; partner users may."""
        return self.is_agency_staff or self.totp_enabled_at is not None

    @property
    def is_agency_staff(self) -> bool:
        return self.role in AGENCY_ROLES

    @property
    def timezone(self) -> str:
        return self.organization.timezone


class Partnership(Base):
    """An agency and a partner organization working together, each with a point of contact."""

    __tablename__ = "partnerships"
    __table_args__ = (UniqueConstraint("agency_id", "partner_id", name="uq_partnerships_agency_partner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    agency_contact_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    partner_contact_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Paused or ended partnerships take no new sharing; ended ones keep their history.
    status: Mapped[PartnershipStatus] = mapped_column(EnumText(PartnershipStatus, 16), default=PartnershipStatus.ACTIVE)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    agency: Mapped[Organization] = relationship(foreign_keys=[agency_id], lazy="joined")
    partner: Mapped[Organization] = relationship(foreign_keys=[partner_id], lazy="joined")
    agency_contact: Mapped[User | None] = relationship(foreign_keys=[agency_contact_id], lazy="joined")
    partner_contact: Mapped[User | None] = relationship(foreign_keys=[partner_contact_id], lazy="joined")

    @property
    def is_active(self) -> bool:
        return self.status == PartnershipStatus.ACTIVE

    @property
    def agency_name(self) -> str:
        return self.agency.name

    @property
    def partner_name(self) -> str:
        return self.partner.name
