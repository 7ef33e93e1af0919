"""`flask --app wsgi strategic-queue rebuild`: recompute the queue's evidence."""
from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from coenforce.db import db
from coenforce.partners.models import Organization, OrgKind
from coenforce.thirdparty import queue


def register(app: Flask) -> None:
    group = click.Group("strategic-queue", help="The strategic-enforcement queue.")
    app.cli.add_command(group)

    @group.command("rebuild")
    def rebuild() -> None:
        """Recompute every agency's employer evidence from its reports and
        complaints (after an upgrade, or to repair it); the queue stays usable."""
        agencies = db.session.scalars(select(Organization).where(Organization.kind == OrgKind.AGENCY)).all()
        for agency in agencies:
            rows = queue.refresh(db.session, agency.id)
            db.session.commit()
            click.echo(f"{agency.name}: {rows} employers")
