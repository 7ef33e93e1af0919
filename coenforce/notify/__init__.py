"""Notices: the transactional outbox, rendering per language, senders and the dispatcher."""
from coenforce.notify.service import Message, cancel_pending, enqueue, enqueue_many, register_messages  # noqa: F401


def init_app(app) -> None:
    """The outbox page and its API."""
    from coenforce.notify import api, views
    app.register_blueprint(views.bp)
    api.register(app)
