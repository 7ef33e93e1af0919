"""Forms of the third-party pages: labels and widgets. What is allowed is said
by `schemas.py`, which parses what these forms submit."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField, TextAreaField

from coenforce.forms import CheckboxesField, choices
from coenforce.thirdparty.types import Decision, Industry, ViolationType


class ReportForm(FlaskForm):
    agency_id = SelectField(_l("Agency"), coerce=str)
    employer_name = StringField(_l("Employer"), render_kw={"maxlength": 200, "autocomplete": "off"})
    worksite_address = StringField(_l("Worksite address"), render_kw={"maxlength": 300, "autocomplete": "off"})
    area = StringField(_l("City or county"), render_kw={"maxlength": 100, "autocomplete": "off"})
    industry = SelectField(_l("Industry"), choices=choices(Industry.labels()), default=Industry.OTHER)
    violation_types = CheckboxesField(_l("What is happening"), choices=choices(ViolationType.labels()))
    workers_affected = IntegerField(_l("Workers affected (an estimate)"), render_kw={"min": 1})
    description = TextAreaField(_l("What you know and how you know it"))
    can_connect_workers = BooleanField(_l("Our organization can connect the agency with workers later"))
    submit = SubmitField(_l("Send report"))


class PublicReportForm(ReportForm):
    """The public page: no question about who reports."""

    can_connect_workers = BooleanField(_l("I could share more later through a worker organization"))


class DecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=choices(Decision.labels()))
    reason = TextAreaField(_l("Reason (the filer reads it; required to decline)"))
    case_reference = StringField(_l("Investigation case number"), render_kw={"maxlength": 100})
    linked_complaint_id = IntegerField(_l("Or link complaint number"), render_kw={"min": 1})
    public_reply = TextAreaField(_l("Reply the public reporter reads with the receipt code"))
    submit = SubmitField(_l("Record decision"))


class ReceiptForm(FlaskForm):
    code = StringField(_l("Receipt code"), render_kw={"maxlength": 40, "autocomplete": "off",
                                                      "autocapitalize": "characters"})
    submit = SubmitField(_l("See status"))


class InvestigateForm(FlaskForm):
    case_reference = StringField(_l("Case number"), render_kw={"maxlength": 100})
    submit = SubmitField(_l("Open investigation"))
