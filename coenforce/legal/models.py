"""The legal directory of an agency: immigration legal providers (with the
languages they work in and the counties they serve) and consulates.

A provider's website is kept as text and shown as a link; the app never
fetches it. Nothing here is about a worker.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coenforce.complaints.types import Language
from coenforce.db import Base, UTCDateTime
from coenforce.enums import EnumText
from coenforce.legal.types import ServiceModel


class LegalProvider(Base):
    __tablename__ = "legal_providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    service_model: Mapped[ServiceModel] = mapped_column(EnumText(ServiceModel, 32))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    # Shown as text and a link; never fetched.
    website: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)
    accepting: Mapped[bool] = mapped_column(Boolean, default=True)
    last_verified_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    language_rows: Mapped[list["ProviderLanguage"]] = relationship(
        cascade="all, delete-orphan", order_by="ProviderLanguage.language", lazy="selectin")
    county_rows: Mapped[list["ProviderCounty"]] = relationship(
        cascade="all, delete-orphan", order_by="ProviderCounty.key", lazy="selectin")

    @property
    def languages(self) -> list[Language]:
        return [row.language for row in self.language_rows]

    @property
    def counties(self) -> list[str]:
        return [row.name for row in self.county_rows]


class ProviderLanguage(Base):
    __tablename__ = "legal_provider_languages"

    provider_id: Mapped[int] = mapped_column(ForeignKey("legal_providers.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[Language] = mapped_column(EnumText(Language, 8), primary_key=True, index=True)


class ProviderCounty(Base):
    """A county a provider serves: its name as written ("Los Angeles") and its
    key for matching (`legal.counties.county_key`: "los angeles")."""

    __tablename__ = "legal_provider_counties"

    provider_id: Mapped[int] = mapped_column(ForeignKey("legal_providers.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    name: Mapped[str] = mapped_column(String(100))


class Consulate(Base):
    __tablename__ = "consulates"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # The country the consulate represents (ISO 3166-1 alpha-2), not anyone's nationality.
    country: Mapped[str] = mapped_column(String(2), index=True)
    # The US state it serves (USPS code), if it says.
    region: Mapped[str | None] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    hours: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
