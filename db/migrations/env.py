"""Alembic environment: the same database URL and models as the app."""

from logging.config import fileConfig

from alembic import context

import config as app_config
from db.database import make_engine
from db.models import Base

alembic_config = context.config
if alembic_config.config_file_name is not None and alembic_config.attributes.get(
    "configure_logger", True
):
    fileConfig(alembic_config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url() -> str:
    return alembic_config.attributes.get("url") or app_config.database_url()


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = alembic_config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(database_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


# Search structures that only one database has, made by hand in the migrations: SQLite's
# FTS5 trigram table (and its shadow tables) and PostgreSQL's trigram index.
HAND_MADE = ("orders_fts", "ix_orders_search_trgm")


def include_name(name, type_, parent_names) -> bool:  # type: ignore[no-untyped-def]
    return not (name or "").startswith(HAND_MADE)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
