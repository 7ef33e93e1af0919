"""The building blocks of every module's `schemas.py`: field types, parsing and
error messages.

Each operation's input and output is one pydantic model. The JSON API parses
request bodies with it (strictly: JSON types must be right), the pages feed
their submitted form fields through the same model (form values are text, so
numbers are converted), and the CLI does too. The OpenAPI document is
generated from the same models. A failure becomes `ValidationError` with one
message per field, in the requester's language, before anything is written.
"""
from __future__ import annotations

import base64
import functools
import binascii
import json
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import pydantic
from flask_babel import lazy_gettext as _l
from babel import Locale
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError, SchemaSerializer

from coenforce import clock
from coenforce.validation import MAX_ID, ValidationError

# Control characters other than tab, newline and carriage return. PostgreSQL
# refuses NUL in text; SQLite would store it, so both refuse it here.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Times before this are typing mistakes, and near year 1 they do not convert to UTC.
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class Input(BaseModel):
    """An operation's input: unknown fields are refused, never ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Query(BaseModel):
    """A list's filters from a query string: unknown parameters are ignored, as on any web page."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Output(BaseModel):
    """An operation's output, read from the attributes of model objects."""

    model_config = ConfigDict(from_attributes=True)


@functools.cache
def row_serializer(shape: Any) -> SchemaSerializer:
    """Writes dicts shaped like `shape` (an Output model, or a type made of them,
    such as a list of one) as the JSON the model writes, without building the
    model first: for lists, whose rows a service builds from typed columns, where
    validating each row costs as much as writing it.

    Each nested model is read as a dict of its fields (by field name); keys the
    model does not have are left out. A value of the wrong type is an error
    (pass warnings="error" to `to_json`), never guessed at; a field missing from
    a row is left out as well, so a test of each list checks its responses
    against the documented schema, which requires every field."""
    return SchemaSerializer(_as_dict_schema(pydantic.TypeAdapter(shape).core_schema))


