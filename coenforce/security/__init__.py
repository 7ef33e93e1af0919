"""Login, API tokens, passwords and the one permission policy."""


def init_app(app) -> None:
    """Sign-in pages and the `can(action)` check templates use."""
    from flask_login import current_user

    from coenforce.security import policy, views
    app.register_blueprint(views.bp)
    app.jinja_env.globals["can"] = lambda action: policy.allowed(current_user, action)
