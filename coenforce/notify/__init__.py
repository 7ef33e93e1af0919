"""Notices: the transactional outbox, rendering per language, senders and the dispatcher."""
from coenforce.notify.service import cancel_pending, enqueue, enqueue_many, register_message  # noqa: F401
