"""Forms of the alert pages: labels and widgets. What is allowed is said by
`schemas.py`, which parses what these forms submit."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, StringField, SubmitField, TextAreaField

from coenforce.detentions.types import DetainedWhere, Intervention, Outcome
from coenforce.forms import CheckboxesField, choices


class AlertForm(FlaskForm):
    agency_id = SelectField(_l("Agency"), coerce=str)
    worker_name = StringField(_l("Worker's name"), render_kw={"maxlength": 200, "autocomplete": "off"})
    complaint_id = SelectField(_l("Co-enforcement case (if any)"), coerce=str)
    a_number = StringField(_l("A-Number (if known)"), render_kw={"maxlength": 20, "autocomplete": "off",
                                                                 "inputmode": "numeric"})
    country = SelectField(_l("Country of citizenship (for the consulate)"), coerce=str)
    facility = StringField(_l("Detention facility (if known)"), render_kw={"maxlength": 200})
    detained_at = DateTimeLocalField(_l("Detained at (leave empty for now)"), format="%Y-%m-%dT%H:%M",
                                     render_kw={"step": 60})
    detained_where = SelectField(_l("Where"), choices=choices(DetainedWhere.labels()), default=DetainedWhere.OTHER)
    family_contact = TextAreaField(_l("Family contact"), render_kw={"rows": 2})
    notes = TextAreaField(_l("Notes"), render_kw={"rows": 3})
    partner_ids = CheckboxesField(_l("Also tell these partner organizations"), coerce=int)
    submit = SubmitField(_l("Raise the alert"))


class TaskForm(FlaskForm):
    note = TextAreaField(_l("Note"), render_kw={"rows": 2})
    intervention = SelectField(_l("The agency's decision"),
                               choices=choices([("", "")] + list(Intervention.labels().items())), default="")
    attorney_provider_id = SelectField(_l("Attorney (from the legal directory)"), coerce=str)
    submit = SubmitField(_l("Mark done"))


class CloseForm(FlaskForm):
    outcome = SelectField(_l("Outcome"), choices=choices(Outcome.labels()))
    note = TextAreaField(_l("Note"), render_kw={"rows": 2})
    submit = SubmitField(_l("Close the alert"))
