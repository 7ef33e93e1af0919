"""Locale and time-zone selection, and showing UTC times in a zone."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.dates import format_datetime as babel_format_datetime
from flask import current_app, g, has_request_context, request
from flask_babel import get_locale
from flask_login import current_user


def select_locale() -> str:
    """The user's preference, then the browser's Accept-Language, then English."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the CLI and the scheduler speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.language in languages:
        return current_user.language
    api_user = g.get("api_user")  # a caller of the JSON API, known by its token
    if api_user is not None and api_user.language in languages:
        return api_user.language
    chosen = request.args.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    """The organization's time zone for signed-in users, else the default zone."""
    if has_request_context() and current_user and getattr(current_user, "is_authenticated", False):
        return current_user.timezone
    return current_app.config["DEFAULT_TIMEZONE"]


def local_time(value: datetime | None, tz: str, locale: str | None = None, fmt: str = "medium") -> str:
    """`value` (UTC) shown in zone `tz`, worded for `locale`, with the zone's abbreviation."""
    if value is None:
        return ""
    locale = locale or str(get_locale() or "en")
    zone = ZoneInfo(tz)
    if fmt == "medium":
        # A medium date with a short time: seconds are noise on a case page.
        local = value.astimezone(zone)
        pattern = Locale.parse(locale).datetime_formats["medium"]
        text = pattern.format(format_time(local, "short", locale=locale), format_date(local, "medium", locale=locale))
    else:
        text = babel_format_datetime(value, format=fmt, tzinfo=zone, locale=locale)
    return f"{text} {value.astimezone(zone).tzname()}"


def money(cents: int) -> str:
    """An amount in cents as US dollars, worded for the current locale."""
    from babel.numbers import format_currency
    return format_currency(cents / 100, "USD", locale=str(get_locale() or "en"))


def duration(seconds: int | None) -> str:
    """A short '12 h 05 min' rendering of a duration."""
    if seconds is None:
        return ""
    sign = "-" if seconds < 0 else ""
    seconds = abs(int(seconds))
    hours_, rest = divmod(seconds, 3600)
    return f"{sign}{hours_} h {rest // 60:02d} min"


def init_app(app) -> None:
    """Template helpers for times in the viewer's zone and language."""
    from flask_babel import get_timezone

    @app.template_filter("local")
    def _local(value, fmt="medium"):
        return local_time(value, str(get_timezone()), fmt=fmt)

    app.add_template_global(get_locale, "get_locale")
    app.add_template_filter(duration, "duration")
    app.add_template_filter(money, "money")
