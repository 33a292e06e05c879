"""Connections: PostgreSQL's are checked before use only after sitting idle, and replaced if
dead; SQLite's are set up for a shared file (WAL, busy timeout) and a page cache for searches."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from db import database
from db.database import Database
from tests.conftest import backend_pid, postgres_url


def pings(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    seen: list[object] = []
    real = db.engine.dialect.do_ping

    def counting(dbapi_connection: object) -> bool:
        seen.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(db.engine.dialect, "do_ping", counting)
    return seen


def test_a_connection_returned_moments_ago_is_used_without_a_ping(pg, monkeypatch):
    first = backend_pid(pg)
    seen = pings(pg, monkeypatch)
    assert backend_pid(pg) == first
    assert seen == []


def test_an_idle_connection_is_pinged_before_use(pg, monkeypatch):
    first = backend_pid(pg)
    monkeypatch.setattr(database, "PING_AFTER_IDLE_S", 0.0)
    seen = pings(pg, monkeypatch)
    assert backend_pid(pg) == first
    assert len(seen) == 1


def test_an_idle_connection_the_server_dropped_is_replaced_without_an_error(pg, monkeypatch):
    dropped = backend_pid(pg)
    with Database(postgres_url() or "").engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
    monkeypatch.setattr(database, "PING_AFTER_IDLE_S", 0.0)
    assert backend_pid(pg) != dropped


def test_sqlite_connections_share_the_file_safely_and_cache_what_a_search_reads(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'orders.db'}")
    try:
        with db.engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA busy_timeout").scalar() == database.SQLITE_BUSY_TIMEOUT_MS
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA cache_size").scalar() == -database.SQLITE_CACHE_KIB
    finally:
        db.dispose()


def test_statements_outside_a_transaction_leave_the_transactions_connections_untouched(pg):
    """`single_statements` runs on connections of its own, always in autocommit: switching
    one of the transactions' connections in and out cost psycopg2 a SET round trip later."""
    with pg.single_statements() as connection:
        assert connection.connection.dbapi_connection.autocommit
        alone = int(connection.scalar(text("SELECT pg_backend_pid()")))
    with pg.writing() as session:
        dbapi = session.connection().connection.dbapi_connection
        assert not dbapi.autocommit
        assert dbapi.isolation_level is None  # the server's default: psycopg2 sends no SET
        assert int(session.scalar(text("SELECT pg_backend_pid()"))) != alone
