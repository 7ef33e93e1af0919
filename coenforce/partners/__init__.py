"""Organizations (agencies and partners), their people, and partnerships."""


def init_app(app) -> None:
    """The People page for agency admins."""
    from coenforce.partners import views
    app.register_blueprint(views.bp)
