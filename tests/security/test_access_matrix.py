"""Every route x every role x own / shared / other tenant -> the exact status.

The table below is the access policy written out. It is checked against
app.url_map: a route the table does not cover fails the test, so a new
module cannot forget to decide who may use it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pytest

from tests.conftest import csrf_token, db_read

ROLES = ["anonymous", "agency_admin", "supervisor", "investigator", "liaison", "organizer"]
AGENCY = {"agency_admin", "supervisor", "investigator"}
CONTEXTS = ["unshared", "shared", "other"]  # a complaint of the role's agency, one shared with its partner, another agency's


def sees(role: str, ctx: str) -> bool:
    """Who can see a complaint in each context (the tenancy rule)."""
    if role in AGENCY:
        return ctx in ("unshared", "shared")
    return role == "liaison" and ctx == "shared"


@dataclass
class Route:
    endpoint: str
    method: str
    path: str                       # may hold {complaint}, {notice}, {user}
    expect: Callable[[str, str], int]
    data: dict = field(default_factory=dict)
    api: bool = False
    per_context: bool = False       # run once per context (own / shared / other)
    last: bool = False


def page(allowed: set, ok: int, anonymous: int = 302) -> Callable[[str, str], int]:
    return lambda role, ctx: anonymous if role == "anonymous" else ok if role in allowed else 403


def complaint_page(allowed: set, ok: int) -> Callable[[str, str], int]:
    def rule(role, ctx):
        if role == "anonymous":
            return 302
        if role == "organizer":
            return 403  # organizers are turned away from every complaint page
        if not sees(role, ctx):
            return 404
        return ok if role in allowed else 403
    return rule


def complaint_api(allowed: set, ok: int) -> Callable[[str, str], int]:
    def rule(role, ctx):
        if role == "anonymous":
            return 401
        if not sees(role, ctx):
            return 404
        return ok if role in allowed else 403
    return rule


def partnership_page(allowed: set, ok: int) -> Callable[[str, str], int]:
    """Both sides of a partnership see it; another partnership is not found."""
    return lambda role, ctx: 302 if role == "anonymous" else 404 if ctx == "other" else ok if role in allowed else 403


def partnership_api(allowed: set, ok: int) -> Callable[[str, str], int]:
    return lambda role, ctx: 401 if role == "anonymous" else 404 if ctx == "other" else ok if role in allowed else 403


ALL = set(ROLES) - {"anonymous"}
STAFF_AND_LIAISON = AGENCY | {"liaison"}
LEADS = {"agency_admin", "supervisor"}


def directory_page(allowed: set, ok: int) -> Callable[[str, str], int]:
    """The legal directory: an agency's own entries ("unshared", "shared": its partner's liaison
    reads them), another agency's ("other") are not found; organizers are turned away."""
    def rule(role, ctx):
        if role == "anonymous":
            return 302
        if role == "organizer":
            return 403
        return 404 if ctx == "other" else ok if role in allowed else 403
    return rule


def directory_api(allowed: set, ok: int) -> Callable[[str, str], int]:
    def rule(role, ctx):
        if role == "anonymous":
            return 401
        if role == "organizer" or ctx == "other":
            return 404  # the record is looked up before the role
        return ok if role in allowed else 403
    return rule

