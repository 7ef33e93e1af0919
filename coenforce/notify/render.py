"""Rendering a notice for its recipient, in the recipient's language and time zone.

A notice says only what kind of deadline it is, the case reference, the due
time and a link: never a worker's name, an A-Number or the complaint text.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import force_locale

from coenforce import clock
from coenforce.i18n import local_time
from coenforce.notify.models import Notice
from coenforce.notify.service import message_for
from coenforce.partners.models import User


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str
    notice_id: int


def render(notice: Notice, recipient: User) -> Email:
    languages = current_app.config["LANGUAGES"]
    language = recipient.language if recipient.language in languages else "en"
    with force_locale(language):
        message = message_for(notice.kind)
        context = notice.context or {}
        due_at = clock.parse_iso(context["due_at"]) if context.get("due_at") else None
        values = dict(
            title=str(message.title), lead=str(message.lead), reference=context.get("reference", ""),
            due=local_time(due_at, recipient.timezone, language, "full") if due_at else "",
            link=current_app.config["BASE_URL"] + context.get("path", "/"),
        )
        subject = f"[coenforce] {values['title']}: {values['reference']}"
        text = render_template("emails/notice.txt", **values)
        html = render_template("emails/notice.html", **values)
    return Email(to=recipient.email, subject=subject, text=text, html=html, notice_id=notice.id)
