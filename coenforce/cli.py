"""The command line of CONTRACT.md: `flask --app wsgi <command>`."""
from __future__ import annotations

import json
import os
import sys

import click
from flask import Flask, current_app
from sqlalchemy import select

from coenforce import clock
from coenforce.partners.models import OrgKind, PartnershipStatus
from coenforce.db import db
from coenforce.schemas import parse
from coenforce.validation import Conflict, ValidationError


def fail(exc: ValidationError) -> None:
    """End a command on bad input: each field's message on stderr, nothing written, exit 1."""
    db.session.rollback()
    for field, message in exc.fields.items():
        click.echo(f"error: {field}: {message}", err=True)
    sys.exit(1)


def _now_option(value: str | None):
    if value is None:
        return None
    try:
        return clock.parse_iso(value)
    except ValueError:
        raise click.BadParameter("must be ISO 8601 with an offset, e.g. 2026-03-09T18:00:00Z") from None


def register_commands(app: Flask) -> None:
    @app.cli.command("migrate")
    def migrate():
        """Upgrade the database to the newest migration."""
        from coenforce.migrate import upgrade
        upgrade(current_app.config["DATABASE_URL"])
        click.echo("database is at the newest migration")

    @app.cli.command("seed-demo")
    def seed_demo():
        """Create demo organizations, users and cases once, and print the logins."""
        from coenforce import demo
        if current_app.config["ENV_NAME"] == "production":
            raise click.ClickException("seed-demo is refused in production")
        session = db.session
        logins = demo.seed(session)
        if logins is None:
            click.echo("Demo data exists already. Demo logins (password: %s):" % demo.DEMO_PASSWORD)
            logins = [(email, role) for email, _o, role, _n, _l in demo.PEOPLE]
        else:
            session.commit()
            click.echo("Demo data created. Demo logins (password: %s):" % demo.DEMO_PASSWORD)
        for email, role in logins:
            click.echo(f"  {email:40} {role}")

    orgs = click.Group("orgs", help="Organizations.")
    app.cli.add_command(orgs)

    @orgs.command("create")
    @click.argument("name")
    @click.option("--kind", type=click.Choice([kind.value for kind in OrgKind]), required=True)
    @click.option("--timezone", default=None)
    @click.option("--response-hours", type=int, default=None, help="Response target in hours (agencies).")
    def orgs_create(name, kind, timezone, response_hours):
        from coenforce.partners.schemas import OrganizationIn
        from coenforce.partners.service import create_organization
        try:
            org = create_organization(db.session, parse(OrganizationIn, {
                "name": name, "kind": kind, "timezone": timezone, "response_target_hours": response_hours}))
        except ValidationError as exc:
            fail(exc)
        db.session.commit()
        click.echo(org.id)

    users = click.Group("users", help="People.")
    app.cli.add_command(users)

    @users.command("create")
    @click.argument("email")
    @click.option("--org", required=True)
    @click.option("--role", required=True)
    @click.option("--name", default=None)
    @click.option("--language", default="en")
    def users_create(email, org, role, name, language):
        from coenforce.partners.schemas import UserIn
        from coenforce.partners.service import create_user
        password = os.environ.get("COENFORCE_NEW_PASSWORD") or click.prompt(
            "Password", hide_input=True, confirmation_prompt=True)
        try:
            user = create_user(db.session, parse(UserIn, {"email": email, "org": org, "role": role, "name": name,
                                                          "language": language, "password": password}))
        except ValidationError as exc:
            fail(exc)
        db.session.commit()
        click.echo(user.id)

    @users.command("token")
    @click.argument("email")
    def users_token(email):
        """Issue an API token; it is shown once."""
        from coenforce.partners.models import User
        from coenforce.security.tokens import issue_token
        user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None or not user.active:
            raise click.ClickException(f"no active user {email}")
        token = issue_token(db.session, user)
        db.session.commit()
        click.echo(token)

    partnerships = click.Group("partnerships", help="Agency-partner partnerships.")
    app.cli.add_command(partnerships)

    @partnerships.command("create")
    @click.argument("agency")
    @click.argument("partner")
    def partnerships_create(agency, partner):
        from coenforce.partners.schemas import PartnershipIn
        from coenforce.partners.service import create_partnership
        try:
            create_partnership(db.session, parse(PartnershipIn, {"agency": agency, "partner": partner}))
        except ValidationError as exc:
            fail(exc)
        db.session.commit()
        click.echo(f"{agency} and {partner} are partners")

    @partnerships.command("contact")
    @click.argument("agency")
    @click.argument("partner")
    @click.option("--agency-contact", "agency_contact", default=None, help="Email of the agency's point of contact.")
    @click.option("--partner-contact", "partner_contact", default=None,
                  help="Email of the partner's point of contact (a liaison).")
    def partnerships_contact(agency, partner, agency_contact, partner_contact):
        """Name the points of contact of a partnership."""
        from coenforce.partners import service
        from coenforce.partners.models import OrgKind
        from coenforce.partners.schemas import ContactIn
        from coenforce.security.service import find_user
        try:
            partnership = service.partnership_between(db.session, agency, partner)
            for side, email in ((OrgKind.AGENCY, agency_contact), (OrgKind.PARTNER, partner_contact)):
                if email is None:
                    continue
                person = find_user(db.session, email)
                if person is None:
                    raise ValidationError({f"{side.value}_contact": f"no user {email}"})
                service.set_contact(db.session, None, partnership, side, ContactIn(contact_id=person.id))
        except ValidationError as exc:
            fail(exc)
        except Conflict as exc:
            raise click.ClickException(str(exc.message)) from None
        db.session.commit()
        click.echo(f"{agency} and {partner}: points of contact saved")

    @partnerships.command("status")
    @click.argument("agency")
    @click.argument("partner")
    @click.argument("status", type=click.Choice([status.value for status in PartnershipStatus]))
    def partnerships_status(agency, partner, status):
        """Pause, resume (active) or end a partnership."""
        from coenforce.partners import service
        from coenforce.partners.schemas import PartnershipStatusIn
        try:
            service.set_status(db.session, None, service.partnership_between(db.session, agency, partner),
                               PartnershipStatusIn(status=status))
        except ValidationError as exc:
            fail(exc)
        except Conflict as exc:
            raise click.ClickException(str(exc.message)) from None
        db.session.commit()
        click.echo(f"{agency} and {partner}: {status}")

    @app.cli.command("escalate")
    @click.option("--now", "at", default=None, help="ISO 8601 time to tick at (default: now).")
    def escalate(at):
        """Run one escalation tick and print its counts as JSON."""
        from coenforce.escalation import tick
        click.echo(json.dumps(tick(db.session, _now_option(at))))

    @app.cli.command("dispatch")
    @click.option("--now", "at", default=None, help="ISO 8601 time to dispatch at (default: now).")
    def dispatch(at):
        """Run one pass of the notice dispatcher and print its counts as JSON."""
        from coenforce.notify.dispatcher import dispatch as run
        click.echo(json.dumps(run(db.session, _now_option(at))))

    @app.cli.command("scheduler")
    def scheduler():
        """Run the escalation tick and the dispatcher until stopped."""
        from coenforce.scheduler import build_scheduler
        click.echo("scheduler running: tick every %ss, %s senders dispatching as notices arrive" % (
            current_app.config["SCHEDULER_TICK_SECONDS"], current_app.config["DISPATCH_SENDERS"]))
        try:
            build_scheduler(current_app._get_current_object()).start()
        except (KeyboardInterrupt, SystemExit):
            pass

    keys_group = click.Group("keys", help="Field encryption keys (COENFORCE_ENCRYPTION_KEYS).")
    app.cli.add_command(keys_group)

    @keys_group.command("rotate")
    @click.option("--batch-size", type=click.IntRange(min=1), default=500, show_default=True)
    def keys_rotate(batch_size):
        """Re-encrypt every encrypted field under the first key, recompute blind
        indexes, and print the counts as JSON. Exit 1 if a value no configured
        key can decrypt is found (each is named on stderr, without its value)."""
        from coenforce.db import Base
        from coenforce import models  # noqa: F401  (maps every model, so none is left out)
        from coenforce.security.crypto.rotation import encrypted_models, rotate_keys
        counts = rotate_keys(db.session, encrypted_models(Base.registry), batch_size=batch_size,
                             on_error=lambda exc: click.echo(f"error: {exc}", err=True))
        click.echo(json.dumps(counts))
        if counts["undecryptable"]:
            sys.exit(1)