ROUTES = [
    Route("static", "GET", "/static/style.css", lambda r, c: 200),
    Route("api.openapi_document", "GET", "/api/v1/openapi.json", lambda r, c: 200, api=True),
    Route("security.login", "GET", "/login", lambda r, c: 200 if r == "anonymous" else 302),
    Route("security.login", "POST", "/login", lambda r, c: 400 if r == "anonymous" else 302),
    Route("security.second_factor", "GET", "/login/code", lambda r, c: 302),
    Route("security.second_factor", "POST", "/login/code", lambda r, c: 302),
    # Staff have an authenticator already (sent to the account page); partners may set one up.
    Route("security.enroll", "GET", "/login/setup",
          lambda r, c: 302 if r == "anonymous" or r in AGENCY else 200),
    Route("security.enroll", "POST", "/login/setup",
          lambda r, c: 302 if r == "anonymous" or r in AGENCY else 200),
    Route("security.account", "GET", "/account", page(ALL, 200)),
    Route("security.account", "POST", "/account", page(ALL, 400)),
    Route("security.two_factor_settings", "POST", "/account/two-factor/reset", page(ALL, 303, 302)),
    Route("main.home", "GET", "/", page(ALL, 200)),
    Route("complaints.index", "GET", "/complaints/", page(STAFF_AND_LIAISON, 200)),
    Route("complaints.new", "GET", "/complaints/new", page(STAFF_AND_LIAISON, 200)),
    Route("complaints.new", "POST", "/complaints/new", page(STAFF_AND_LIAISON, 422)),
    Route("complaints.detail", "GET", "/complaints/{complaint}", complaint_page(STAFF_AND_LIAISON, 200),
          per_context=True),
    Route("complaints.add_action", "POST", "/complaints/{complaint}/actions", complaint_page(AGENCY, 422),
          per_context=True),
    Route("complaints.add_damages", "POST", "/complaints/{complaint}/damages", complaint_page(AGENCY, 422),
          per_context=True),
    Route("complaints.close", "POST", "/complaints/{complaint}/close",
          complaint_page({"agency_admin", "supervisor"}, 422), per_context=True),
    Route("complaints.assign", "POST", "/complaints/{complaint}/assign",
          complaint_page({"agency_admin", "supervisor"}, 422), {"assignee_id": "999999"}, per_context=True),
    Route("complaints.take", "POST", "/complaints/{complaint}/take", complaint_page(AGENCY, 302),
          per_context=True),
    Route("complaints.share", "POST", "/complaints/{complaint}/share", complaint_page(AGENCY, 302),
          per_context=True),
    Route("notify.outbox", "GET", "/outbox/", page({"agency_admin"}, 200)),
    Route("audit.log", "GET", "/audit/", page({"agency_admin"}, 200)),
    Route("notify.requeue_notice", "POST", "/outbox/{notice}/requeue",
          lambda r, c: 302 if r == "anonymous" else 403 if r != "agency_admin" else 302 if c != "other" else 404,
          per_context=True),
    Route("partners.people", "GET", "/people/", page({"agency_admin"}, 200)),
    Route("partners.change", "POST", "/people/{user}/end-sessions",
          lambda r, c: 302 if r == "anonymous" else 403 if r != "agency_admin" else 302 if c != "other" else 404,
          per_context=True),
    Route("complaints_api.create", "POST", "/api/v1/complaints",
          lambda r, c: 401 if r == "anonymous" else 422 if r in STAFF_AND_LIAISON else 403, api=True),
    Route("complaints_api.index", "GET", "/api/v1/complaints",
          lambda r, c: 401 if r == "anonymous" else 200, api=True),
    Route("complaints_api.show", "GET", "/api/v1/complaints/{complaint}",
          complaint_api(STAFF_AND_LIAISON, 200), api=True, per_context=True),
    Route("complaints_api.add_action", "POST", "/api/v1/complaints/{complaint}/actions",
          complaint_api(AGENCY, 422), api=True, per_context=True),
    Route("notify_api.index", "GET", "/api/v1/notices",
          lambda r, c: 401 if r == "anonymous" else 200 if r in {"agency_admin", "supervisor"} else 403, api=True),
    Route("partnerships.partnerships", "GET", "/partnerships/", page(ALL, 200)),
    Route("partnerships.directory", "GET", "/partnerships/directory", page(ALL, 200)),
    # Each side names its own point of contact: agency admins and partner liaisons.
    Route("partnerships.name_contact", "POST", "/partnerships/{partnership}/contact",
          partnership_page({"agency_admin", "liaison"}, 422), {"contact_id": "999999"}, per_context=True),
    Route("partnerships.change_status", "POST", "/partnerships/{partnership}/status",
          partnership_page({"agency_admin"}, 422), {"status": "forgotten"}, per_context=True),
    Route("partners_api.index", "GET", "/api/v1/partnerships", lambda r, c: 401 if r == "anonymous" else 200,
          api=True),
    Route("partners_api.change", "PATCH", "/api/v1/partnerships/{partnership}",
          partnership_api({"agency_admin"}, 422), {"agency_contact_id": 999999}, api=True, per_context=True),
    # Third-party complaints: a report of the agency ("unshared"), one its partner filed ("shared"),
    # another agency's ("other"); the same tenancy rule as complaints.
    Route("thirdparty.index", "GET", "/third-party/", page(STAFF_AND_LIAISON, 200)),
    Route("thirdparty.new", "GET", "/third-party/new", page(STAFF_AND_LIAISON, 200)),
    Route("thirdparty.new", "POST", "/third-party/new", page(STAFF_AND_LIAISON, 422)),
    Route("thirdparty.detail", "GET", "/third-party/{report}", complaint_page(STAFF_AND_LIAISON, 200),
          per_context=True),
    Route("thirdparty.acknowledge", "POST", "/third-party/{report}/acknowledge", complaint_page(AGENCY, 302),
          per_context=True),
    Route("thirdparty.decide", "POST", "/third-party/{report}/decision",
          complaint_page({"agency_admin", "supervisor"}, 422), per_context=True),
    Route("strategic.ranked", "GET", "/strategic/", page(AGENCY, 200)),
    Route("strategic.investigate", "POST", "/strategic/investigate", page({"agency_admin", "supervisor"}, 303)),
    # The public intake answers everyone, signed in or not; an empty form is refused.
    Route("public.report", "GET", "/report/", lambda r, c: 200),
    Route("public.report", "POST", "/report/", lambda r, c: 422),
    Route("public.status", "GET", "/report/status", lambda r, c: 200),
    Route("public.status", "POST", "/report/status", lambda r, c: 422),
    Route("thirdparty_api.create", "POST", "/api/v1/third-party-complaints",
          lambda r, c: 401 if r == "anonymous" else 422 if r in STAFF_AND_LIAISON else 403, api=True),
    Route("thirdparty_api.index", "GET", "/api/v1/third-party-complaints",
          lambda r, c: 401 if r == "anonymous" else 200, api=True),
    Route("thirdparty_api.show", "GET", "/api/v1/third-party-complaints/{report}",
          complaint_api(STAFF_AND_LIAISON, 200), api=True, per_context=True),
    Route("thirdparty_api.acknowledge", "POST", "/api/v1/third-party-complaints/{report}/acknowledge",
          complaint_api(AGENCY, 409), api=True, per_context=True),
    Route("thirdparty_api.decide", "POST", "/api/v1/third-party-complaints/{report}/decision",
          complaint_api({"agency_admin", "supervisor"}, 422), api=True, per_context=True),
    # Detained-worker alerts: the agency's own ("unshared", no partner involved), one its partner
    # raised ("shared"), another agency's ("other"); the same tenancy rule as complaints.
    Route("detentions.index", "GET", "/detentions/", page(STAFF_AND_LIAISON, 200)),
    Route("detentions.new", "GET", "/detentions/new", page(STAFF_AND_LIAISON, 200)),
    Route("detentions.new", "POST", "/detentions/new", page(STAFF_AND_LIAISON, 422)),
    Route("detentions.detail", "GET", "/detentions/{detention}", complaint_page(STAFF_AND_LIAISON, 200),
          per_context=True),
    Route("detentions.reveal", "POST", "/detentions/{detention}/reveal",
          complaint_page({"agency_admin", "supervisor", "liaison"}, 200), per_context=True),
    Route("detentions.acknowledge", "POST", "/detentions/{detention}/acknowledge",
          complaint_page(STAFF_AND_LIAISON, 302), per_context=True),
    Route("detentions.complete_task", "POST", "/detentions/{detention}/tasks/consulate",
          complaint_page(STAFF_AND_LIAISON, 302), per_context=True),
    Route("detentions.close", "POST", "/detentions/{detention}/close", complaint_page(STAFF_AND_LIAISON, 422),
          per_context=True),
    Route("detentions_api.create", "POST", "/api/v1/detentions",
          lambda r, c: 401 if r == "anonymous" else 422 if r in STAFF_AND_LIAISON else 403, api=True),
    Route("detentions_api.index", "GET", "/api/v1/detentions", lambda r, c: 401 if r == "anonymous" else 200,
          api=True),
    Route("detentions_api.show", "GET", "/api/v1/detentions/{detention}", complaint_api(STAFF_AND_LIAISON, 200),
          api=True, per_context=True),
    Route("detentions_api.acknowledge", "POST", "/api/v1/detentions/{detention}/acknowledge",
          complaint_api(STAFF_AND_LIAISON, 409), api=True, per_context=True),
    Route("detentions_api.reveal", "POST", "/api/v1/detentions/{detention}/reveal",
          complaint_api({"agency_admin", "supervisor", "liaison"}, 200), api=True, per_context=True),
    Route("detentions_api.complete_task", "POST", "/api/v1/detentions/{detention}/tasks/family",
          complaint_api(STAFF_AND_LIAISON, 200), api=True, per_context=True),
    Route("detentions_api.close", "POST", "/api/v1/detentions/{detention}/close",
          complaint_api(STAFF_AND_LIAISON, 422), api=True, per_context=True),
    # The legal directory: each agency's own, read by its partners' liaisons; the handout from a complaint.
    Route("legal.providers", "GET", "/legal/", page(STAFF_AND_LIAISON, 200)),
    Route("legal.new_provider", "GET", "/legal/providers/new", page(LEADS, 200)),
    Route("legal.new_provider", "POST", "/legal/providers/new", page(LEADS, 422)),
    Route("legal.edit_provider", "GET", "/legal/providers/{provider}/edit", directory_page(LEADS, 200),
          per_context=True),
    Route("legal.edit_provider", "POST", "/legal/providers/{provider}/edit", directory_page(LEADS, 422),
          per_context=True),
    Route("legal.stop_accepting", "POST", "/legal/providers/{provider}/not-accepting", directory_page(LEADS, 302),
          per_context=True),
    Route("legal.consulates", "GET", "/legal/consulates", page(STAFF_AND_LIAISON, 200)),
    Route("legal.new_consulate", "GET", "/legal/consulates/new", page(LEADS, 200)),
    Route("legal.new_consulate", "POST", "/legal/consulates/new", page(LEADS, 422)),
    Route("legal.edit_consulate", "GET", "/legal/consulates/{consulate}/edit", directory_page(LEADS, 200),
          per_context=True),
    Route("legal.edit_consulate", "POST", "/legal/consulates/{consulate}/edit", directory_page(LEADS, 422),
          per_context=True),
    Route("legal.region", "POST", "/legal/region", page(LEADS, 302)),
    Route("legal.handout", "GET", "/legal/attorney-list/{complaint}", complaint_page(AGENCY, 200),
          per_context=True),
    Route("legal.handout_given", "POST", "/legal/attorney-list/{complaint}/given", complaint_page(AGENCY, 303),
          per_context=True),
    Route("legal_api.providers", "GET", "/api/v1/legal/providers",
          lambda r, c: 401 if r == "anonymous" else 200 if r in STAFF_AND_LIAISON else 403, api=True),
    Route("legal_api.add_provider", "POST", "/api/v1/legal/providers",
          lambda r, c: 401 if r == "anonymous" else 422 if r in LEADS else 403, api=True),
    Route("legal_api.provider", "GET", "/api/v1/legal/providers/{provider}", directory_api(STAFF_AND_LIAISON, 200),
          api=True, per_context=True),
    Route("legal_api.update_provider", "PUT", "/api/v1/legal/providers/{provider}", directory_api(LEADS, 422),
          api=True, per_context=True),
    Route("legal_api.consulates", "GET", "/api/v1/legal/consulates",
          lambda r, c: 401 if r == "anonymous" else 200 if r in STAFF_AND_LIAISON else 403, api=True),
    Route("legal_api.add_consulate", "POST", "/api/v1/legal/consulates",
          lambda r, c: 401 if r == "anonymous" else 422 if r in LEADS else 403, api=True),
    # Immigration protections on a case: staff act, liaisons who see the case read; the
    # agency's targets and holidays are its admins'.
    Route("protections.detail", "GET", "/complaints/{complaint}/protections", complaint_page(STAFF_AND_LIAISON, 200),
          per_context=True),
    Route("protections.request_certification", "POST", "/complaints/{complaint}/protections/certifications",
          complaint_page(AGENCY, 422), per_context=True),
    Route("protections.removal_proceedings", "POST", "/protections/certifications/{certification}/removal-proceedings",
          complaint_page(AGENCY, 302), per_context=True),
    Route("protections.decide", "POST", "/protections/certifications/{certification}/decision",
          complaint_page(AGENCY, 422), per_context=True),
    Route("protections.request_letter", "POST", "/complaints/{complaint}/protections/letters",
          complaint_page(AGENCY, 422), per_context=True),
    Route("protections.letter_sent", "POST", "/protections/letters/{letter}/sent", complaint_page(AGENCY, 422),
          per_context=True),
    Route("protections.record_grant", "POST", "/complaints/{complaint}/protections/grants",
          complaint_page(AGENCY, 422), per_context=True),
    Route("protections.renewal_filed", "POST", "/protections/grants/{grant}/renewal", complaint_page(AGENCY, 302),
          per_context=True),
    Route("protections.settings", "GET", "/protections/settings", page({"agency_admin"}, 200)),
    Route("protections.settings", "POST", "/protections/settings", page({"agency_admin"}, 422)),
    Route("holidays.index", "GET", "/holidays/", page({"agency_admin"}, 200)),
    Route("holidays.add", "POST", "/holidays/", page({"agency_admin"}, 422)),
    Route("holidays.remove", "POST", "/holidays/{holiday}/remove",
          lambda r, c: 302 if r == "anonymous" else 403 if r != "agency_admin" else 404 if c == "other" else 302,
          per_context=True),
    Route("security.logout", "POST", "/logout", lambda r, c: 302, last=True),
]


