"""The database: engine, a session per request, the declarative Base, a UTC type,
and helpers for hot paths (`paged` lists, `as_dicts` rows, `insert_loaded` writes).

SQLite is the embedded default and PostgreSQL the production database; the
same models, migrations and tests run on both.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import select
from datetime import datetime, timezone

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import DateTime, Engine, Integer, MetaData, bindparam, create_engine, event, insert, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached, sessionmaker
from sqlalchemy.types import TypeDecorator

log = logging.getLogger("coenforce.db")

# Requests that read: on SQLite their transactions begin DEFERRED and take no write
# lock unless they write (see Database.session).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in and out; SQLite forgets the zone, so re-attach it."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            # Stored without an offset so that text comparison orders correctly.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    def result_processor(self, dialect, coltype):
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        # SQLite hands back the stored text (UTC, no offset): parse it with the
        # offset appended, one call where datetime.replace(tzinfo=) costs seven
        # times the parse (lists read several of these per row).
        parse = datetime.fromisoformat

        def process(value):
            if value is None:
                return None
            try:
                return parse(value + "+00:00")
            except ValueError:  # text with an offset of its own (not written by this type)
                return parse(value).astimezone(timezone.utc)
        return process


def paged(statement, limit: int | None = None, offset: int = 0):
    """`statement` cut to one page. The page's size and start are written into the
    SQL text rather than sent as parameters: PostgreSQL then plans a prepared
    list statement once, knowing how many rows it wants, where with an unknown
    LIMIT the generic plan looks too dear and it plans again at every request.

    Without a limit (a statement built once and run many times), the page is
    given when the statement runs, as the parameters `limit` and `offset`."""
    if limit is None:
        return statement.limit(_page_bound("limit")).offset(_page_bound("offset"))
    return statement.limit(_page_bound("page_limit", limit)).offset(_page_bound("page_offset", offset))


def _page_bound(name: str, value: int | None = None):
    given = value is not None
    return bindparam(name, value, Integer, unique=given, required=not given, literal_execute=True)


def as_dicts(result) -> list[dict]:
    """The rows of a Core result as dicts, for code that reads each row's columns
    by name. A Row's attribute (`row.due_at`) costs ten times a dict's key: the
    attribute is looked up on the class and fails before the column is found."""
    keys = tuple(result.keys())
    return [dict(zip(keys, row)) for row in result.all()]  # fetched at once, not row by row


def insert_loaded(session: Session, model: type[Base], rows: list[dict], *, at_commit: bool = False) -> list:
    """Insert rows of `model` in one statement and return them as objects of the
    session, loaded as written (no query reads them back).

    For the few rows a request creates, the unit of work costs several times the
    INSERT itself. Relationships of the objects returned are not loaded: the
    caller sets those it knows with `set_committed_value`. With `at_commit` the
    INSERT waits for the commit (see `write_at_commit`): rows whose keys are all
    given, which nothing in the transaction reads from the database."""
    if not rows:
        return []
    table = model.__table__
    primary_key = table.primary_key.columns
    generated = any(row.get(column.key) is None for row in rows for column in primary_key)
    if generated and at_commit:
        raise ValueError(f"{model.__name__} rows without their keys cannot wait for the commit")
    statement = _insert_statement(table, generated, at_commit)
    if at_commit:
        write_at_commit(session, statement, rows)
        keys = [None] * len(rows)
    else:
        result = session.connection().execute(statement, rows)
        keys = result.all() if generated else [None] * len(rows)
    objects = []
    for row, key in zip(rows, keys):
        values = {column: _written(column, row) for column in table.columns}
        if key is not None:
            values.update(zip(primary_key, key))
        objects.append(as_loaded(session, model, values))
    return objects


@functools.cache
def _insert_statement(table, returning_keys: bool, at_commit: bool):
    """insert_loaded's statement, built once (building one costs more than running its cached SQL)."""
    statement = insert(table)
    if returning_keys:
        return statement.returning(*table.primary_key.columns, sort_by_parameter_order=True)
    # inline: no implicit RETURNING of the keys, which are given (a pipeline returns nothing)
    return statement.inline() if at_commit else statement


