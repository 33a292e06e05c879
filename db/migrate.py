"""Apply Alembic migrations from code: the app on SQLite at start-up, tests, the seed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from db.database import Database

ROOT = Path(__file__).resolve().parent.parent


class SchemaOutOfDate(RuntimeError):
    pass


def alembic_config(db: Database) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    cfg.attributes["url"] = db.url
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    command.upgrade(alembic_config(db), revision)


def downgrade(db: Database, revision: str = "base") -> None:
    command.downgrade(alembic_config(db), revision)


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(db: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()


def ensure_schema(db: Database) -> None:
    """Migrate the embedded SQLite file; on PostgreSQL insist on `alembic upgrade head`.

    Several app replicas may share one PostgreSQL, so none of them migrates it on its own.
    """
    if db.is_sqlite:
        upgrade(db)
        return
    current, head = current_revision(db), head_revision(db)
    if current != head:
        raise SchemaOutOfDate(
            f"The database schema is at {current or 'nothing'}, the app needs {head}. "
            "Run `alembic upgrade head` with the same DATABASE_URL, then reload."
        )
