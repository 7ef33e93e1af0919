from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Optional

from coenforce.complaints.types import ACTION_TYPES, ATTORNEY_LIST_LANGUAGES, RETALIATION_TYPES
from coenforce.forms import CheckboxesField, choices


class ComplaintForm(FlaskForm):
    agency_id = SelectField(_l("Agency"), coerce=str, validate_choice=False)
    employer_name = StringField(_l("Employer"))
    worksite_address = StringField(_l("Worksite address"))
    retaliation_types = CheckboxesField(_l("What the employer did"), choices=choices(RETALIATION_TYPES))
    description = TextAreaField(_l("What happened"))
    labor_dispute = TextAreaField(_l("The underlying labor dispute"))
    workers_affected = StringField(_l("Workers affected"), default="1")
    language = SelectField(_l("Complainant's language"), choices=choices(ATTORNEY_LIST_LANGUAGES),
                           default="en", validate_choice=False)
    # Optional: a browser sends the empty field, meaning "now".
    received_at = DateTimeLocalField(_l("Received at (leave empty for now)"), format="%Y-%m-%dT%H:%M",
                                     validators=[Optional()], render_kw={"step": 60})
    shared_with = CheckboxesField(_l("Share with partner organizations"), coerce=int)
    submit = SubmitField(_l("File complaint"))


class ActionForm(FlaskForm):
    type = SelectField(_l("Action"), choices=choices(ACTION_TYPES), validate_choice=False)
    taken_at = DateTimeLocalField(_l("Taken at (leave empty for now)"), format="%Y-%m-%dT%H:%M",
                                  validators=[Optional()])
    # Blank by default: the list is then recorded in the complainant's language.
    language = SelectField(_l("Attorney list language"),
                           choices=choices([("", _l("The complainant's language"))] + list(ATTORNEY_LIST_LANGUAGES.items())),
                           default="", validate_choice=False)
    note = TextAreaField(_l("Note"))
    submit = SubmitField(_l("Record action"))


class AssignForm(FlaskForm):
    assignee_id = SelectField(_l("Assignee"), coerce=str, validate_choice=False)
    submit = SubmitField(_l("Assign"))


class ShareForm(FlaskForm):
    shared_with = CheckboxesField(_l("Partner organizations following this complaint"), coerce=int)
    submit = SubmitField(_l("Save sharing"))


class DamagesForm(FlaskForm):
    basis = StringField(_l("Violation and legal basis"))
    workers = StringField(_l("Workers"), default="1")
    violations = StringField(_l("Violations"), default="1")
    claimed = StringField(_l("Claimed ($)"))
    statutory_max = StringField(_l("Statutory maximum ($)"))
    assessed = StringField(_l("Assessed ($)"))
    recovered = StringField(_l("Recovered ($)"))
    submit = SubmitField(_l("Add damages"))


class CloseForm(FlaskForm):
    note = TextAreaField(_l("Why is this complaint closed?"))
    submit = SubmitField(_l("Close complaint"))
