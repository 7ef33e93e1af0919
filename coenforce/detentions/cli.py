"""`flask --app wsgi detentions purge`: the retention job, also run by the scheduler."""
from __future__ import annotations

import json

import click
from flask import Flask

from coenforce.db import db
from coenforce.detentions import service


def register(app: Flask) -> None:
    group = click.Group("detentions", help="Detained-worker alerts.")
    app.cli.add_command(group)

    @group.command("purge")
    def purge() -> None:
        """Clear the sealed fields of alerts closed longer than the retention period."""
        click.echo(json.dumps({"purged": service.purge_closed(db.session)}))
