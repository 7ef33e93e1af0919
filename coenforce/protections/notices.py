"""The wording of the protections' notices. A notice says what is due and
links to the case's protections page: never who the worker is or why."""
from flask_babel import lazy_gettext as _l

from coenforce.notify import Message
from coenforce.protections.models import CERTIFICATION_CLOCK, LETTER_CLOCK, RENEWAL_CLOCK

MESSAGES = {
    f"{CERTIFICATION_CLOCK}.reminder": Message(
        _l("Reminder: a visa certification request awaits a decision"),
        _l("A T or U visa certification request on this case must be decided by the legal deadline.")),
    f"{CERTIFICATION_CLOCK}.warning": Message(
        _l("Visa certification deadline in two days"),
        _l("Decide this T or U visa certification request before the legal deadline passes.")),
    f"{CERTIFICATION_CLOCK}.breach": Message(
        _l("Visa certification deadline missed"),
        _l("The legal deadline to decide this T or U visa certification request has passed.")),
    f"{CERTIFICATION_CLOCK}.overdue": Message(
        _l("Visa certification request still undecided"),
        _l("This T or U visa certification request is past its legal deadline and still undecided.")),
    f"{LETTER_CLOCK}.reminder": Message(
        _l("Reminder: a Statement of Interest letter is due"),
        _l("A Statement of Interest letter on this case is due to be sent soon.")),
    f"{LETTER_CLOCK}.breach": Message(
        _l("Statement of Interest letter not sent in time"),
        _l("The target to send this Statement of Interest letter has passed.")),
    f"{LETTER_CLOCK}.overdue": Message(
        _l("Statement of Interest letter still not sent"),
        _l("This Statement of Interest letter is still waiting to be sent.")),
    f"{RENEWAL_CLOCK}.renewal": Message(
        _l("Deferred action grant expires in 120 days"),
        _l("A labor-based deferred action grant on this case expires in 120 days. Check whether the "
           "agency's support for a renewal is needed.")),
    f"{RENEWAL_CLOCK}.expiry": Message(
        _l("Deferred action grant expires today"),
        _l("A labor-based deferred action grant on this case expires today and no renewal was recorded.")),
}
