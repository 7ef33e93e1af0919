"""The rules of the legal directory, called as other modules call them."""
import io

import pytest
from sqlalchemy import func, select

from coenforce.legal import service
from coenforce.legal.models import Consulate, LegalProvider, ProviderCounty
from coenforce.legal.schemas import ProviderFilter, ProviderIn, RegionIn, county_key
from coenforce.partners.models import PartnershipStatus
from coenforce.schemas import parse
from coenforce.validation import NotAllowed, NotFound, ValidationError
from tests.conftest import db_read


def names(providers):
    return [p.name for p in providers]


def test_county_names_are_matched_whatever_their_spelling():
    assert county_key("Los Angeles County") == county_key("los  ángeles") == county_key("Condado de Los Angeles")
    data = parse(ProviderIn, {"name": "X", "service_model": "pro_bono", "languages": "en; es",
                              "counties": "Kern County, Tulare"})
    assert data.counties == ["Kern", "Tulare"] and data.languages == ["en", "es"]
    with pytest.raises(ValidationError) as caught:
        parse(ProviderIn, {"name": "X", "service_model": "pro_bono", "languages": ["en"],
                           "counties": ["Kern", "kern county"]})
    assert set(caught.value.fields) == {"counties"}


def test_an_agency_lead_adds_and_edits_its_directory(session, world, make_provider):
    provider = make_provider(world.supervisor, counties=["Los Angeles County", "Orange"])
    assert provider.agency_id == world.agency.id
    with db_read() as s:
        rows = s.scalars(select(ProviderCounty).order_by(ProviderCounty.key)).all()
        assert [(r.key, r.name) for r in rows] == [("los angeles", "Los Angeles"), ("orange", "Orange")]
    service.update_provider(session, world.admin, provider, parse(ProviderIn, {
        "name": "Centro Legal", "service_model": "limited_scope", "languages": ["es"],
        "counties": ["orange county", "Kern"], "accepting": "no", "last_verified_on": "2026-02-01"}))
    session.commit()
    with db_read() as s:
        stored = s.get(LegalProvider, provider.id)
        assert (stored.service_model, stored.languages, stored.counties, stored.accepting) == (
            "limited_scope", ["es"], ["Kern", "orange"], False)
        assert str(stored.last_verified_on) == "2026-02-01" and stored.updated_by_id == world.admin.id


def test_investigators_and_partners_cannot_change_the_directory(session, world):
    data = parse(ProviderIn, {"name": "X", "service_model": "pro_bono", "languages": ["en"], "counties": ["Kern"]})
    for user in (world.investigator, world.liaison, world.organizer):
        with pytest.raises(NotAllowed):
            service.add_provider(session, user, data)
    session.rollback()
    with db_read() as s:
        assert s.scalar(select(func.count()).select_from(LegalProvider)) == 0


def test_providers_for_filters_by_language_county_and_accepting(session, world, make_provider):
    make_provider(world.admin, name="Both", languages=["en", "es"], counties=["Los Angeles"])
    make_provider(world.admin, name="English only", languages=["en"], counties=["Los Angeles County"])
    make_provider(world.admin, name="Full", languages=["es"], counties=["Los Angeles"], accepting="no")
    make_provider(world.admin, name="Elsewhere", languages=["es"], counties=["Kern"])
    make_provider(world.other_supervisor, name="Other agency's", languages=["es"], counties=["Los Angeles"])
    agency = world.agency.id
    assert names(service.providers_for(session, agency)) == ["Both", "Elsewhere", "English only"]
    assert names(service.providers_for(session, agency, language="es")) == ["Both", "Elsewhere"]
    assert names(service.providers_for(session, agency, language="es", county="los angeles county")) == ["Both"]
    assert names(service.providers_for(session, agency, county="Los Angeles", accepting=None)) == [
        "Both", "English only", "Full"]
    assert names(service.providers_for(session, world.other_agency.id, language="es")) == ["Other agency's"]


def test_get_provider_is_scoped(session, world, make_provider):
    own = make_provider(world.admin)
    other = make_provider(world.other_supervisor)
    assert service.get_provider(session, world.investigator, own.id).id == own.id
    assert service.get_provider(session, world.liaison, own.id).id == own.id  # an active partner reads it
    for user, provider in ((world.investigator, other), (world.liaison, other), (world.organizer, own),
                           (world.other_liaison, own)):
        with pytest.raises(NotFound):
            service.get_provider(session, user, provider.id)


