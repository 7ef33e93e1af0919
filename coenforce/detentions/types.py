"""The vocabulary of detained-worker alerts, with labels."""
from flask_babel import lazy_gettext as _l

from coenforce.enums import LabeledEnum


class DetainedWhere(LabeledEnum):
    WORKSITE = "worksite", _l("At the worksite")
    RAID = "raid", _l("In a raid")
    TRAFFIC_STOP = "traffic_stop", _l("At a traffic stop")
    CHECK_IN = "check_in", _l("At an immigration check-in")
    OTHER = "other", _l("Elsewhere")


class AlertStatus(LabeledEnum):
    OPEN = "open", _l("Open")
    CLOSED = "closed", _l("Closed")


class Outcome(LabeledEnum):
    RELEASED = "released", _l("Released")
    BOND = "bond", _l("Released on bond")
    TRANSFERRED = "transferred", _l("Transferred to another facility")
    REMOVED = "removed", _l("Removed from the country")
    OTHER = "other", _l("Other")


class TaskKind(LabeledEnum):
    CONSULATE = "consulate", _l("Consulate contacted")
    FAMILY = "family", _l("Family informed")
    ATTORNEY = "attorney", _l("Attorney assigned")
    INTERVENTION = "intervention", _l("Agency intervention decided")


class Intervention(LabeledEnum):
    LETTER_OF_SUPPORT = "letter_of_support", _l("Letter of support")
    STATEMENT_OF_INTEREST = "statement_of_interest", _l("Statement of Interest")
    T_VISA_CERTIFICATION = "t_visa_certification", _l("T visa certification")
    U_VISA_CERTIFICATION = "u_visa_certification", _l("U visa certification")
    PROSECUTORIAL_DISCRETION = "prosecutorial_discretion", _l("Request for prosecutorial discretion")
    NONE = "none", _l("None")
