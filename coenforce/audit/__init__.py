"""The audit log: an append-only, hash-chained record of every view, reveal and
export of a sensitive record (who, which organization, which record, what, when;
no personal data). Modules call `record(...)` in the transaction that serves the
record; `verify(...)` (and `flask audit verify`) checks the chain with the key."""
from coenforce.audit.service import record, verify  # noqa: F401


def init_app(app) -> None:
    """The audit page and `flask audit verify`."""
    from coenforce.audit import cli, views
    app.register_blueprint(views.bp)
    cli.register(app)
