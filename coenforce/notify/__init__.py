"""Notices: the transactional outbox, rendering per language, senders and the dispatcher."""
from coenforce.notify.service import (  # noqa: F401
    Message, cancel_pending, enqueue, enqueue_many, enqueue_to_each, register_messages,
)


def init_app(app) -> None:
    """The outbox page and its API."""
    from coenforce.notify import api, views
    app.register_blueprint(views.bp)
    api.register(app)
