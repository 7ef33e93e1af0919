"""The home page: what needs attention now, for each kind of user."""


def init_app(app) -> None:
    from coenforce.main import views
    app.register_blueprint(views.bp)