def _as_dict_schema(node: Any) -> Any:
    """`node` (a core schema) with each model in it read as a typed dict."""
    if isinstance(node, list):
        return [_as_dict_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("type") != "model":
        return {key: _as_dict_schema(value) for key, value in node.items()}
    inner = node["schema"]
    if "serialization" in node or inner.get("type") != "model-fields" or inner.get("computed_fields"):
        raise TypeError(f"{node['cls'].__name__} writes itself: its rows cannot be written as dicts")
    fields = {name: {**_as_dict_schema(field), "type": "typed-dict-field"} for name, field in inner["fields"].items()}
    shape = {"type": "typed-dict", "fields": fields}
    for kept in ("ref", "config"):  # a model used twice is defined once and referred to
        if kept in node:
            shape[kept] = node[kept]
    return shape


def invalid(code: str) -> PydanticCustomError:
    """The error a validator raises; the code is looked up in _MESSAGES below for the translated message."""
    return PydanticCustomError(code, code)


_error = invalid


# ----------------------------------------------------------------- text

def _clean_text(multiline: bool):
    def clean(value: Any) -> Any:
        if not isinstance(value, str):
            return value  # the str type says what is wrong
        if not multiline:
            value = value.replace("\r", " ").replace("\n", " ")
        if _CONTROL.search(value):
            raise _error("control_characters")
        return value.strip() or None
    return clean


def _required(value: Any) -> Any:
    if value is None:
        raise _error("missing")
    return value


def Text(max_length: int, *, multiline: bool = False):
    """Required text: stripped, no control characters, at most `max_length` characters."""
    return Annotated[str, Field(min_length=1, max_length=max_length), BeforeValidator(_required),
                     BeforeValidator(_clean_text(multiline))]


def OptionalText(max_length: int, *, multiline: bool = False):
    """Optional text: blank is None."""
    return Annotated[Annotated[str, Field(max_length=max_length)] | None,
                     BeforeValidator(_clean_text(multiline)), Field(default=None)]


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def OptionalField(kind):
    """An optional field of any type: None when not given; a blank form value counts as not given."""
    return Annotated[kind | None, BeforeValidator(_blank_is_none), Field(default=None)]


def WithDefault(kind, default):
    """A field that takes `default` when not given, null, or blank in a form."""
    def fill(value: Any) -> Any:
        return default if value is None or (isinstance(value, str) and not value.strip()) else value
    return Annotated[kind, BeforeValidator(fill), Field(default=default)]


Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def Count(maximum: int = 100_000):
    return Annotated[int, Field(ge=1, le=maximum)]


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise _error("email")
    return value.lower()


Email = Annotated[Text(254), AfterValidator(_email)]


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise _error("timezone") from None
    if value not in available_timezones():
        raise _error("timezone")
    return value


TimeZoneName = Annotated[Text(64), AfterValidator(_timezone)]


# ISO 3166-1 alpha-2 codes (babel's territories without regions such as "419",
# groupings such as "EU" or "UN", codes reserved outside the standard such as
# "AC" or "IC", and the private-use "ZZ", "QO", "XA", "XB"; "XK", Kosovo, stays).
COUNTRIES = frozenset(code for code in Locale("en").territories
                      if len(code) == 2 and code.isalpha()
                      and code not in {"AC", "CP", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"})


def _country(value: str) -> str:
    value = value.upper()
    if value not in COUNTRIES:
        raise invalid("country_code")
    return value


Country = Annotated[Text(2), AfterValidator(_country)]


@functools.lru_cache(maxsize=16)
def country_names(locale: str) -> Mapping[str, str]:
    """Country codes and their names in `locale`, sorted by name (for select lists);
    built once per language, read-only."""
    names = Locale.parse(locale).territories
    return MappingProxyType(dict(sorted(((code, names.get(code, code)) for code in COUNTRIES),
                                        key=lambda item: item[1])))


def _unique(values: list) -> list:
    if len(set(values)) != len(values):
        raise _error("duplicates")
    return values


def UniqueList(item, *, min_length: int = 0):
    """A list whose values are distinct (`uniqueItems` in the OpenAPI document);
    an optional list (min_length 0) defaults to empty."""
    extra = {} if min_length else {"default_factory": list}
    return Annotated[list[item], Field(min_length=min_length, json_schema_extra={"uniqueItems": True}, **extra),
                     AfterValidator(_unique)]


# ----------------------------------------------------------------- times

def _parse_time(value: Any, info: ValidationInfo) -> Any:
    """An aware UTC time from ISO 8601 text or a datetime. A time without an
    offset is read in `context["timezone"]` (a form's local time) if given."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise _error("time_format") from None
    if not isinstance(value, datetime):
        raise _error("time_format")
    if value.tzinfo is None:
        zone = (info.context or {}).get("timezone")
        if zone is None:
            raise _error("time_offset")
        # fold=0: an ambiguous time in the autumn repeat is read as the first one.
        value = value.replace(tzinfo=ZoneInfo(zone))
    try:
        value = clock.as_utc(value)
    except OverflowError:  # e.g. 0001-01-01T01:00+03:00 has no UTC equivalent
        raise _error("time_too_early") from None
    if value < EARLIEST:
        raise _error("time_too_early")
    return value


def _not_future(value: datetime) -> datetime:
    if value > clock.now():
        raise _error("time_in_future")
    return value


Time = Annotated[datetime, BeforeValidator(_parse_time)]
PastTime = Annotated[datetime, AfterValidator(_not_future), BeforeValidator(_parse_time)]


def _parse_date(value: Any) -> Any:
    """A calendar date from ISO text (2026-03-07) or a date; a time is refused."""
    if isinstance(value, datetime) or not isinstance(value, (date, str)):
        raise _error("date_format")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise _error("date_format") from None


def _day_not_too_early(value: date) -> date:
    if value.year < EARLIEST.year:
        raise _error("time_too_early")
    return value


def _day_not_future(value: date) -> date:
    if value > clock.now().date():
        raise _error("time_in_future")
    return value


Day = Annotated[date, AfterValidator(_day_not_too_early), BeforeValidator(_parse_date)]
PastDay = Annotated[date, AfterValidator(_day_not_future), AfterValidator(_day_not_too_early),
                    BeforeValidator(_parse_date)]


# ----------------------------------------------------------------- money

def _cents(value: Any) -> Any:
    """Dollars as typed ("1,250.00", "$30") or a JSON number, in whole cents."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    if isinstance(value, bool):
        raise _error("amount_format")
    try:
        amount = Decimal(str(value).replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        raise _error("amount_format") from None
    if not amount.is_finite() or amount < 0 or amount > Decimal("1000000000"):
        raise _error("amount_range")
    if amount != amount.quantize(Decimal("0.01")):
        raise _error("amount_precision")
    return int(amount * 100)


Cents = Annotated[int, BeforeValidator(_cents), Field(default=0)]


# ----------------------------------------------------------------- pages

def encode_cursor(values: tuple) -> str:
    """An opaque page cursor for the sort key of a list's last item."""
    plain = [clock.iso(v) if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(value: Any) -> Any:
    if not isinstance(value, str) or len(value) > 200:
        raise _error("cursor")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, binascii.Error):
        raise _error("cursor") from None
    if not isinstance(decoded, list):
        raise _error("cursor")
    return decoded


def Cursor(*key):
    """A page cursor holding a sort key of these types (e.g. Cursor(datetime, int))."""
    return Annotated[tuple[key], BeforeValidator(_decode_cursor), WithJsonSchema({"type": "string"})]


Limit = Annotated[int, Field(ge=1, le=200)]


class PageQuery(Query):
    """A list endpoint's page: at most `limit` items after the cursor `after`
    (the `next` link of the previous page holds it)."""

    limit: WithDefault(Limit, 200)


class PageNumber(Query):
    """A page's number in a list shown on a web page."""

    page: WithDefault(Annotated[int, Field(ge=1, le=100_000)], 1)


@dataclass(frozen=True)
class Page:
    """One page of a list: its items, how many match in all, and the sort key
    of the last item when more follow. `shaped` items are dicts shaped like the
    response (see `row_serializer`), written as they are."""

    items: list
    total: int
    next_key: tuple | None
    shaped: bool = False


# ----------------------------------------------------------------- messages

_MESSAGES = {
    "missing": _l("This field is required."),
    "string_too_short": _l("This field is required."),
    "string_type": _l("Must be text."),
    "control_characters": _l("Contains characters that are not allowed."),
    "extra_forbidden": _l("Unknown field."),
    "int_type": _l("Must be a whole number."),
    "int_parsing": _l("Must be a whole number."),
    "int_from_float": _l("Must be a whole number."),
    "bool_type": _l("Must be true or false."),
    "bool_parsing": _l("Must be true or false."),
    "enum": _l("Choose one of the listed values."),
    "literal_error": _l("Choose one of the listed values."),
    "list_type": _l("Must be a list of values."),
    "too_short": _l("Choose at least one."),
    "duplicates": _l("Lists a value twice."),
    "time_format": _l("Must be an ISO 8601 time with its offset, e.g. 2026-03-07T10:00:00-08:00."),
    "time_offset": _l("A time must include its UTC offset."),
    "time_too_early": _l("Cannot be before 1970."),
    "time_in_future": _l("Cannot be in the future."),
    "email": _l("Must be an email address."),
    "timezone": _l("Unknown time zone."),
    "a_number": _l("An A-Number has 8 or 9 digits, with or without a leading A."),
    "amount_format": _l("Must be an amount such as 1250.00."),
    "amount_range": _l("Must be an amount between 0 and 1,000,000,000."),
    "amount_precision": _l("At most two decimal places."),
    "cursor": _l("Not a page link this list gave out."),
    "country_code": _l("Must be a country's two-letter code, such as MX."),
    "region": _l("Must be a US state's two-letter code, such as CA."),
    "website": _l("Must be a web address starting with http:// or https://."),
    "date_format": _l("Must be a date such as 2026-03-07."),
    "model_type": _l("Must be a JSON object."),
    "model_attributes_type": _l("Must be a JSON object."),
    "dict_type": _l("Must be a JSON object."),
}


def _message(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "string_too_long":
        return str(_l("Must be at most %(n)s characters.", n=ctx.get("max_length")))
    if kind in ("greater_than_equal", "greater_than"):
        return str(_l("Must be at least %(n)s.", n=ctx.get("ge", ctx.get("gt"))))
    if kind in ("less_than_equal", "less_than"):
        return str(_l("Must be at most %(n)s.", n=ctx.get("le", ctx.get("lt"))))
    if kind.startswith(("datetime_", "date_", "timezone_")) and kind not in _MESSAGES:
        return str(_MESSAGES["time_format"])
    return str(_MESSAGES.get(kind, _l("Is invalid.")))


def field_errors(exc: pydantic.ValidationError) -> dict[str, str]:
    """One translated message per field (the first problem found in it)."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False):
        location = error["loc"]
        name = str(location[0]) if location else "body"
        fields.setdefault(name, _message(error))
    return fields


def parse(model: type[BaseModel], data: Any, *, timezone: str | None = None):
    """Validate Python data (a form's values, CLI options) against `model`."""
    try:
        return model.model_validate(data, context={"timezone": timezone})
    except pydantic.ValidationError as exc:
        raise ValidationError(field_errors(exc)) from None


def parse_json(model: type[BaseModel], raw: bytes | str):
    """Validate a JSON document against `model` strictly (JSON types must be right)."""
    try:
        return model.model_validate_json(raw, strict=True, context={"timezone": None})
    except pydantic.ValidationError as exc:
        raise ValidationError(field_errors(exc)) from None


def parse_filters(model: type[BaseModel], args) -> tuple[BaseModel, dict[str, str]]:
    """A page's filters from its query string: a bad value is dropped and its
    message returned for the page to show, so the list still renders."""
    values = form_values(model, args)
    try:
        return model.model_validate(values), {}
    except pydantic.ValidationError as exc:
        errors = field_errors(exc)
        kept = {name: value for name, value in values.items() if name not in errors}
        return model.model_validate(kept), errors


def _is_list(annotation) -> bool:
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, getattr(__import__("types"), "UnionType")):
        return any(_is_list(arg) for arg in typing.get_args(annotation))
    return typing.get_origin(annotation) is list


def form_values(model: type[BaseModel], form) -> dict:
    """The fields of `model` found in a submitted form (a MultiDict): lists for
    list fields, text for the rest; fields the form did not send are left out."""
    values = {}
    for field_name, info in model.model_fields.items():
        name = info.alias or field_name
        if _is_list(info.annotation):
            values[name] = form.getlist(name)
        elif name in form:
            values[name] = form.get(name)
    return values
