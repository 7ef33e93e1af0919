"""Notices: the transactional outbox, rendering per language, senders and the dispatcher."""
from coenforce.notify.service import Message, cancel_pending, enqueue, enqueue_many, register_messages  # noqa: F401
