"""`flask --app wsgi audit verify`: check the audit log's chain (CONTRACT.md)."""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app

from coenforce.audit.service import verify
from coenforce.db import db


def register(app: Flask) -> None:
    """Add the `audit` command group to the app's CLI."""
    audit = click.Group("audit", help="The audit log.")
    app.cli.add_command(audit)

    @audit.command("verify")
    @click.option("--batch-size", type=click.IntRange(min=1), default=1000, show_default=True,
                  help="Entries read per query.")
    def verify_command(batch_size: int) -> None:
        """Check the chain: print OK, or the first broken entry and exit 1."""
        # A read-only walk: on SQLite it must not hold the write lock while the
        # app appends; on PostgreSQL one snapshot covers every batch.
        session = db.new_session(current_app, sqlite_begin="DEFERRED")
        try:
            if session.get_bind().dialect.name == "postgresql":
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            verdict = verify(session, batch_size=batch_size)
        finally:
            session.rollback()
            session.close()
        if verdict.ok:
            click.echo("OK")
            return
        click.echo(f"BROKEN {verdict}")
        sys.exit(1)
