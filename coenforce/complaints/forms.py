"""Forms of the complaint pages: labels and widgets. What is allowed is said
by `schemas.py`, which parses what these forms submit."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, DecimalField, IntegerField, SelectField, StringField, SubmitField, TextAreaField

from coenforce.complaints.types import ActionType, Language, RetaliationType
from coenforce.forms import CheckboxesField, choices


class ComplaintForm(FlaskForm):
    agency_id = SelectField(_l("Agency"), coerce=str)
    employer_name = StringField(_l("Employer"), render_kw={"maxlength": 200})
    worksite_address = StringField(_l("Worksite address"), render_kw={"maxlength": 300})
    retaliation_types = CheckboxesField(_l("What the employer did"), choices=choices(RetaliationType.labels()))
    description = TextAreaField(_l("What happened"))
    labor_dispute = TextAreaField(_l("The underlying labor dispute"))
    workers_affected = IntegerField(_l("Workers affected"), default=1, render_kw={"min": 1})
    language = SelectField(_l("Complainant's language"), choices=choices(Language.labels()), default=Language.EN)
    # Optional: a browser sends the empty field, meaning "now".
    received_at = DateTimeLocalField(_l("Received at (leave empty for now)"), format="%Y-%m-%dT%H:%M",
                                     render_kw={"step": 60})
    shared_with = CheckboxesField(_l("Share with partner organizations"), coerce=int)
    submit = SubmitField(_l("File complaint"))


class ActionForm(FlaskForm):
    type = SelectField(_l("Action"), choices=choices(ActionType.labels()))
    taken_at = DateTimeLocalField(_l("Taken at (leave empty for now)"), format="%Y-%m-%dT%H:%M")
    # Blank by default: the list is then recorded in the complainant's language.
    language = SelectField(_l("Attorney list language"),
                           choices=choices([("", _l("The complainant's language"))] + list(Language.labels().items())),
                           default="")
    note = TextAreaField(_l("Note"))
    submit = SubmitField(_l("Record action"))


class AssignForm(FlaskForm):
    assignee_id = SelectField(_l("Assignee"), coerce=str)
    submit = SubmitField(_l("Assign"))


class ShareForm(FlaskForm):
    shared_with = CheckboxesField(_l("Partner organizations following this complaint"), coerce=int)
    submit = SubmitField(_l("Save sharing"))


class DamagesForm(FlaskForm):
    basis = StringField(_l("Violation and legal basis"), render_kw={"maxlength": 200})
    workers = IntegerField(_l("Workers"), default=1, render_kw={"min": 1})
    violations = IntegerField(_l("Violations"), default=1, render_kw={"min": 1})
    claimed = DecimalField(_l("Claimed ($)"), places=2, render_kw={"inputmode": "decimal"})
    statutory_max = DecimalField(_l("Statutory maximum ($)"), places=2, render_kw={"inputmode": "decimal"})
    assessed = DecimalField(_l("Assessed ($)"), places=2, render_kw={"inputmode": "decimal"})
    recovered = DecimalField(_l("Recovered ($)"), places=2, render_kw={"inputmode": "decimal"})
    submit = SubmitField(_l("Add damages"))


class CloseForm(FlaskForm):
    note = TextAreaField(_l("Why is this complaint closed?"))
    submit = SubmitField(_l("Close complaint"))
