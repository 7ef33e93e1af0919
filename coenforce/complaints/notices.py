"""The wording of the complaint clock's notices, one per rung of its ladder.
A notice says what happened and links to the case: never the complaint's text."""
from flask_babel import lazy_gettext as _l

from coenforce.complaints.models import RESPONSE_CLOCK
from coenforce.notify import Message

MESSAGES = {f"{RESPONSE_CLOCK}.{rung}": message for rung, message in {
    "intake": Message(_l("New retaliation complaint"),
                      _l("A retaliation complaint was received. The response clock has started.")),
    "unassigned": Message(_l("Retaliation complaint still unassigned"),
                          _l("Nobody has been assigned to this retaliation complaint yet.")),
    "reminder": Message(_l("Reminder: retaliation complaint awaits a response"),
                        _l("No qualifying response has been recorded yet.")),
    "warning": Message(_l("Warning: response target nearly reached"),
                       _l("The response target is close and no qualifying response has been recorded.")),
    "breach": Message(_l("Response target missed"),
                      _l("The response target passed without a qualifying response.")),
    "overdue": Message(_l("Retaliation complaint still overdue"),
                       _l("This retaliation complaint is still waiting for a qualifying response.")),
}.items()}
