"""The directory's pages, the attorney-list handout, the API and the CSV commands."""
import re

from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from coenforce.complaints.models import Complaint
from coenforce.legal.models import Consulate, LegalProvider

from tests.conftest import db_read
from tests.test_lists import statements

FORM = {"name": "Centro Legal", "service_model": "full_scope", "languages": ["en", "es"],
        "counties": "Los Angeles, Orange County", "accepting": "yes", "phone": "213-555-0100", "email": "",
        "address": "", "website": "https://centro.example.org", "notes": "", "last_verified_on": "2026-02-20"}
RIGHTS = ("Labor laws protect you whatever your immigration status. Your employer may not threaten to call "
          "immigration, or report you, because you complained about your work. Only a lawyer or an accredited "
          "representative may advise you on immigration: talk to one before you sign any immigration papers.")


def count(model=LegalProvider):
    with db_read() as s:
        return s.scalar(select(func.count()).select_from(model))


def text(response):
    return response.get_data(as_text=True)


def test_a_lead_adds_a_provider_and_lists_it_filtered(client, login, post_form, world, make_provider):
    login(world.supervisor)
    response = post_form("/legal/providers/new", "/legal/providers/new", FORM)
    assert response.status_code == 302, text(response)[:2000]
    make_provider(world.admin, name="Kern Clinic", languages=["es"], counties=["Kern"])
    page = text(client.get("/legal/?county=los+angeles+county&language=es"))
    assert "Centro Legal" in page and "Kern Clinic" not in page
    assert 'href="https://centro.example.org"' in page and 'rel="noopener noreferrer nofollow"' in page
    assert "Kern Clinic" in text(client.get("/legal/?county=Kern"))


def test_bad_input_is_422_naming_the_field_and_writes_nothing(client, login, post_form, world):
    login(world.admin)
    bad = {**FORM, "name": "", "languages": ["klingon"], "counties": "", "website": "javascript:alert(1)",
           "last_verified_on": "2099-01-01"}
    response = post_form("/legal/providers/new", "/legal/providers/new", bad)
    assert response.status_code == 422
    html = text(response)
    for message in ("This field is required.", "Choose one of the listed values.",
                    "Must be a web address starting with http:// or https://.", "Cannot be in the future."):
        assert message in html
    assert count() == 0


def test_the_api_answers_422_naming_each_field(api, world):
    caller = api(world.admin)
    response = caller.post("/legal/providers", json={"name": "X", "service_model": "attorney", "languages": [],
                                                     "counties": ["Kern"], "email": "nope"})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"service_model", "languages", "email"}
    response = caller.post("/legal/consulates", json={"country": "XX", "city": "Fresno"})
    assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {"country"}
    assert count() == 0 and count(Consulate) == 0
    created = caller.post("/legal/providers", json={"name": "X", "service_model": "pro_bono",
                                                    "languages": ["es"], "counties": ["Kern County"]})
    assert created.status_code == 201 and created.get_json()["counties"] == ["Kern"]


def test_edit_and_mark_not_accepting(client, login, post_form, world, make_provider):
    provider = make_provider(world.admin)
    login(world.admin)
    edit = f"/legal/providers/{provider.id}/edit"
    assert "Los Angeles" in text(client.get(edit))
    response = post_form(edit, edit, {**FORM, "name": "Centro Legal Renamed"})
    assert response.status_code == 302
    response = post_form("/legal/", f"/legal/providers/{provider.id}/not-accepting", {})
    assert response.status_code == 302
    with db_read() as s:
        stored = s.get(LegalProvider, provider.id)
        assert (stored.name, stored.accepting) == ("Centro Legal Renamed", False)


def test_partners_read_but_cannot_edit(client, login, post_form, world, make_provider, api):
    provider = make_provider(world.admin)
    login(world.liaison)
    assert "Centro Legal" in text(client.get("/legal/"))
    assert client.get(f"/legal/providers/{provider.id}/edit").status_code == 403
    assert post_form("/account", f"/legal/providers/{provider.id}/not-accepting", {}).status_code == 403
    caller = api(world.liaison)
    assert caller.get(f"/legal/providers/{provider.id}").status_code == 200
    response = client.put(f"/api/v1/legal/providers/{provider.id}", json=FORM,
                          headers={"Authorization": f"Bearer {caller.token}"})
    assert response.status_code == 403
    with db_read() as s:
        assert s.get(LegalProvider, provider.id).accepting is True


