"""The vocabulary of immigration protections on a case, with labels."""
from flask_babel import lazy_gettext as _l

from coenforce.enums import LabeledEnum


class CertificationForm(LabeledEnum):
    """The supplement a certifying agency signs: T visa (trafficking) or U visa (crime victims)."""

    I914B = "i914b", _l("T visa: Form I-914 Supplement B")
    I918B = "i918b", _l("U visa: Form I-918 Supplement B")


class CertificationDecision(LabeledEnum):
    CERTIFIED = "certified", _l("Certified")
    DECLINED = "declined", _l("Declined")