def test_the_matrix_covers_every_route(app):
    served = {(rule.endpoint, method) for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    covered = {(route.endpoint, route.method) for route in ROUTES}
    assert served - covered == set(), "routes with no line in the access matrix"
    assert covered - served == set(), "lines in the access matrix for routes that no longer exist"


@pytest.fixture
def records(world, make_complaint, session):
    """One complaint per context, a notice of each agency, a colleague and a stranger."""
    from coenforce.notify.models import Notice
    from coenforce.schemas import parse
    from coenforce.thirdparty.schemas import ReportIn
    from coenforce.thirdparty.service import file_report
    from coenforce.detentions.schemas import AlertIn
    from coenforce.detentions.service import raise_alert
    from sqlalchemy import select
    unshared = make_complaint(world.investigator, employer_name="Unshared")
    shared = make_complaint(world.investigator, employer_name="Shared", shared_with=[world.partner.id])
    other = make_complaint(world.other_investigator, employer_name="Other agency's")
    reports = {ctx: file_report(session, user, parse(ReportIn, {
        "employer_name": f"Reported {ctx}", "violation_types": ["wage_theft"], "description": "Unpaid wages."})).id
        for ctx, user in (("unshared", world.investigator), ("shared", world.liaison),
                          ("other", world.other_liaison))}
    session.commit()
    detentions = {ctx: raise_alert(session, user, parse(AlertIn, {"worker_name": f"Worker {ctx}"})).id
                  for ctx, user in (("unshared", world.investigator), ("shared", world.liaison),
                                    ("other", world.other_liaison))}
    session.commit()
    from coenforce.legal.schemas import ConsulateIn, ProviderIn
    from coenforce.legal.service import add_consulate, add_provider
    directory = {ctx: (add_provider(session, user, parse(ProviderIn, {
        "name": f"Provider {ctx}", "service_model": "full_scope", "languages": ["es"], "counties": ["Kern"]})).id,
        add_consulate(session, user, parse(ConsulateIn, {"country": "MX", "city": f"City {ctx}"})).id)
        for ctx, user in (("unshared", world.admin), ("other", world.other_supervisor))}
    directory["shared"] = directory["unshared"]  # the agency's own, which its partner's liaison reads
    session.commit()
    from coenforce.protections import service as protections
    from coenforce.protections.schemas import CertificationIn, GrantIn, HolidayIn, LetterIn
    protection = {ctx: (
        protections.request_certification(session, user, case, parse(CertificationIn, {
            "certification_form": "i918b", "requested_by": "Legal Aid"})).id,
        protections.request_letter(session, user, case, parse(LetterIn, {"requested_by": "Worker Center"})).id,
        protections.record_grant(session, user, case, parse(GrantIn, {
            "granted_on": "2025-06-01", "expires_on": "2027-06-01"})).id)
        for ctx, case, user in (("unshared", unshared, world.investigator), ("shared", shared, world.investigator),
                                ("other", other, world.other_investigator))}
    holidays = {ctx: protections._add_holiday(session, org.id, parse(HolidayIn, {"date": day, "name": "Holiday"})).id
                for ctx, org, day in (("unshared", world.agency, "2026-07-03"), ("shared", world.agency, "2026-11-27"),
                                      ("other", world.other_agency, "2026-07-03"))}
    session.commit()
    with db_read() as s:
        notice = {org: s.scalars(select(Notice).where(Notice.organization_id == org)).first().id
                  for org in (world.agency.id, world.other_agency.id)}
    return {
        "complaint": {"unshared": unshared.id, "shared": shared.id, "other": other.id},
        "report": reports,
        "detention": detentions,
        "notice": {"unshared": notice[world.agency.id], "shared": notice[world.agency.id],
                   "other": notice[world.other_agency.id]},
        "user": {"unshared": world.investigator.id, "shared": world.investigator.id,
                 "other": world.other_investigator.id},
        # The partnership of the role's own organization (from either side), and a stranger's.
        "partnership": {"unshared": world.partnership.id, "shared": world.partnership.id,
                        "other": world.other_partnership.id},
        "provider": {ctx: ids[0] for ctx, ids in directory.items()},
        "consulate": {ctx: ids[1] for ctx, ids in directory.items()},
        "certification": {ctx: ids[0] for ctx, ids in protection.items()},
        "letter": {ctx: ids[1] for ctx, ids in protection.items()},
        "grant": {ctx: ids[2] for ctx, ids in protection.items()},
        "holiday": holidays,
    }


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(role, app, client, login, api, world, records):
    token = None
    if role != "anonymous":
        user = getattr(world, {"agency_admin": "admin"}.get(role, role))
        login(user)
        token = api(user).token
    failures = []
    for route in sorted(ROUTES, key=lambda r: r.last):
        for ctx in (CONTEXTS if route.per_context else ["unshared"]):
            path = route.path.format(**{k: v[ctx] for k, v in records.items()})
            expected = route.expect(role, ctx)
            if route.api:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                kwargs = {"json": dict(route.data)} if route.method in ("POST", "PATCH", "PUT") else {}
                response = client.open(path, method=route.method, headers=headers, **kwargs)
            elif route.method == "POST":
                form = {"csrf_token": csrf_token(client, "/login" if role == "anonymous" else "/account"),
                        **route.data}
                if route.endpoint == "complaints.share" and ctx == "shared":
                    form["shared_with"] = str(world.partner.id)  # keep the sharing as it is
                response = client.post(path, data=form)
            else:
                response = client.get(path)
            response.close()
            if response.status_code != expected:
                failures.append(f"{route.method} {path} [{ctx}]: {response.status_code}, expected {expected}")
    assert not failures, "\n".join(failures)
