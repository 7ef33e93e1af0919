"""Form helpers shared by every module's forms.

Forms render fields (and carry the CSRF token, which CSRFProtect checks on
every POST); the submitted values are parsed by the operation's schema, and
its ValidationError messages are put back on the form's fields here.
"""
from __future__ import annotations

from wtforms import SelectMultipleField, widgets
from wtforms.fields.choices import SelectChoice

from coenforce.validation import ValidationError


class CheckboxesField(SelectMultipleField):
    """A list of checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


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
