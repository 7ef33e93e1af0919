"""The vocabulary of retaliation complaints (CONTRACT.md), with labels."""
from flask_babel import lazy_gettext as _l

from coenforce.enums import LabeledEnum


class RetaliationType(LabeledEnum):
    IMMIGRATION_THREAT = "immigration_threat", _l("Threat to call immigration authorities")
    IMMIGRATION_REPORT = "immigration_report", _l("Report to immigration authorities")
    DOCUMENT_ABUSE = "document_abuse", _l("Document or E-Verify abuse")
    TERMINATION = "termination", _l("Firing")
    REDUCED_HOURS = "reduced_hours", _l("Cut hours")
    VIOLENCE_OR_THREAT = "violence_or_threat", _l("Violence or threat of violence")
    BLACKLISTING = "blacklisting", _l("Blacklisting")
    OTHER = "other", _l("Other")


class ActionType(LabeledEnum):
    EMPLOYER_CONTACTED = "employer_contacted", _l("Employer contacted")
    ANTI_RETALIATION_NOTICE = "anti_retaliation_notice", _l("Anti-retaliation notice sent")
    SITE_VISIT = "site_visit", _l("Site visit")
    TRO_SOUGHT = "tro_sought", _l("TRO or injunction sought")
    WORKER_INTERVIEWED = "worker_interviewed", _l("Worker interviewed")
    ATTORNEY_LIST_PROVIDED = "attorney_list_provided", _l("Immigration attorney list provided")
    REFERRAL = "referral", _l("Referral")
    NOTE = "note", _l("Note")


class ComplaintStatus(LabeledEnum):
    OPEN = "open", _l("Open: awaiting first response")
    RESPONDING = "responding", _l("Responding")
    CLOSED = "closed", _l("Closed")


class Language(LabeledEnum):
    """Languages a complainant may be served in and given the attorney list in.
    Materials in more languages arrive with the materials module; these are
    codes, not locales."""

    EN = "en", _l("English")
    ES = "es", _l("Spanish")
    ZH = "zh", _l("Chinese")
    VI = "vi", _l("Vietnamese")
    TL = "tl", _l("Tagalog")
    KO = "ko", _l("Korean")
    PT = "pt", _l("Portuguese")
    HT = "ht", _l("Haitian Creole")
    MIX = "mix", _l("Mixtec")
    OTHER = "other", _l("Other")

