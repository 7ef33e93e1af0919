"""The vocabulary of retaliation complaints (CONTRACT.md), with labels."""
from flask_babel import lazy_gettext as _l

RETALIATION_TYPES = {
    "immigration_threat": _l("Threat to call immigration authorities"),
    "immigration_report": _l("Report to immigration authorities"),
    "document_abuse": _l("Document or E-Verify abuse"),
    "termination": _l("Firing"),
    "reduced_hours": _l("Cut hours"),
    "violence_or_threat": _l("Violence or threat of violence"),
    "blacklisting": _l("Blacklisting"),
    "other": _l("Other"),
}

ACTION_TYPES = {
    "employer_contacted": _l("Employer contacted"),
    "anti_retaliation_notice": _l("Anti-retaliation notice sent"),
    "site_visit": _l("Site visit"),
    "tro_sought": _l("TRO or injunction sought"),
    "worker_interviewed": _l("Worker interviewed"),
    "attorney_list_provided": _l("Immigration attorney list provided"),
    "referral": _l("Referral"),
    "note": _l("Note"),
}

STATUSES = {
    "open": _l("Open: awaiting first response"),
    "responding": _l("Responding"),
    "closed": _l("Closed"),
}

CLOCK_STATES = {
    "running": _l("Running"),
    "met": _l("Met"),
    "breached": _l("Breached"),
}

# Languages a complainant may ask for the attorney list in. Materials in more
# languages arrive with the materials module; these are codes, not locales.
ATTORNEY_LIST_LANGUAGES = {
    "en": _l("English"),
    "es": _l("Spanish"),
    "zh": _l("Chinese"),
    "vi": _l("Vietnamese"),
    "tl": _l("Tagalog"),
    "ko": _l("Korean"),
    "pt": _l("Portuguese"),
    "ht": _l("Haitian Creole"),
    "mix": _l("Mixtec"),
    "other": _l("Other"),
}
