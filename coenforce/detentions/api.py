"""JSON endpoints for detained-worker alerts: thin, the same services as the pages."""
from __future__ import annotations

from coenforce.apikit import blueprint, operation, register as register_api
from coenforce.db import db
from coenforce.detentions import service
from coenforce.detentions.schemas import AlertIn, AlertListQuery, AlertOut, CloseIn, RevealOut, TaskDoneIn
from coenforce.detentions.types import TaskKind

bp = blueprint("detentions_api")


def register(app) -> None:
    register_api(app, bp)


@bp.post("/detentions")
@operation("Raise a detained-worker alert: everyone who must act is told at once.", requires="detention.create",
           body=AlertIn, response=AlertOut, status=201)
def create(user, body: AlertIn):
    alert = service.raise_alert(db.session, user, body)
    # Built before the commit: reading it afterwards would open a second transaction.
    shown = AlertOut.model_validate(service.shown(db.session, alert))
    db.session.commit()
    return shown


@bp.get("/detentions")
@operation("Alerts the caller may see, newest first, a page at a time (follow `next`).", query=AlertListQuery,
           response=AlertOut, many=True)
def index(user, query: AlertListQuery):
    return service.page_of_alerts(db.session, user, query)


@bp.get("/detentions/<id:id>")
@operation("One alert: its acknowledgements, tasks and clock; the A-Number masked.", record=service.view_alert,
           response=AlertOut)
def show(user, alert):
    db.session.commit()  # the audit entry of this view
    return service.shown(db.session, alert)


@bp.post("/detentions/<id:id>/acknowledge")
@operation("The caller acknowledges the alert; the first acknowledgement stops its escalation.",
           record=service.get_alert, requires="detention.acknowledge", response=AlertOut, conflict=True)
def acknowledge(user, alert):
    service.acknowledge(db.session, user, alert)
    db.session.commit()
    return service.shown(db.session, alert)


@bp.post("/detentions/<id:id>/reveal")
@operation("The full A-Number, for those who contact consulates and attorneys; every reveal is audited.",
           record=service.get_alert, requires="detention.reveal", response=RevealOut)
def reveal(user, alert):
    number = service.reveal_a_number(db.session, user, alert)
    db.session.commit()
    return {"id": alert.id, "a_number": number}


@bp.post("/detentions/<id:id>/tasks/<any(consulate,family,attorney,intervention):task>")
@operation("Record a response task as done, by the caller, now.", record=service.get_alert,
           requires="detention.act", body=TaskDoneIn, response=AlertOut, conflict=True)
def complete_task(user, alert, task: str, body: TaskDoneIn):
    service.complete_task(db.session, user, alert, TaskKind(task), body)
    db.session.commit()
    return service.shown(db.session, alert)


@bp.post("/detentions/<id:id>/close")
@operation("Close the alert with its outcome.", record=service.get_alert, requires="detention.close",
           body=CloseIn, response=AlertOut, conflict=True)
def close(user, alert, body: CloseIn):
    service.close(db.session, user, alert, body)
    db.session.commit()
    return service.shown(db.session, alert)
