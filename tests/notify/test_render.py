"""Rendering a notice: the recipient's language, the due time in the recipient's
organization's zone, and nothing of the complaint's text."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from markupsafe import escape
from sqlalchemy import select

from coenforce.notify.models import Notice
from coenforce.notify.render import render

SPANISH_PO = Path(__file__).resolve().parents[2] / "coenforce" / "translations" / "es" / "LC_MESSAGES" / "messages.po"

# Every msgid an intake email is made of: its title and lead, then the template's words.
INTAKE_MSGIDS = [
    "New retaliation complaint",
    "A retaliation complaint was received. The response clock has started.",
    "Case",
    "Response due",
    "Open the case",
    "This message holds no personal information by design. Sign in to see the case.",
]


def all_notices(session) -> list[Notice]:
    rows = list(session.scalars(select(Notice).order_by(Notice.id)))
    session.commit()  # end the read: on SQLite every transaction holds the write lock
    return rows


def intake_emails(session, *recipients) -> dict:
    """The rendered intake notices, by recipient id."""
    return {n.recipient_id: render(n, n.recipient) for n in all_notices(session)
            if n.recipient_id in {r.id for r in recipients}}


def spanish_translation(msgid: str) -> str | None:
    """The Spanish catalog's translation of `msgid`, or None while it is missing or fuzzy."""
    with SPANISH_PO.open("rb") as f:
        message = read_po(f, locale="es").get(msgid)
    if message is None or not message.string or message.fuzzy:
        return None
    return message.string


@pytest.fixture
def english_supervisor(world, make_user):
    return make_user(world.agency, "supervisor", language="en")


def test_notice_is_rendered_in_each_recipient_language(session, world, english_supervisor, make_complaint):
    """One intake notice to an English and one to a Spanish supervisor: same case, same link, different words."""
    complaint = make_complaint(world.investigator)
    emails = intake_emails(session, english_supervisor, world.supervisor)
    en, es = emails[english_supervisor.id], emails[world.supervisor.id]

    assert (en.to, es.to) == (english_supervisor.email, world.supervisor.email)
    assert en.subject == f"[coenforce] New retaliation complaint: {complaint.reference}"
    assert "Wednesday, March 4, 2026" in en.text
    assert "miércoles, 4 de marzo de 2026" in es.text
    assert es.text != en.text and es.html != en.html
    for email in (en, es):
        assert complaint.reference in email.subject and complaint.reference in email.text
        link = f"https://coenforce.test/complaints/{complaint.id}"
        assert link in email.text and f'href="{link}"' in email.html


@pytest.mark.parametrize("msgid", INTAKE_MSGIDS)
def test_spanish_notice_uses_the_spanish_catalog(session, world, english_supervisor, make_complaint, msgid):
    """Each string of the intake email reaches a Spanish recipient translated."""
    make_complaint(world.investigator)
    emails = intake_emails(session, english_supervisor, world.supervisor)
    en, es = emails[english_supervisor.id], emails[world.supervisor.id]
    assert msgid in en.text  # the English email really has this string

    translated = spanish_translation(msgid)
    if translated is None:
        pytest.skip(f"the Spanish catalog lacks msgid {msgid!r} (messages.po not yet translated)")
    assert translated in es.text, f"messages.po translates {msgid!r} but the email does not: run `make translations`"
    assert str(escape(translated)) in es.html
    if msgid == INTAKE_MSGIDS[0]:
        assert es.subject.startswith(f"[coenforce] {translated}:")


UTC = timezone.utc
NNBSP = "\u202f"  # CLDR puts a narrow no-break space before AM/PM


@pytest.mark.parametrize("filed_at, org, expected", [
    # 17:00 UTC + 48 h, in winter: 9 AM Pacific Standard Time.
    (datetime(2026, 3, 2, 17, tzinfo=UTC), "agency",
     f"Wednesday, March 4, 2026, 9:00:00{NNBSP}AM Pacific Standard Time PST"),
    # 48 real hours across the switch to daylight time on March 8: 10 AM PDT.
    (datetime(2026, 3, 7, 17, tzinfo=UTC), "agency",
     f"Monday, March 9, 2026, 10:00:00{NNBSP}AM Pacific Daylight Time PDT"),
    # Another agency's zone: the same instant is noon in New York.
    (datetime(2026, 3, 2, 17, tzinfo=UTC), "other_agency",
     f"Wednesday, March 4, 2026, 12:00:00{NNBSP}PM Eastern Standard Time EST"),
])
def test_due_time_is_shown_in_the_recipient_organization_zone(session, world, frozen, make_user, make_complaint,
                                                              filed_at, org, expected):
    """The due time (stored in UTC) is shown in the zone of the recipient's organization, with its abbreviation."""
    frozen.set(filed_at)
    agency = getattr(world, org)
    recipient = make_user(agency, "supervisor", language="en")
    filer = world.investigator if org == "agency" else world.other_investigator
    make_complaint(filer)

    email = intake_emails(session, recipient)[recipient.id]

    assert f"Response due: {expected}" in email.text
    assert expected in email.html


def test_no_complaint_text_in_any_rendered_notice(session, canaries_through_every_rung):
    """Employer, description, dispute and address never appear in any rung's email, in any language."""
    canaries = canaries_through_every_rung
    notices = all_notices(session)
    assert {n.kind.rsplit(".", 1)[1] for n in notices} == {
        "intake", "unassigned", "reminder", "warning", "breach", "overdue"}
    assert {n.recipient.language for n in notices} == {"en", "es"}
    for notice in notices:
        email = render(notice, notice.recipient)
        for canary in canaries:
            for part in (email.subject, email.text, email.html):
                assert canary not in part, f"{notice.kind} to {notice.recipient.role} leaks {canary}"
