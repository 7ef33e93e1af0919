"""`flask --app wsgi legal import|import-consulates|region`: load an agency's
directory from CSV, and set the US state it works in."""
from __future__ import annotations

import click
from flask import Flask

from coenforce.cli import fail
from coenforce.db import db
from coenforce.legal import service
from coenforce.legal.schemas import RegionIn
from coenforce.partners.service import agency_named
from coenforce.schemas import parse
from coenforce.validation import ValidationError


def register(app: Flask) -> None:
    group = click.Group("legal", help="The legal directory: immigration legal providers and consulates.")
    app.cli.add_command(group)

    def _load(loader, file, agency: str) -> None:
        try:
            counts = loader(db.session, agency_named(db.session, agency), file)
        except ValidationError as exc:
            fail(exc)
        db.session.commit()
        click.echo(f"{counts['added']} added, {counts['updated']} updated")

    @group.command("import")
    @click.argument("file", type=click.File("r", encoding="utf-8-sig"))
    @click.option("--agency", required=True, help="The agency whose directory this is.")
    def import_providers(file, agency):
        """Load providers from a CSV file whose header names the fields: name,
        service_model, languages, counties, phone, email, address, website,
        notes, accepting, last_verified_on (lists separated by ";"). Nothing
        is written if any line is wrong; each wrong line is named."""
        _load(service.import_providers, file, agency)

    @group.command("import-consulates")
    @click.argument("file", type=click.File("r", encoding="utf-8-sig"))
    @click.option("--agency", required=True, help="The agency whose directory this is.")
    def import_consulates(file, agency):
        """Load consulates from a CSV file: country (ISO code such as MX),
        region (US state such as CA), city, phone, email, address, hours."""
        _load(service.import_consulates, file, agency)

    @group.command("region")
    @click.argument("agency")
    @click.argument("region", required=False, default="")
    def region(agency, region):
        """Set the US state an agency works in (empty to clear it)."""
        try:
            service.set_region_of(db.session, agency_named(db.session, agency),
                                  parse(RegionIn, {"region": region}))
        except ValidationError as exc:
            fail(exc)
        db.session.commit()
        click.echo(region.upper() or "cleared")
