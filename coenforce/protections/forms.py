"""Forms of the protections pages: labels and widgets. What is allowed is said
by `schemas.py`, which parses what these forms submit."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, DateField, DateTimeLocalField, IntegerField, SelectField, StringField, SubmitField, TextAreaField,
)

from coenforce.forms import choices
from coenforce.protections.types import CertificationDecision, CertificationForm


class RequestForm(FlaskForm):
    certification_form = SelectField(_l("Form"), choices=choices(CertificationForm.labels()))
    requested_by = StringField(_l("Requested by (the attorney's office)"), render_kw={"maxlength": 200})
    requested_at = DateTimeLocalField(_l("Request received (leave empty for now)"), format="%Y-%m-%dT%H:%M",
                                      render_kw={"step": 60})
    removal_proceedings = BooleanField(_l("The worker is in removal proceedings (shorter legal deadline)"))
    submit = SubmitField(_l("Record the request"))


class DecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=choices(CertificationDecision.labels()))
    note = TextAreaField(_l("Note (required to decline)"), render_kw={"rows": 2})
    submit = SubmitField(_l("Record the decision"))


class LetterForm(FlaskForm):
    requested_by = StringField(_l("Requested by"), render_kw={"maxlength": 200})
    requested_at = DateTimeLocalField(_l("Request received (leave empty for now)"), format="%Y-%m-%dT%H:%M",
                                      render_kw={"step": 60})
    note = TextAreaField(_l("Note"), render_kw={"rows": 2})
    submit = SubmitField(_l("Record the request"))


class LetterSentForm(FlaskForm):
    sent_to = StringField(_l("Sent to"), render_kw={"maxlength": 200})
    sent_at = DateTimeLocalField(_l("Sent at (leave empty for now)"), format="%Y-%m-%dT%H:%M", render_kw={"step": 60})
    note = TextAreaField(_l("Note"), render_kw={"rows": 2})
    submit = SubmitField(_l("Mark sent"))


class GrantForm(FlaskForm):
    granted_on = DateField(_l("Granted on"))
    expires_on = DateField(_l("Expires on"))
    note = TextAreaField(_l("Note"), render_kw={"rows": 2})
    submit = SubmitField(_l("Record the grant"))


class SettingsForm(FlaskForm):
    certification_days = IntegerField(_l("Days to decide a T or U visa certification request"),
                                      render_kw={"min": 1, "max": 365})
    removal_business_days = IntegerField(_l("Business days when the worker is in removal proceedings"),
                                         render_kw={"min": 1, "max": 120})
    letter_business_days = IntegerField(_l("Business days to send a Statement of Interest letter"),
                                        render_kw={"min": 1, "max": 120})
    submit = SubmitField(_l("Save the targets"))


class HolidayForm(FlaskForm):
    date = DateField(_l("Date"))
    name = StringField(_l("Name"), render_kw={"maxlength": 100})
    submit = SubmitField(_l("Add the holiday"))
