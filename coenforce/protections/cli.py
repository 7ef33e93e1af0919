"""`flask --app wsgi holidays add AGENCY DATE NAME` / `holidays list AGENCY`, and
`protections targets AGENCY DAYS REMOVAL_BUSINESS_DAYS LETTER_BUSINESS_DAYS`."""
from __future__ import annotations

import json

import click
from flask import Flask
from sqlalchemy import select

from coenforce.cli import fail
from coenforce.db import db
from coenforce.escalation import Holiday
from coenforce.protections import service
from coenforce.protections.schemas import HolidayIn, SettingsIn
from coenforce.partners.service import agency_named
from coenforce.schemas import parse
from coenforce.validation import ValidationError


def register(app: Flask) -> None:
    holidays = click.Group("holidays", help="An agency's holidays (business-day deadlines skip them).")
    app.cli.add_command(holidays)

    @holidays.command("add")
    @click.argument("agency")
    @click.argument("day", metavar="DATE")
    @click.argument("name")
    def add(agency: str, day: str, name: str) -> None:
        """Add a holiday (DATE as 2026-07-03) to AGENCY's calendar."""
        try:
            org = agency_named(db.session, agency)
            holiday = service._add_holiday(db.session, org.id, parse(HolidayIn, {"date": day, "name": name}))
            db.session.commit()
        except ValidationError as exc:
            fail(exc)
        click.echo(holiday.id)

    @holidays.command("list")
    @click.argument("agency")
    def list_(agency: str) -> None:
        """AGENCY's holidays, one a line: date and name."""
        try:
            org = agency_named(db.session, agency)
        except ValidationError as exc:
            fail(exc)
        for holiday in db.session.scalars(select(Holiday).where(Holiday.organization_id == org.id)
                                          .order_by(Holiday.date)):
            click.echo(f"{holiday.date.isoformat()}\t{holiday.name}")

    protections = click.Group("protections", help="Immigration protections on a case.")
    app.cli.add_command(protections)

    @protections.command("targets")
    @click.argument("agency")
    @click.argument("certification_days", type=int)
    @click.argument("removal_business_days", type=int)
    @click.argument("letter_business_days", type=int)
    def targets(agency: str, certification_days: int, removal_business_days: int, letter_business_days: int) -> None:
        """Set AGENCY's legal targets; prints them as JSON."""
        try:
            org = agency_named(db.session, agency)
            saved = service._store_targets(db.session, org.id, parse(SettingsIn, {
                "certification_days": certification_days, "removal_business_days": removal_business_days,
                "letter_business_days": letter_business_days}))
            db.session.commit()
        except ValidationError as exc:
            fail(exc)
        click.echo(json.dumps(saved.__dict__))