def test_a_paused_partnership_hides_the_directory_from_the_partner(session, world, make_provider):
    make_provider(world.admin)
    where = ProviderFilter()
    assert service.list_providers(session, world.liaison, where).total == 1
    world.partnership.status = PartnershipStatus.PAUSED
    session.commit()
    assert service.list_providers(session, world.liaison, where).total == 0
    assert service.directory_agencies(session, world.liaison) == []


def test_the_consulate_for_a_country_prefers_the_agencys_region(session, world, make_consulate):
    make_consulate(world.admin, country="MX", region="AZ", city="Phoenix")
    sacramento = make_consulate(world.admin, country="MX", region="CA", city="Sacramento")
    make_consulate(world.admin, country="GT", region="IL", city="Chicago")
    make_consulate(world.other_supervisor, country="SV", region="CA", city="Los Angeles")
    assert service.consulate_for(session, world.agency.id, "MX").city == "Phoenix"  # no region: any, by city
    service.set_region(session, world.admin, RegionIn(region="ca"))
    session.commit()
    assert service.consulate_for(session, world.agency.id, "mx").id == sacramento.id
    assert service.consulate_for(session, world.agency.id, "GT").city == "Chicago"  # none in CA: any of GT
    assert service.consulate_for(session, world.agency.id, "SV") is None  # another agency's directory
    assert service.consulate_for(session, world.agency.id, "HN") is None


def test_bad_consulate_input_names_the_field(world):
    from coenforce.legal.schemas import ConsulateIn
    with pytest.raises(ValidationError) as caught:
        parse(ConsulateIn, {"country": "XX", "region": "ZZ", "city": ""})
    assert set(caught.value.fields) == {"country", "region", "city"}
    assert parse(ConsulateIn, {"country": "mx", "city": "Fresno"}).country == "MX"


CSV_OK = """name,service_model,languages,counties,phone,accepting,last_verified_on
Centro Legal,full_scope,en;es,Los Angeles;Orange County,213-555-0100,yes,2026-01-15
Clínica del Pueblo,limited_scope,es,Kern,,no,
"""


def test_import_loads_every_row_and_updates_by_name(session, world):
    counts = service.import_providers(session, world.agency, io.StringIO(CSV_OK))
    session.commit()
    assert counts == {"added": 2, "updated": 0}
    again = CSV_OK.replace("213-555-0100", "213-555-0199")
    assert service.import_providers(session, world.agency, io.StringIO(again)) == {"added": 0, "updated": 2}
    session.commit()
    with db_read() as s:
        providers = s.scalars(select(LegalProvider).order_by(LegalProvider.name)).all()
        assert [(p.name, p.languages, p.counties, p.phone, p.accepting) for p in providers] == [
            ("Centro Legal", ["en", "es"], ["Los Angeles", "Orange"], "213-555-0199", True),
            ("Clínica del Pueblo", ["es"], ["Kern"], None, False)]


def test_a_bad_row_is_named_by_its_line_and_nothing_is_written(session, world):
    bad = CSV_OK + "Bad One,full_scope,klingon,Kern,,yes,\nBad Two,nonsense,en,,,,2030-01-01\n"
    with pytest.raises(ValidationError) as caught:
        service.import_providers(session, world.agency, io.StringIO(bad))
    session.rollback()
    assert set(caught.value.fields) == {"line 4: languages", "line 5: service_model", "line 5: counties",
                                        "line 5: last_verified_on"}
    with db_read() as s:
        assert s.scalar(select(func.count()).select_from(LegalProvider)) == 0


def test_consulates_import_all_or_nothing(session, world):
    good = "country,region,city,phone\nMX,CA,Los Angeles,213-555-0200\nGT,CA,San Bernardino,\n"
    assert service.import_consulates(session, world.agency, io.StringIO(good)) == {"added": 2, "updated": 0}
    session.commit()
    with pytest.raises(ValidationError) as caught:
        service.import_consulates(session, world.agency, io.StringIO(good + "ZZ,CA,Fresno,\n"))
    session.rollback()
    assert list(caught.value.fields) == ["line 4: country"]
    with db_read() as s:
        assert s.scalar(select(func.count()).select_from(Consulate)) == 2
