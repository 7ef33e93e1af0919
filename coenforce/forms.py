"""Form helpers shared by every module's forms.

Forms render fields (and carry the CSRF token, which CSRFProtect checks on
every POST); the submitted values are parsed by the operation's schema, and
its ValidationError messages are put back on the form's fields here.
"""
from __future__ import annotations

from flask import flash, redirect, request
from flask_login import current_user
from wtforms import SelectMultipleField, widgets
from wtforms.fields.choices import SelectChoice

from coenforce.db import db
from coenforce.schemas import form_values, parse
from coenforce.validation import Conflict, ValidationError


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


def submitted(schema):
    """The posted form parsed by `schema`; local times are in the signed-in user's zone."""
    return parse(schema, form_values(schema, request.form), timezone=current_user.timezone)


def save_change(apply, *, done: str, then: str, on_error):
    """Run one change posted from a page: `apply()` (parse the form, call the
    service), commit, flash `done` and redirect to `then`. Bad input rolls back
    and returns `on_error(422, the ValidationError)`; a conflict rolls back,
    flashes its message and returns `on_error(409, None)`."""
    try:
        apply()
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return on_error(422, exc)
    except Conflict as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return on_error(409, None)
    flash(done, "success")
    return redirect(then)
