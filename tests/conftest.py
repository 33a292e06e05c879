"""Fixtures shared by every test: a migrated database on SQLite and on PostgreSQL.

Each backend is migrated once per run; before and after each test every table is emptied
(and the id sequences and order-number counter reset), so services can commit for real —
as they do in production, and as the concurrency tests need — while tests still start from
a clean slate. PostgreSQL is TEST_DATABASE_URL, or else a local server found on its own
(tests/local_postgres.py); the run's first line says which databases it covers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import text

from db.database import Database
from db.migrate import upgrade
from db.models import Base
from db.summary import rebuild_order_counts
from tests import local_postgres

BACKENDS = ["sqlite", "postgresql"]

# Property tests: a modest number of examples keeps the suite quick (database-backed ones
# ask for fewer still); HYPOTHESIS_PROFILE=thorough searches harder.
settings.register_profile("suite", max_examples=60, deadline=None, database=None)
settings.register_profile("thorough", max_examples=2_000, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))
PG_URL_VARIABLE = local_postgres.PG_URL_VARIABLE


def pytest_report_header() -> str:
    return local_postgres.header()


def postgres_url() -> str | None:
    """TEST_DATABASE_URL, or a local PostgreSQL's own test database, or None when neither."""
    return local_postgres.find().url


def postgres_skip_reason() -> str:
    return local_postgres.find().reason


@pytest.fixture
def pg() -> Iterator[Database]:
    """PostgreSQL alone, with a pool of one connection: each use is the same server process."""
    url = postgres_url()
    if not url:
        pytest.skip(postgres_skip_reason())
    db = Database(url, pool_size=1, max_overflow=0)
    yield db
    db.dispose()


def backend_pid(db: Database) -> int:
    with db.engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_backend_pid()")))


@pytest.fixture(scope="session")
def _databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Database]]:
    made: dict[str, Database] = {}
    yield made
    for db in made.values():
        db.dispose()


def _open(kind: str, made: dict[str, Database], tmp: Path) -> Database:
    if kind in made:
        return made[kind]
    if kind == "sqlite":
        db = Database(f"sqlite:///{tmp / 'orders-test.db'}")
    else:
        url = postgres_url()
        if not url:
            pytest.skip(postgres_skip_reason())
        db = Database(url)
        with db.engine.begin() as connection:
            # Start each run from an empty schema, whatever an earlier run left behind.
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(db)
    made[kind] = db
    return db


# Every sequence that has been used goes back to its start: the tables' ids to 1, the order
# numbers to 10001 (order_number_seq starts there).
RESTART_SEQUENCES = text(
    "SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false) "
    "FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL"
)


def empty(db: Database) -> None:
    """Every table emptied, the sequences restarted, the counters as a fresh migration has them.

    DELETE, not TRUNCATE, on PostgreSQL too: a test leaves a handful of rows, and TRUNCATE
    makes new files for every table it empties, which cost ~160 ms a call on this suite's
    machine against ~10 ms for the DELETEs — a call before and after each of the ~500
    PostgreSQL tests. The tables are locked first, as TRUNCATE locks them, so a transaction
    a test left running finishes before the emptying rather than after it.
    """
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if not db.is_sqlite:
            connection.execute(text(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE"))
        for name in tables:
            connection.execute(text(f"DELETE FROM {name}"))
        if not db.is_sqlite:
            connection.execute(RESTART_SEQUENCES)
        connection.execute(
            text("INSERT INTO counters (name, value) VALUES ('order_number', 10000)")
        )
        rebuild_order_counts(connection)


@pytest.fixture(params=BACKENDS)
def db(
    request: pytest.FixtureRequest,
    _databases: dict[str, Database],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Database]:
    """A migrated, empty database; the test runs once per backend."""
    database = _open(request.param, _databases, tmp_path_factory.getbasetemp())
    empty(database)
    yield database
    database.notification_listeners.clear()
    empty(database)


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep HTTP to the local fake providers local: urllib and requests honour proxy vars."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
