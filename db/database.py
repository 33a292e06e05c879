"""Engines and sessions for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import Session, sessionmaker

from db.models import FIRST_ORDER_NUMBER, ORDER_NUMBER_SEQUENCE

IMMEDIATE = "product_orders_begin_immediate"
SQLITE_BUSY_TIMEOUT_MS = 15_000
SQLITE_CACHE_KIB = 16_384
PING_AFTER_IDLE_S = 5.0
NEXT_COUNTER = text(
    "UPDATE counters SET value = value + 1 WHERE name = 'order_number' RETURNING value"
)
NEXT_IN_SEQUENCE = text(f"SELECT nextval('{ORDER_NUMBER_SEQUENCE}')")


class Database:
    """One engine and its session factory; create one per process and share it."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_options)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # PostgreSQL's statements that need no transaction (`single_statements`) have
        # connections of their own, always in autocommit: a pooled connection switched into
        # autocommit and back cost CPU each time, and psycopg2 then spent a round trip
        # (SET default_transaction_isolation) on that connection's next transaction.
        self._autocommit: Engine | None = None
        self._one_statement_sessions: sessionmaker[Session] | None = None
        if not self.is_sqlite:
            autocommit = {**engine_options, "isolation_level": "AUTOCOMMIT"}
            self._autocommit = make_engine(url, **autocommit)
            self._one_statement_sessions = sessionmaker(self._autocommit, expire_on_commit=False)
        self._open_read: ContextVar[Session | None] = ContextVar("open_read", default=None)
        # Called with the ids of outbox rows right after the transaction that wrote them
        # commits. The composition root hangs the deliverer here (a test hangs its own);
        # until then rows wait for the dispatcher.
        self.notification_listeners: list[Callable[[list[int]], None]] = []
        # The address of an order's customer status page (order id → URL), which every
        # customer message carries. The composition root sets it when PUBLIC_BASE_URL and
        # ORDER_LINK_SECRET are configured; without it messages go out without a link.
        self.status_link: Callable[[int], str] | None = None

    @property
    def kind(self) -> str:
        return "sqlite" if self.is_sqlite else "postgresql"

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def engines(self) -> tuple[Engine, ...]:
        """Every engine (and so every pool) this database holds: one, or two on PostgreSQL."""
        return (self.engine,) if self._autocommit is None else (self.engine, self._autocommit)

    def describe(self) -> str:
        """The URL with any password hidden, for the Settings page and logs."""
        return self.describe_url(self.url)

    @staticmethod
    def describe_url(url: str) -> str:
        return make_url(url).render_as_string(hide_password=True)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads. Reads made inside an open `reading()` block share its session
        — one connection, one transaction — so a page can group the reads of one view.

        Only group reads: on SQLite the group reads one snapshot, so it would not see a write
        committed from another session while it is open.
        """
        shared = self._open_read.get()
        if shared is not None:
            yield shared
            return
        with self._sessions() as session:
            opened = self._open_read.set(session)
            try:
                yield session
            finally:
                self._open_read.reset(opened)

    def writing(self, *, one_statement: bool = False) -> Session:
        """A session whose transaction takes SQLite's write lock up front (BEGIN IMMEDIATE).

        Read-then-write transactions on SQLite otherwise fail with "database is locked"
        when two writers upgrade their read locks at the same moment.

        `one_statement`: the caller reads, then writes everything in one statement (see
        `UnitOfWork`). On PostgreSQL that statement is atomic by itself, so the session runs
        in autocommit and no BEGIN and COMMIT round trips are spent; SQLite, which has none
        to spend, takes its write lock up front as for any other change.
        """
        if one_statement and self._one_statement_sessions is not None:
            return self._one_statement_sessions()
        session = self._sessions()
        session.connection(execution_options={IMMEDIATE: True})
        return session

    @contextmanager
    def single_statements(self) -> Iterator[Connection]:
        """A connection for statements each of them atomic by itself (no transaction needed).

        PostgreSQL runs them in autocommit: no BEGIN and COMMIT round trips on the hot path.
        SQLite takes its write lock up front, as every read-then-write there must.
        """
        if self._autocommit is None:
            with self.writing() as session:
                yield session.connection()
                session.commit()
        else:
            with self._autocommit.connect() as connection:
                yield connection

    def next_order_number(self, session: Session) -> str:
        if self.is_sqlite:
            value = session.execute(NEXT_COUNTER).scalar_one()
        else:
            value = session.execute(NEXT_IN_SEQUENCE).scalar_one()
        return f"ORD-{value}"

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        for engine in self.engines:
            engine.dispose()


def make_engine(url: str, **options: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, **options)
        if "pool_pre_ping" not in options:
            _ping_after_idle(engine)
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    options.setdefault("connect_args", {}).update(
        check_same_thread=False, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000
    )
    engine = create_engine(url, **options)
    _configure_sqlite(engine)
    return engine


def _ping_after_idle(engine: Engine) -> None:
    """Check a pooled connection before use only if it sat idle, not on every checkout.

    A connection that was idle a while may have been dropped (a restart, a hosted database's
    idle timeout); it is pinged and replaced if dead, as pool_pre_ping would. One returned
    moments ago is used as is: pinging it cost every short write a round trip of its own
    (bench/service_calls.py). A restart inside that window fails one request, which the
    pages report as an outage, and SQLAlchemy then renews the whole pool.
    """

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return  # new, or just returned
        dialect = engine.dialect
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                # The pool replaces this connection and, the server having gone, the rest.
                raise InvalidatePoolError(str(exc)) from exc
            raise


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling cannot issue BEGIN IMMEDIATE; take it over
    # (the recipe from SQLAlchemy's SQLite dialect documentation).
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # The default 2 MiB page cache cannot hold what one search of a million orders reads
        # (its text-index lists and the matching rows); every page then comes back through
        # the file system. 16 MiB per pooled connection holds it.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(IMMEDIATE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


__all__ = ["Database", "FIRST_ORDER_NUMBER", "make_engine"]
