"""JSON endpoints for third-party complaints: thin, the same services as the pages."""
from __future__ import annotations

from coenforce.apikit import blueprint, operation, register as register_api
from coenforce.db import db
from coenforce.thirdparty import service
from coenforce.thirdparty.schemas import DecisionIn, ReportIn, ReportListQuery, ReportOut

bp = blueprint("thirdparty_api")


def register(app) -> None:
    register_api(app, bp)


@bp.post("/third-party-complaints")
@operation("Report an employer without naming a worker; the acknowledgement and decision clocks start.",
           requires="thirdparty.create", body=ReportIn, response=ReportOut, status=201)
def create(user, body: ReportIn):
    report = service.file_report(db.session, user, body)
    db.session.commit()
    return report


@bp.get("/third-party-complaints")
@operation("Third-party complaints the caller may see, newest first, a page at a time (follow `next`).",
           query=ReportListQuery, response=ReportOut, many=True)
def index(user, query: ReportListQuery):
    return service.page_of_reports(db.session, user, query)


@bp.get("/third-party-complaints/<id:id>")
@operation("One third-party complaint with its clocks and decision.", record=service.view_report,
           response=ReportOut)
def show(user, report):
    db.session.commit()  # the audit entry of this view
    return report


@bp.post("/third-party-complaints/<id:id>/acknowledge")
@operation("Acknowledge the report: its acknowledgement clock stops.", record=service.get_report,
           requires="thirdparty.acknowledge", response=ReportOut, conflict=True)
def acknowledge(user, report):
    service.acknowledge(db.session, user, report)
    db.session.commit()
    return report


@bp.post("/third-party-complaints/<id:id>/decision")
@operation("Decide: open an investigation, queue for strategic enforcement, or decline with a reason.",
           record=service.get_report, requires="thirdparty.decide", body=DecisionIn, response=ReportOut,
           conflict=True)
def decide(user, report, body: DecisionIn):
    service.decide(db.session, user, report, body)
    db.session.commit()
    return report
