"""Translations: the Spanish catalog is complete and current, placeholders
survive translation, the page language follows the user's preference (then the
browser's), and notices are written in the recipient's language."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "coenforce" / "translations"
SPANISH_PO = TRANSLATIONS / "es" / "LC_MESSAGES" / "messages.po"
SPANISH_MO = SPANISH_PO.with_suffix(".mo")

# The same options as `make extract-messages`.
EXTRACT_OPTIONS = ["-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "--no-location", "--sort-output",
                   "--omit-header"]

PLACEHOLDER = re.compile(r"%\((\w+)\)[#0\- +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def read_catalog(path: Path, locale: str | None = None):
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def strings(message) -> list[str]:
    """A message's translations: one string, or one per plural form."""
    if isinstance(message.string, (list, tuple)):
        return list(message.string)
    return [message.string]


def ids(message) -> list[str]:
    return list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]


def plain_id(message) -> str:
    return ids(message)[0]


@pytest.fixture(scope="module")
def spanish():
    return read_catalog(SPANISH_PO, locale="es")


@pytest.fixture(scope="module")
def compiled_spanish():
    """The app reads the compiled catalog (.mo, not in git; `make translations`
    builds it). Build it here too when it is missing or older than the .po, so
    the page tests see the catalog under test."""
    if not SPANISH_MO.exists() or SPANISH_MO.stat().st_mtime < SPANISH_PO.stat().st_mtime:
        catalog = read_catalog(SPANISH_PO, locale="es")
        partial = SPANISH_MO.with_suffix(f".mo.{os.getpid()}")
        with partial.open("wb") as f:
            write_mo(f, catalog)
        os.replace(partial, SPANISH_MO)
    return SPANISH_MO


def pybabel() -> str:
    beside_python = Path(sys.executable).parent / "pybabel"
    found = str(beside_python) if beside_python.exists() else shutil.which("pybabel")
    if not found:
        pytest.fail("pybabel is not installed (run make install)")
    return found


# ----------------------------------------------------------------- the catalog

def test_spanish_catalog_declares_its_language_and_plural_forms():
    headers = dict(read_catalog(SPANISH_PO).mime_headers)
    hint = ("the header of the .po is gone or incomplete: `pybabel update --omit-header` drops it, so "
            "restore Language and Plural-Forms (and update without --omit-header)")
    assert headers.get("Language") == "es", hint
    assert headers.get("Plural-Forms", "").startswith("nplurals=2;"), hint


def test_spanish_catalog_is_complete(spanish):
    untranslated = [plain_id(m) for m in spanish if m.id and not all(s.strip() for s in strings(m))]
    fuzzy = [plain_id(m) for m in spanish if m.id and m.fuzzy]
    problems = []
    if untranslated:
        problems.append(f"{len(untranslated)} untranslated: " + "; ".join(repr(i) for i in untranslated))
    if fuzzy:
        problems.append(f"{len(fuzzy)} fuzzy: " + "; ".join(repr(i) for i in fuzzy))
    assert not problems, f"{SPANISH_PO.relative_to(ROOT)}: " + "\n".join(problems)