def test_another_agencys_provider_is_not_found(client, login, post_form, world, make_provider, api):
    other = make_provider(world.other_supervisor, name="Elsewhere Legal")
    login(world.admin)
    assert "Elsewhere Legal" not in text(client.get("/legal/"))
    assert client.get(f"/legal/providers/{other.id}/edit").status_code == 404
    assert post_form("/account", f"/legal/providers/{other.id}/not-accepting", {}).status_code == 404
    assert api(world.admin).get(f"/legal/providers/{other.id}").status_code == 404
    with db_read() as s:
        assert s.get(LegalProvider, other.id).accepting is True


def test_the_list_sends_a_fixed_number_of_statements(app, client, login, world, make_provider):
    login(world.liaison)
    for i in range(2):
        make_provider(world.admin, name=f"Provider {i}", counties=[f"County {i}", "Kern"])
    with statements(app) as few:
        assert client.get("/legal/").status_code == 200
    for i in range(2, 12):
        make_provider(world.admin, name=f"Provider {i}", counties=[f"County {i}", "Kern"])
    with statements(app) as many:
        page = text(client.get("/legal/"))
    assert len(few) == len(many), (len(few), len(many))
    assert "12 in all" in page


# ---------------------------------------------------------------- the handout

def handout_world(world, make_provider):
    make_provider(world.admin, name="Centro Hispano", languages=["es"], counties=["Los Angeles"])
    make_provider(world.admin, name="Bay Legal", languages=["en"], counties=["Los Angeles County"])
    make_provider(world.admin, name="Not Accepting", languages=["es"], counties=["Los Angeles"], accepting="no")
    make_provider(world.admin, name="Kern Office", languages=["es"], counties=["Kern"])
    make_provider(world.other_supervisor, name="Other Agency Office", languages=["es"], counties=["Los Angeles"])


def sheet(html):
    return html[html.index('data-testid="handout"'):]


def test_the_handout_lists_the_agencys_providers_for_the_language_and_county(client, login, world,
                                                                                make_provider, make_complaint):
    handout_world(world, make_provider)
    complaint = make_complaint(world.investigator, language="es")
    login(world.investigator)
    detail = text(client.get(f"/complaints/{complaint.id}"))
    link = re.search(r'href="([^"]+)" data-testid="print-attorney-list"', detail).group(1).replace("&amp;", "&")
    assert link == f"/legal/attorney-list/{complaint.id}?language=es"
    chooser = text(client.get(link))
    assert 'data-testid="handout"' not in chooser and '<option value="Los Angeles">' in chooser
    response = client.get(f"/legal/attorney-list/{complaint.id}?language=en&county=los+angeles")
    html = sheet(text(response))
    matching, others = html.split('data-testid="others"')
    assert "Bay Legal" in matching and "Centro Hispano" not in matching
    assert "Centro Hispano" in others
    for absent in ("Not Accepting", "Kern Office", "Other Agency Office"):
        assert absent not in html
    assert RIGHTS in html and "<script" not in text(response)
    assert not re.search(r'(src|href)="(https?:)?//', text(response)), "nothing loaded from another host"
    assert "handout.css" in text(response)


def test_the_spanish_handout_is_in_spanish(client, login, world, make_provider, make_complaint):
    handout_world(world, make_provider)
    complaint = make_complaint(world.investigator, language="es")
    login(world.investigator)
    html = sheet(text(client.get(f"/legal/attorney-list/{complaint.id}?language=es&county=Los+Angeles")))
    assert html.startswith('data-testid="handout"') and 'lang="es"' in text(client.get(
        f"/legal/attorney-list/{complaint.id}?language=es&county=Los+Angeles"))
    matching, others = html.split('data-testid="others"')
    assert "Centro Hispano" in matching and "Bay Legal" in others
    with force_locale("es"):
        rights, spanish, languages = gettext(RIGHTS), gettext("Spanish"), gettext("Languages:")
    # Labels already translated come out in Spanish; the handout's own lines go
    # through the Spanish catalog (they read in Spanish once translated).
    assert spanish == "Español" and "Inglés" in html and "Spanish" not in html
    assert f"{languages} Español" in html
    assert rights in html


