"""Each legal-directory operation's input and output, declared once: the
pages, the API, the CSV imports and the OpenAPI document use these."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from coenforce.complaints.types import Language
from coenforce.legal.types import US_REGIONS, HandoutLanguage, ServiceModel
from coenforce.schemas import (
    Country, Cursor, Email, Id, Input, OptionalField, OptionalText, Output, PageQuery, PastDay, Query, Text,
    UniqueList, WithDefault,
)

_WEBSITE = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+([/?#]\S*)?$", re.I)
_SPLIT = re.compile(r"[;,\n]")


# ----------------------------------------------------------------- field types

def invalid(code: str) -> PydanticCustomError:
    # The code names the message in coenforce.schemas._MESSAGES.
    return PydanticCustomError(code, code)


def county_key(name: str) -> str:
    """A county's name for matching: accents, case, spacing and a trailing
    "County" or "Condado de" do not matter ("Condado de Los Ángeles" and
    "los angeles county" are one county)."""
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
    plain = " ".join(plain.replace(".", " ").split()).casefold()
    plain = re.sub(r"^(condado de|county of)\s+", "", plain)
    plain = re.sub(r"\s+(county|condado)$", "", plain)
    return plain


def county_name(name: str) -> str:
    """A county's name as shown: spacing tidied and a trailing "County" dropped."""
    name = " ".join(name.split())
    return re.sub(r"\s+county$", "", name, flags=re.I) or name


def _split(value: Any) -> Any:
    """A list typed into one text box or one CSV cell ("en; es", "Kern, Tulare")
    becomes its items; a list's items are split the same way."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        items = []
        for item in value:
            items += [part.strip() for part in _SPLIT.split(item)] if isinstance(item, str) else [item]
        return [item for item in items if item != ""]
    return value


def _counties(values: list[str]) -> list[str]:
    names, keys = [], set()
    for value in values:
        name = county_name(value)
        key = county_key(name)
        if not key:
            raise invalid("missing")
        if key in keys:
            raise invalid("duplicates")
        keys.add(key)
        names.append(name)
    return names


def _region(value: str) -> str:
    value = value.upper()
    if value not in US_REGIONS:
        raise invalid("region")
    return value


def _website(value: str) -> str:
    if not _WEBSITE.match(value):
        raise invalid("website")
    return value


County = Text(100)
Counties = Annotated[list[County], Field(min_length=1, json_schema_extra={"uniqueItems": True}),
                     BeforeValidator(_split), AfterValidator(_counties)]
Languages = Annotated[UniqueList(Language, min_length=1), BeforeValidator(_split)]
Region = Annotated[Text(2), AfterValidator(_region)]
Website = Annotated[Text(300), AfterValidator(_website)]


# ----------------------------------------------------------------- providers

class ProviderIn(Input):
    """An immigration legal provider as the agency lists it. Languages are
    codes (`en`, `es`, ...); counties are names, matched whatever their spelling
    of case, accents or a trailing "County"."""

    name: Text(200)
    service_model: ServiceModel
    languages: Languages
    counties: Counties
    phone: OptionalText(40)
    email: OptionalField(Email)
    address: OptionalText(300)
    # Shown as a link; the app never fetches it.
    website: OptionalField(Website)
    notes: OptionalText(5_000, multiline=True)
    accepting: WithDefault(bool, True)
    last_verified_on: OptionalField(PastDay)


class ProviderFilter(Query):
    # Partner liaisons: which partner agency's directory (the only one if not given).
    agency_id: OptionalField(Id)
    language: OptionalField(Language)
    county: OptionalText(100)
    service_model: OptionalField(ServiceModel)
    accepting: OptionalField(bool)


class ProviderListQuery(ProviderFilter, PageQuery):
    """By name, a page at a time."""

    after: OptionalField(Cursor(str, int))


class ProviderOut(Output):
    id: int
    agency_id: int
    name: str
    service_model: ServiceModel
    languages: list[Language]
    counties: list[str]
    phone: str | None
    email: str | None
    address: str | None
    website: str | None
    notes: str | None
    accepting: bool
    last_verified_on: date | None
    updated_at: datetime


# ----------------------------------------------------------------- consulates

class ConsulateIn(Input):
    country: Country
    # The US state it serves (a USPS code such as CA).
    region: OptionalField(Region)
    city: Text(100)
    phone: OptionalText(40)
    email: OptionalField(Email)
    address: OptionalText(300)
    hours: OptionalText(300)


class ConsulateFilter(Query):
    agency_id: OptionalField(Id)
    country: OptionalField(Country)
    region: OptionalField(Region)


class ConsulateListQuery(ConsulateFilter, PageQuery):
    after: OptionalField(Cursor(str, int))


class ConsulateOut(Output):
    id: int
    agency_id: int
    country: str
    region: str | None
    city: str
    phone: str | None
    email: str | None
    address: str | None
    hours: str | None
    updated_at: datetime


class RegionIn(Input):
    """The US state the agency works in (none to clear it)."""

    region: OptionalField(Region)


# ----------------------------------------------------------------- the attorney-list handout

class HandoutQuery(Query):
    language: WithDefault(HandoutLanguage, HandoutLanguage.EN)
    county: OptionalText(100)


class HandoutGivenIn(Input):
    """The handout was given to the complainant, in this language."""

    language: HandoutLanguage