def test_spanish_catalog_is_current(spanish, tmp_path):
    pot = tmp_path / "messages.pot"
    result = subprocess.run([pybabel(), "-q", "extract", *EXTRACT_OPTIONS, "-o", str(pot), "."],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"pybabel extract failed:\n{result.stderr}"
    extracted = {m.id if isinstance(m.id, str) else tuple(m.id) for m in read_catalog(pot) if m.id}
    assert extracted, "pybabel extract found no messages: is babel.cfg in place?"
    known = {m.id if isinstance(m.id, str) else tuple(m.id) for m in spanish if m.id}
    missing = sorted(extracted - known, key=str)
    assert not missing, (f"{len(missing)} message(s) in the code are not in {SPANISH_PO.relative_to(ROOT)} "
                         "(run make extract-messages and translate): " + "; ".join(repr(m) for m in missing))


def test_placeholders_survive_translation(spanish):
    problems = []
    for message in spanish:
        if not message.id:
            continue
        wanted = set().union(*(PLACEHOLDER.findall(i) for i in ids(message)))
        for translation in strings(message):
            if not translation:
                continue  # reported by test_spanish_catalog_is_complete
            found = set(PLACEHOLDER.findall(translation))
            if wanted - found:
                problems.append(f"{plain_id(message)!r} loses {sorted(wanted - found)} in {translation!r}")
            if found - wanted:
                # An unknown name would raise KeyError when the string is formatted.
                problems.append(f"{plain_id(message)!r} adds {sorted(found - wanted)} in {translation!r}")
    assert not problems, "\n".join(problems)


def test_python_format_flags_are_kept(spanish):
    unflagged = [plain_id(m) for m in spanish
                 if m.id and any(PLACEHOLDER.search(i) for i in ids(m)) and "python-format" not in m.flags]
    assert not unflagged, "python-format flag missing on: " + "; ".join(repr(i) for i in unflagged)


def test_spanish_catalog_compiles(spanish, tmp_path):
    result = subprocess.run([pybabel(), "compile", "-i", str(SPANISH_PO), "-o", str(tmp_path / "messages.mo"),
                             "-l", "es"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr.lower(), result.stderr


# ----------------------------------------------------------------- choosing the language

def page(client, path, language):
    response = client.get(path, headers={"Accept-Language": language})
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_anonymous_visitor_gets_the_browsers_language(client, compiled_spanish, spanish):
    sign_in_es = spanish.get("Sign in").string

    spanish_page = page(client, "/login", "es")
    assert '<html lang="es">' in spanish_page
    assert f"<h1>{sign_in_es}</h1>" in spanish_page
    assert "<h1>Sign in</h1>" not in spanish_page

    english_page = page(client, "/login", "en")
    assert '<html lang="en">' in english_page
    assert "<h1>Sign in</h1>" in english_page
    assert sign_in_es not in english_page


def test_unsupported_browser_language_falls_back_to_english(client, compiled_spanish):
    assert "<h1>Sign in</h1>" in page(client, "/login", "fr-FR, de;q=0.8")


def test_signed_in_users_language_wins_over_the_browsers_spanish(client, login, world, compiled_spanish, spanish):
    login(world.supervisor)  # prefers "es"
    html = page(client, "/", "en")
    assert '<html lang="es">' in html
    assert spanish.get("Welcome, %(name)s").string % {"name": world.supervisor.name} in html
    assert "Welcome," not in html


def test_signed_in_users_language_wins_over_the_browsers_english(client, login, world, compiled_spanish,
                                                                  spanish):
    login(world.investigator)  # prefers "en"
    html = page(client, "/", "es")
    assert '<html lang="en">' in html
    assert f"Welcome, {world.investigator.name}" in html
    assert spanish.get("Welcome, %(name)s").string % {"name": ""} not in html


# ----------------------------------------------------------------- notices

def test_notice_is_written_in_the_recipients_language(app, session, world, make_complaint, compiled_spanish,
                                                      spanish):
    from flask_babel import force_locale

    from coenforce.notify.models import Notice
    from coenforce.notify.render import render
    from coenforce.notify.service import message_for

    complaint = make_complaint(world.investigator)
    notice = session.scalars(select(Notice).where(Notice.recipient_id == world.supervisor.id)).first()
    assert notice is not None, "opening a complaint sent the supervisor no notice"

    with force_locale("en"):
        title_en = str(message_for(notice.kind).title)
        lead_en = str(message_for(notice.kind).lead)
    title_es, lead_es = spanish.get(title_en).string, spanish.get(lead_en).string

    email = render(notice, world.supervisor)
    assert email.subject == f"[coenforce] {title_es}: {complaint.reference}"
    assert title_en not in email.subject
    assert lead_es in email.text
    assert f"{spanish.get('Response due').string}: " in email.text
    assert f"{spanish.get('Open the case').string}: " in email.text

    english = render(notice, world.investigator)
    assert english.subject == f"[coenforce] {title_en}: {complaint.reference}"
