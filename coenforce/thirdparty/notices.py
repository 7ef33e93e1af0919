"""The wording of the third-party clocks' notices. A notice says what is due
and links to the report: never the report's text."""
from flask_babel import lazy_gettext as _l

from coenforce.notify import Message
from coenforce.thirdparty.models import ACK_CLOCK, DECISION_CLOCK

MESSAGES = {
    f"{ACK_CLOCK}.received": Message(
        _l("New third-party complaint"),
        _l("An employer was reported without naming a worker. Acknowledge the report within the target.")),
    f"{ACK_CLOCK}.reminder": Message(
        _l("Reminder: third-party complaint awaits acknowledgement"),
        _l("Nobody has acknowledged this third-party complaint yet.")),
    f"{ACK_CLOCK}.breach": Message(
        _l("Acknowledgement target missed"),
        _l("The target to acknowledge this third-party complaint passed.")),
    f"{ACK_CLOCK}.overdue": Message(
        _l("Third-party complaint still not acknowledged"),
        _l("This third-party complaint is still waiting for an acknowledgement.")),
    f"{DECISION_CLOCK}.reminder": Message(
        _l("Reminder: third-party complaint awaits a decision"),
        _l("Decide whether to investigate, queue for strategic enforcement or decline this report.")),
    f"{DECISION_CLOCK}.breach": Message(
        _l("Decision target missed"),
        _l("The target to decide on this third-party complaint passed.")),
    f"{DECISION_CLOCK}.overdue": Message(
        _l("Third-party complaint still undecided"),
        _l("This third-party complaint is still waiting for a decision.")),
}
