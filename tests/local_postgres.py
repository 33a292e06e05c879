"""Which PostgreSQL the tests use: TEST_DATABASE_URL, or else a local server found on its own.

Without TEST_DATABASE_URL the tests look for a PostgreSQL server at PGHOST/PGPORT/PGUSER
(default postgres@127.0.0.1:5432, no password unless PGPASSWORD gives one), waiting at most
a couple of seconds, and create their own database there, `orders_test_auto`. Only when no
server answers are the PostgreSQL tests skipped, with the reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from sqlalchemy import URL, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

PG_URL_VARIABLE = "TEST_DATABASE_URL"
AUTO_DATABASE = "orders_test_auto"
CONNECT_TIMEOUT_S = 2


@dataclass(frozen=True)
class Found:
    url: str | None  # None: no PostgreSQL, and `reason` says why
    reason: str


def describe(url: str) -> str:
    """user@host:port/database — never the password."""
    parts = make_url(url)
    host = parts.host or parts.query.get("host") or "localhost"
    return f"{parts.username or ''}@{host}:{parts.port or 5432}/{parts.database or ''}"


def local_url(database: str) -> URL:
    host = os.environ.get("PGHOST") or "127.0.0.1"
    port = int(os.environ.get("PGPORT") or 5432)
    user = os.environ.get("PGUSER") or "postgres"
    # A PGHOST that is a folder is a Unix socket; libpq takes it as the `host` parameter.
    if host.startswith("/"):
        return URL.create(
            "postgresql+psycopg2", username=user, port=port, database=database
        ).update_query_dict({"host": host})
    return URL.create("postgresql+psycopg2", username=user, host=host, port=port, database=database)


@cache
def find() -> Found:
    """The PostgreSQL to test on, looked for once per process."""
    given = os.environ.get(PG_URL_VARIABLE)
    if given:
        return Found(given, f"from {PG_URL_VARIABLE}")
    admin_url = local_url("postgres")
    engine = create_engine(
        admin_url,
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
    )
    try:
        with engine.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": AUTO_DATABASE}
            )
            if not exists:
                try:
                    connection.execute(text(f"CREATE DATABASE {AUTO_DATABASE}"))
                except Exception:
                    # Another run may have created it meanwhile; anything else shows below.
                    if not connection.scalar(
                        text("SELECT 1 FROM pg_database WHERE datname = :name"),
                        {"name": AUTO_DATABASE},
                    ):
                        raise
    except Exception as error:
        first_line = (str(getattr(error, "orig", None) or error).strip().splitlines() or [""])[0]
        return Found(
            None,
            f"PostgreSQL tests need {PG_URL_VARIABLE} or a PostgreSQL server at "
            f"{describe(admin_url.render_as_string(hide_password=False))}, "
            f"and none answered ({type(error).__name__}: {first_line})",
        )
    finally:
        engine.dispose()
    url = local_url(AUTO_DATABASE).render_as_string(hide_password=False)
    return Found(url, f"found on its own, {PG_URL_VARIABLE} unset")


def header() -> str:
    """The one line that opens a test run: which databases it covers."""
    found = find()
    if found.url is None:
        return f"databases: SQLite (file) only; PostgreSQL skipped: {found.reason}"
    return f"databases: SQLite (file) and PostgreSQL ({describe(found.url)}, {found.reason})"
