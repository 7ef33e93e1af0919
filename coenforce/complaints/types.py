"""The vocabulary of retaliation complaints (CONTRACT.md), with labels."""
from flask_babel import lazy_gettext as _l

from coenforce.enums import LabeledEnum, set_labels


class RetaliationType(LabeledEnum):
    IMMIGRATION_THREAT = "immigration_threat"
    IMMIGRATION_REPORT = "immigration_report"
    DOCUMENT_ABUSE = "document_abuse"
    TERMINATION = "termination"
    REDUCED_HOURS = "reduced_hours"
    VIOLENCE_OR_THREAT = "violence_or_threat"
    BLACKLISTING = "blacklisting"
    OTHER = "other"


set_labels(RetaliationType, {
    RetaliationType.IMMIGRATION_THREAT: _l("Threat to call immigration authorities"),
    RetaliationType.IMMIGRATION_REPORT: _l("Report to immigration authorities"),
    RetaliationType.DOCUMENT_ABUSE: _l("Document or E-Verify abuse"),
    RetaliationType.TERMINATION: _l("Firing"),
    RetaliationType.REDUCED_HOURS: _l("Cut hours"),
    RetaliationType.VIOLENCE_OR_THREAT: _l("Violence or threat of violence"),
    RetaliationType.BLACKLISTING: _l("Blacklisting"),
    RetaliationType.OTHER: _l("Other"),
})


class ActionType(LabeledEnum):
    EMPLOYER_CONTACTED = "employer_contacted"
    ANTI_RETALIATION_NOTICE = "anti_retaliation_notice"
    SITE_VISIT = "site_visit"
    TRO_SOUGHT = "tro_sought"
    WORKER_INTERVIEWED = "worker_interviewed"
    ATTORNEY_LIST_PROVIDED = "attorney_list_provided"
    REFERRAL = "referral"
    NOTE = "note"


set_labels(ActionType, {
    ActionType.EMPLOYER_CONTACTED: _l("Employer contacted"),
    ActionType.ANTI_RETALIATION_NOTICE: _l("Anti-retaliation notice sent"),
    ActionType.SITE_VISIT: _l("Site visit"),
    ActionType.TRO_SOUGHT: _l("TRO or injunction sought"),
    ActionType.WORKER_INTERVIEWED: _l("Worker interviewed"),
    ActionType.ATTORNEY_LIST_PROVIDED: _l("Immigration attorney list provided"),
    ActionType.REFERRAL: _l("Referral"),
    ActionType.NOTE: _l("Note"),
})


class ComplaintStatus(LabeledEnum):
    OPEN = "open"
    RESPONDING = "responding"
    CLOSED = "closed"


set_labels(ComplaintStatus, {
    ComplaintStatus.OPEN: _l("Open: awaiting first response"),
    ComplaintStatus.RESPONDING: _l("Responding"),
    ComplaintStatus.CLOSED: _l("Closed"),
})


class Language(LabeledEnum):
    """Languages a complainant may be served in and given the attorney list in.
    Materials in more languages arrive with the materials module; these are
    codes, not locales."""

    EN = "en"
    ES = "es"
    ZH = "zh"
    VI = "vi"
    TL = "tl"
    KO = "ko"
    PT = "pt"
    HT = "ht"
    MIX = "mix"
    OTHER = "other"


set_labels(Language, {
    Language.EN: _l("English"),
    Language.ES: _l("Spanish"),
    Language.ZH: _l("Chinese"),
    Language.VI: _l("Vietnamese"),
    Language.TL: _l("Tagalog"),
    Language.KO: _l("Korean"),
    Language.PT: _l("Portuguese"),
    Language.HT: _l("Haitian Creole"),
    Language.MIX: _l("Mixtec"),
    Language.OTHER: _l("Other"),
})
