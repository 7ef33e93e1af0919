"""Organizations (agencies and partners), their people, and partnerships."""


def init_app(app) -> None:
    """The People page for agency admins, the partnership pages and API."""
    from coenforce.partners import api, views
    app.register_blueprint(views.bp)
    app.register_blueprint(views.partnerships_bp)
    api.register(app)
    app.jinja_env.globals["OrgKind"] = views.OrgKind
