"""The wording of the alert's notices. A notice says a worker was detained and
links to the alert: never the worker's name, A-Number, country or family."""
from flask_babel import lazy_gettext as _l

from coenforce.detentions.models import ACK_CLOCK, task_clock
from coenforce.detentions.types import TaskKind
from coenforce.notify import Message

_TASKS = {
    TaskKind.CONSULATE: _l("The consulate has not been contacted yet."),
    TaskKind.FAMILY: _l("The worker's family has not been informed yet."),
    TaskKind.ATTORNEY: _l("No attorney has been assigned yet."),
    TaskKind.INTERVENTION: _l("The agency has not decided on an intervention yet."),
}

MESSAGES = {
    f"{ACK_CLOCK}.raised": Message(
        _l("URGENT: a worker in a co-enforcement case was detained"),
        _l("A detained-worker alert was raised. Open it, acknowledge it and start the response tasks.")),
    f"{ACK_CLOCK}.unacknowledged": Message(
        _l("URGENT: detained-worker alert not acknowledged"),
        _l("Nobody has acknowledged this detained-worker alert within an hour.")),
    f"{ACK_CLOCK}.escalated": Message(
        _l("URGENT: detained-worker alert still not acknowledged"),
        _l("Nobody has acknowledged this detained-worker alert within four hours.")),
    **{f"{task_clock(kind)}.missed": Message(_l("Detained-worker alert: a task is overdue"), text)
       for kind, text in _TASKS.items()},
    **{f"{task_clock(kind)}.overdue": Message(_l("Detained-worker alert: a task is still overdue"), text)
       for kind, text in _TASKS.items()},
}
