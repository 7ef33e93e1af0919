"""The vocabulary of the legal directory, with labels."""
from flask_babel import lazy_gettext as _l

from coenforce.complaints.types import Language
from coenforce.enums import LabeledEnum


class ServiceModel(LabeledEnum):
    """How a provider delivers immigration legal services (seed 002, "Models for
    Immigration Legal Services Delivery" and its strategies)."""

    FULL_SCOPE = "full_scope", _l("Full scope representation")
    LIMITED_SCOPE = "limited_scope", _l("Limited scope assistance or legal clinic")
    PRO_SE_ASSISTED = "pro_se_assisted", _l("Pro se assistance (help applying on one's own)")
    CONSULATE = "consulate", _l("Consulate")
    PRO_BONO = "pro_bono", _l("Pro bono or low bono private attorney")


class HandoutLanguage(LabeledEnum):
    """The languages the attorney-list handout is printed in (those the app is translated into)."""

    EN = "en", _l("English")
    ES = "es", _l("Spanish")


# The US states, DC and the territories (USPS codes): the region an agency
# works in and a consulate serves.
US_REGIONS = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY",
    "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH",
    "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
    "AS", "GU", "MP", "PR", "VI",
)

__all__ = ["HandoutLanguage", "Language", "ServiceModel", "US_REGIONS"]