def as_loaded(session: Session, model: type[Base], values: dict):
    """An object of `model` in the session as if a query had loaded it with
    `values` (column -> value), for rows read or written by Core: the ORM's own
    loading costs several times the query on a hot path. Columns not given (or
    _UNKNOWN) load when first read; relationships are the caller's to set."""
    attribute_of = _attributes(model)
    obj = model(**{attribute_of[column]: value for column, value in values.items() if value is not _UNKNOWN})
    make_transient_to_detached(obj)  # persistent as if loaded: no history, nothing to flush
    session.add(obj)
    return obj


_UNKNOWN = object()


# ---------------------------------------------------------------- writes at commit
#
# A filing writes rows whose results nothing reads (the complaint's types, the
# escalation step, the employer's evidence). Each would wait for its own answer
# from PostgreSQL, a round trip of client and server work; queued until the
# commit, they travel together in psycopg's pipeline mode and wait once.

_AT_COMMIT = "coenforce.writes_at_commit"


def write_at_commit(session: Session, statement, parameters=None) -> None:
    """Run a write when the session commits, after its other writes, instead of
    now. Only for writes that return nothing (an INSERT made `.inline()`, so that
    it does not return its new key) and that nothing in the transaction reads
    back: a query before the commit does not see them. A rollback drops them."""
    if session.in_nested_transaction():  # a savepoint rolled back could not take them back
        raise RuntimeError("write_at_commit inside a savepoint")
    if not session.in_transaction():
        session.begin()  # so that the queue belongs to a transaction, and ends with it
    session.info.setdefault(_AT_COMMIT, []).append((statement, parameters))


def _write_queued(session: Session) -> None:
    queued = session.info.pop(_AT_COMMIT, None)
    if not queued:
        return
    session.flush()  # objects added to the session go first: queued rows may refer to them
    connection = session.connection()
    driver = connection.connection.dbapi_connection
    # PostgreSQL: sent at once in psycopg's pipeline, the answers read when it ends.
    together = driver.pipeline() if connection.dialect.name == "postgresql" else contextlib.nullcontext()
    try:
        with together:
            for statement, parameters in queued:
                connection.execute(statement, parameters)
    except driver.Error as error:  # raised as the pipeline ends, outside SQLAlchemy: give it SQLAlchemy's type
        raise DBAPIError.instance(None, None, error, driver.Error, hide_parameters=True) from error


def _drop_queued(session: Session, transaction) -> None:
    if transaction.parent is None:  # the session's transaction ended without a commit, or after one
        session.info.pop(_AT_COMMIT, None)


@functools.cache
def _attributes(model: type[Base]) -> dict:
    """The name of the attribute that maps each column of `model`'s table."""
    mapper = inspect(model)
    return {column: mapper.get_property_by_column(column).key for column in model.__table__.columns}


def _written(column, row: dict):
    """The value the INSERT wrote for `column`: given, its constant default, or NULL."""
    if column.key in row:
        return row[column.key]
    if column.default is not None:
        return column.default.arg if column.default.is_scalar else _UNKNOWN
    return _UNKNOWN if column.server_default is not None else None


def make_engine(url: str) -> Engine:
    """An engine for `url`, with the SQLite settings the design asks for."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # Connections are pooled: opening one and setting its PRAGMAs costs more
        # than a small query. Beyond the five kept, a burst opens more rather than
        # waiting for one (SQLite has no server to protect).
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True, pool_size=5,
                               max_overflow=-1)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record):
            # Let SQLAlchemy's "begin" event issue BEGIN itself (see below).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Deleted means gone: freed pages are overwritten with zeros.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # BEGIN IMMEDIATE takes the write lock up front: a transaction that
            # reads and then writes can never fail half-way on a lock upgrade,
            # and two escalation ticks are serialized by the database. Readers
            # (GET requests, the dispatcher, read-mostly tools) ask for a plain
            # deferred BEGIN, so they never wait for, or block, a writer.
            mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
            conn.exec_driver_sql("BEGIN DEFERRED" if mode == "DEFERRED" else "BEGIN IMMEDIATE")

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False))
    # hide_parameters: a failing statement must not put case data into the logs.
    engine = create_engine(url, pool_size=5, max_overflow=10, hide_parameters=True)
    event.listen(engine, "checkout", _replace_if_ended)
    return engine


def _replace_if_ended(dbapi_connection, _record, _proxy) -> None:
    """Hand out no pooled connection whose server session has ended.

    A server that ends a session (a restart, pg_terminate_backend, an idle
    timeout) says so and closes the socket, so an idle connection with something
    to read is the one to check, and only it is pinged. (SQLAlchemy's pre-ping
    pings at every checkout: a round trip for every request.) A session lost
    without a word (a host gone) fails its next statement, and SQLAlchemy then
    renews the whole pool. DisconnectionError makes the pool open a new
    connection in this one's place."""
    if not (dbapi_connection.closed or _has_input(dbapi_connection.fileno())):
        return
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        dbapi_connection.rollback()
    except Exception as error:  # any failure here means: do not use it
        raise DisconnectionError(f"pooled connection ended by the server: {error}") from error