def test_recording_the_handout_sets_the_complaints_attorney_list(client, login, post_form, world,
                                                                 make_provider, make_complaint):
    handout_world(world, make_provider)
    complaint = make_complaint(world.investigator, language="en")
    login(world.investigator)
    page = f"/legal/attorney-list/{complaint.id}?language=es&county=Los+Angeles"
    response = post_form(page, f"/legal/attorney-list/{complaint.id}/given", {"language": "es"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/complaints/{complaint.id}")
    with db_read() as s:
        stored = s.get(Complaint, complaint.id)
        assert stored.attorney_list_language == "es" and stored.attorney_list_provided_at is not None
        assert [a.type for a in stored.actions] == ["attorney_list_provided"]
    assert "in Spanish" in text(client.get(f"/complaints/{complaint.id}"))


def test_recording_with_a_bad_language_writes_nothing(client, login, post_form, world, make_complaint):
    complaint = make_complaint(world.investigator)
    login(world.investigator)
    page = f"/legal/attorney-list/{complaint.id}"
    response = post_form("/account", f"{page}/given", {"language": "zh"})
    assert response.status_code == 303
    with db_read() as s:
        assert s.get(Complaint, complaint.id).attorney_list_provided_at is None


def test_partners_cannot_print_or_record_the_handout(client, login, post_form, world, make_complaint):
    shared = make_complaint(world.investigator, shared_with=[world.partner.id])
    other = make_complaint(world.other_investigator)
    login(world.liaison)
    assert client.get(f"/legal/attorney-list/{shared.id}?language=es&county=Kern").status_code == 403
    assert client.get(f"/legal/attorney-list/{other.id}").status_code == 404
    assert post_form("/account", f"/legal/attorney-list/{shared.id}/given", {"language": "es"}).status_code == 403
    with db_read() as s:
        assert s.get(Complaint, shared.id).attorney_list_provided_at is None


# ---------------------------------------------------------------- consulates and the CLI

def test_consulate_pages_and_region(client, login, post_form, world, make_consulate):
    login(world.admin)
    response = post_form("/legal/consulates/new", "/legal/consulates/new",
                         {"country": "GT", "region": "CA", "city": "Los Angeles", "phone": "", "email": "",
                          "address": "", "hours": "9-17"})
    assert response.status_code == 302
    response = post_form("/legal/consulates/new", "/legal/consulates/new", {"country": "QQ", "city": ""})
    assert response.status_code == 422 and count(Consulate) == 1
    assert post_form("/legal/consulates", "/legal/region", {"region": "ca"}).status_code == 302
    page = text(client.get("/legal/consulates"))
    assert "Guatemala" in page and '<option selected value="CA">' in page
    other = make_consulate(world.other_supervisor)
    assert client.get(f"/legal/consulates/{other.id}/edit").status_code == 404
    with db_read() as s:
        from coenforce.partners.models import Organization
        assert s.get(Organization, world.agency.id).region == "CA"


def test_cli_imports_name_the_bad_line_and_write_nothing(runner, world, tmp_path):
    good = tmp_path / "providers.csv"
    good.write_text("name,service_model,languages,counties\nCentro Legal,full_scope,es;en,Los Angeles\n")
    result = runner.invoke(args=["legal", "import", str(good), "--agency", world.agency.name])
    assert result.exit_code == 0 and "1 added, 0 updated" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("name,service_model,languages,counties\nNew One,full_scope,es,Kern\nBroken,full_scope,,Kern\n")
    result = runner.invoke(args=["legal", "import", str(bad), "--agency", world.agency.name])
    assert result.exit_code == 1 and "line 3: languages" in result.output
    assert count() == 1
    consulates = tmp_path / "consulates.csv"
    consulates.write_text("country,region,city\nMX,CA,Los Angeles\nSV,Texas,Houston\n")
    result = runner.invoke(args=["legal", "import-consulates", str(consulates), "--agency", world.agency.name])
    assert result.exit_code == 1 and "line 3: region" in result.output and count(Consulate) == 0
    result = runner.invoke(args=["legal", "region", world.agency.name, "tx"])
    assert result.exit_code == 0 and "TX" in result.output


def test_the_api_pages_the_list_and_replaces_an_entry(api, world, make_provider):
    for i in range(3):
        make_provider(world.admin, name=f"Provider {i}", languages=["es"] if i else ["en"])
    caller = api(world.supervisor)
    first = caller.get("/legal/providers?limit=2&language=es")
    body = first.get_json()
    assert [p["name"] for p in body["items"]] == ["Provider 1", "Provider 2"] and body["total"] == 2
    assert body["next"] is None
    first = caller.get("/legal/providers?limit=2").get_json()
    assert first["total"] == 3 and len(first["items"]) == 2
    rest = caller.get(first["next"].split("/api/v1", 1)[1]).get_json()
    assert [p["name"] for p in rest["items"]] == ["Provider 2"]
    provider_id = first["items"][0]["id"]
    from flask import current_app
    client = current_app.test_client()
    response = client.put(f"/api/v1/legal/providers/{provider_id}", headers={"Authorization": f"Bearer {caller.token}"},
                          json={"name": "Provider 0", "service_model": "consulate", "languages": ["es", "mix"],
                                "counties": ["Fresno"], "accepting": False})
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["languages"], response.get_json()["accepting"]) == (["es", "mix"], False)
