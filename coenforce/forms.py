"""Form helpers shared by every module's forms.

Forms carry CSRF and render fields; the rules live in the services, whose
ValidationError messages are put back on the form's fields here.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, widgets
from wtforms.fields.choices import SelectChoice

from coenforce.validation import ValidationError


class CheckboxesField(SelectMultipleField):
    """A list of checkboxes; the service, not the form, decides what is allowed."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form):  # the service validates the choices
        pass


def choices(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs or a {value: label} mapping."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(value, label) for value, label in items]


def apply_errors(form, error: ValidationError) -> None:
    """Show a service's field errors on the matching form fields (or the form)."""
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + [message]
        else:
            form.form_errors.append(message)


def local_to_utc(value: str | None, tz: str, field: str) -> datetime | None:
    """A 'YYYY-MM-DDTHH:MM' value typed in zone `tz`, as an aware time."""
    if not value:
        return None
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError({field: _l("Enter a date and time.")}) from None
    if naive.tzinfo is not None:
        return naive
    # fold=0: an ambiguous time in the autumn repeat is read as the first one.
    return naive.replace(tzinfo=ZoneInfo(tz))
