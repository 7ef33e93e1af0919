"""The legal directory: immigration legal providers and consulates an agency
keeps for the workers it serves, and the attorney-list handout printed from a
complaint."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the directory's pages, API, commands and template helpers."""
    from coenforce.legal import api, cli, views

    app.register_blueprint(views.bp)
    api.register(app)
    cli.register(app)
    app.jinja_env.globals.update(country_name=views.country_name)