def _has_input(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


class Database:
    """The app's engine and session factory; sessions live for one app context."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.factory: sessionmaker | None = None

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"])
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        event.listen(factory, "before_commit", _write_queued)
        event.listen(factory, "after_transaction_end", _drop_queued)
        # A reader's engine (deferred BEGIN on SQLite) is made once: every GET uses it.
        app.extensions["coenforce.db"] = (engine, factory, engine.execution_options(sqlite_begin="DEFERRED"))
        # Closed after every request, and at the end of other app contexts.
        app.teardown_request(self._close_session)
        app.after_request(self._end_successful_read)
        app.teardown_appcontext(self._close_session)
        if engine.dialect.name == "sqlite":
            app.register_error_handler(OperationalError, self._read_request_lost_upgrade)

    @staticmethod
    def engine_for(app: Flask) -> Engine:
        return app.extensions["coenforce.db"][0]

    def new_session(self, app: Flask | None = None, sqlite_begin: str = "IMMEDIATE") -> Session:
        """A new session not tied to the request (scheduler jobs, CLI, tests)."""
        app = app or current_app
        _engine, factory, reader = app.extensions["coenforce.db"]
        if sqlite_begin == "DEFERRED":
            return factory(bind=reader)
        if sqlite_begin != "IMMEDIATE":
            raise ValueError(f"unknown SQLite begin mode {sqlite_begin!r}")
        return factory()

    @property
    def session(self) -> Session:
        """The session of the current app context.

        On SQLite a request that reads (GET, HEAD) begins its transactions
        DEFERRED: it takes no write lock, so reads never queue behind writers.
        Every other request, and the CLI, begins IMMEDIATE and holds the one
        write lock for its (short) transaction.
        """
        if "db_session" not in g:
            begin = "IMMEDIATE"
            if has_request_context() and request.method in READ_METHODS:
                begin = g.get("db_sqlite_begin", "DEFERRED")
            g.db_session = self.new_session(sqlite_begin=begin)
        return g.db_session

    def _read_request_lost_upgrade(self, exc: OperationalError):
        """A GET that writes after reading (a session touch, an audited view) cannot
        upgrade a DEFERRED transaction once another connection has committed: SQLite
        says "database is locked" at once. Its writes were rolled back, so the
        request runs once more, this time holding the write lock from the start."""
        if not (has_request_context() and request.method in READ_METHODS and "locked" in str(exc.orig)
                and g.get("db_sqlite_begin") is None):
            raise exc
        log.info("read request %s lost a lock upgrade; running it again as a writer", request.url_rule)
        self._close_session(None)
        for key in ("user_session", "_login_user"):  # loaded through the session just closed
            g.pop(key, None)
        g.db_sqlite_begin = "IMMEDIATE"
        app = current_app._get_current_object()
        response = app.preprocess_request()
        if response is None:
            response = app.dispatch_request()
        return response

    @staticmethod
    def _end_successful_read(response):
        """On PostgreSQL a read that succeeded ends its transaction with COMMIT,
        not the ROLLBACK of closing the session: psycopg forgets every statement
        it prepared on the connection at a ROLLBACK, so PostgreSQL would parse
        and plan each list statement again at every request. (A read writes
        nothing it has not committed itself; a request that failed is still
        rolled back.) SQLite prepares nothing across transactions: there the
        closing ROLLBACK ends the read, without the ORM's commit."""
        if request.method in READ_METHODS and response.status_code < 400 and "db_session" in g \
                and g.db_session.get_bind().dialect.name != "sqlite":
            g.db_session.commit()
        return response

    @staticmethod
    def _close_session(_exc) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()
