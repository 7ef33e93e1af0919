"""JSON endpoints of the legal directory: thin, the same services as the pages."""
from __future__ import annotations

from coenforce.apikit import blueprint, operation, register as register_api
from coenforce.db import db
from coenforce.legal import service
from coenforce.legal.schemas import (
    ConsulateIn, ConsulateListQuery, ConsulateOut, ProviderIn, ProviderListQuery, ProviderOut,
)

bp = blueprint("legal_api")


def register(app) -> None:
    register_api(app, bp)


@bp.get("/legal/providers")
@operation("Immigration legal providers of the directories the caller reads, by name, a page at a time "
           "(follow `next`); filter by agency, language, county, service model, accepting.",
           requires="legal.view", query=ProviderListQuery, response=ProviderOut, many=True)
def providers(user, query: ProviderListQuery):
    return service.page_of_providers(db.session, user, query)


@bp.post("/legal/providers")
@operation("Add a provider to the directory of the caller's agency.", requires="legal.manage", body=ProviderIn,
           response=ProviderOut, status=201)
def add_provider(user, body: ProviderIn):
    provider = service.add_provider(db.session, user, body)
    db.session.commit()
    return provider


@bp.get("/legal/providers/<id:id>")
@operation("One provider.", record=service.get_provider, requires="legal.view", response=ProviderOut)
def provider(user, provider):
    return provider


@bp.put("/legal/providers/<id:id>")
@operation("Replace a provider's entry (every field).", record=service.get_provider, requires="legal.manage",
           body=ProviderIn, response=ProviderOut)
def update_provider(user, provider, body: ProviderIn):
    service.update_provider(db.session, user, provider, body)
    db.session.commit()
    return provider


@bp.get("/legal/consulates")
@operation("Consulates of the directories the caller reads, by country, a page at a time (follow `next`).",
           requires="legal.view", query=ConsulateListQuery, response=ConsulateOut, many=True)
def consulates(user, query: ConsulateListQuery):
    return service.page_of_consulates(db.session, user, query)


@bp.post("/legal/consulates")
@operation("Add a consulate to the directory of the caller's agency.", requires="legal.manage", body=ConsulateIn,
           response=ConsulateOut, status=201)
def add_consulate(user, body: ConsulateIn):
    consulate = service.add_consulate(db.session, user, body)
    db.session.commit()
    return consulate
