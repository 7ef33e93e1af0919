"""coenforce: labor agencies and community partners answering immigration-based
retaliation against workers together."""
from __future__ import annotations

import logging

from flask import Flask

from config import PROJECT_ROOT, load_config


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: config, extensions, blueprints and CLI. It starts no
    scheduler and opens no network connection."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "coenforce" / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.from_mapping(load_config(overrides))
    if app.config["TRUSTED_PROXIES"]:
        # Honour X-Forwarded-For only from the configured number of proxies.
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"], x_proto=1)
    logging.getLogger("coenforce").setLevel(logging.INFO)

    from coenforce import errors, headers, i18n
    from coenforce.db import db
    from coenforce.extensions import babel, csrf, limiter, login_manager

    from coenforce.validation import IdConverter
    app.url_map.converters["id"] = IdConverter
    db.init_app(app)
    from coenforce.security import passwords
    passwords.configure(app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_COST"])
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from coenforce import apikit, audit, complaints, detentions, escalation, main, notify, partners, security, thirdparty
    from coenforce import legal, protections

    apikit.register(app, apikit.bp)
    app.session_interface = apikit.NoCookieSessionOnTheApi()
    # Each capability registers its pages, API, deadline kinds and notice wording;
    # the engine checks the configured ladders against them last.
    for module in (security, main, partners, notify, audit, complaints, thirdparty, detentions, legal, protections):
        module.init_app(app)
    escalation.init_app(app)
    errors.init_app(app)
    headers.init_app(app)
    i18n.init_app(app)

    from coenforce.cli import register_commands
    register_commands(app)
    return app
