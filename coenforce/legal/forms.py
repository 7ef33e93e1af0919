"""Forms of the legal-directory pages: labels and widgets. What is allowed is
said by `schemas.py`, which parses what these forms submit."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField, TextAreaField

from coenforce.complaints.types import Language
from coenforce.forms import CheckboxesField, choices
from coenforce.legal.types import US_REGIONS, HandoutLanguage, ServiceModel

_YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]


class ProviderForm(FlaskForm):
    name = StringField(_l("Name"), render_kw={"maxlength": 200, "autocomplete": "off"})
    service_model = SelectField(_l("Service model"), choices=choices(ServiceModel.labels()))
    languages = CheckboxesField(_l("Languages"), choices=choices(Language.labels()))
    counties = StringField(_l("Counties served (separated by commas)"), render_kw={"autocomplete": "off"})
    accepting = SelectField(_l("Accepting cases now"), choices=choices(_YES_NO), default="yes")
    phone = StringField(_l("Phone"), render_kw={"maxlength": 40, "type": "tel"})
    email = StringField(_l("Email"), render_kw={"maxlength": 254, "type": "email"})
    address = StringField(_l("Address"), render_kw={"maxlength": 300})
    website = StringField(_l("Website"), render_kw={"maxlength": 300, "type": "url"})
    notes = TextAreaField(_l("Notes (intake days, fees, who to ask for)"))
    last_verified_on = DateField(_l("Last verified"))
    submit = SubmitField(_l("Save"))


class ConsulateForm(FlaskForm):
    country = SelectField(_l("Country"))
    region = SelectField(_l("US state served"), choices=choices([("", "—")] + [(c, c) for c in US_REGIONS]))
    city = StringField(_l("City"), render_kw={"maxlength": 100})
    phone = StringField(_l("Phone"), render_kw={"maxlength": 40, "type": "tel"})
    email = StringField(_l("Email"), render_kw={"maxlength": 254, "type": "email"})
    address = StringField(_l("Address"), render_kw={"maxlength": 300})
    hours = StringField(_l("Hours"), render_kw={"maxlength": 300})
    submit = SubmitField(_l("Save"))


class RegionForm(FlaskForm):
    region = SelectField(_l("Our agency's US state"),
                         choices=choices([("", "—")] + [(c, c) for c in US_REGIONS]))
    submit = SubmitField(_l("Save"))


class HandoutForm(FlaskForm):
    """The handout's choices (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    language = SelectField(_l("Language of the list"), choices=choices(HandoutLanguage.labels()))
    county = SelectField(_l("County"))
