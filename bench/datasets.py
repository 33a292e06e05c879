"""One prepared database per size, kept between runs, and put back as it was after writes.

SQLite: a file per size beside the one named (`orders.db` → `orders-1000000.db`).
PostgreSQL: a schema per size (`bench_1000000`) in the database named, reached through
`search_path`, so every size stays prepared in one database.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import make_url

import config
from db.database import Database
from db.migrate import upgrade
from db.models import Contact, IdempotencyKey, Notification, Order, OrderEvent, OrderItem
from db.seed import seed_catalogue, seed_orders
from domain.order import OrderStatus


def kind_of(url: str) -> str:
    return "sqlite" if make_url(url).get_backend_name() == "sqlite" else "postgresql"


def sized_url(url: str, size: int) -> str:
    url = config.normalise_database_url(url)
    if kind_of(url) == "sqlite":
        parsed = make_url(url)
        path = Path(parsed.database or "/tmp/bench-sqlite/orders.db")
        return parsed.set(database=str(path.with_stem(f"{path.stem}-{size}"))).render_as_string(
            hide_password=False
        )
    return in_schema(url, schema_of(size))


def schema_of(size: int) -> str:
    return f"bench_{size}"


def in_schema(url: str, schema: str) -> str:
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False)


def fresh_schema(url: str, schema: str) -> str:
    """A URL for an empty, migrated PostgreSQL schema with the sample catalogue."""
    _admin(url, f"DROP SCHEMA IF EXISTS {schema} CASCADE", f"CREATE SCHEMA {schema}")
    db = Database(in_schema(url, schema))
    try:
        upgrade(db)
        with db.writing() as session:
            seed_catalogue(session)
            session.commit()
    finally:
        db.dispose()
    return db.url


@dataclass
class Prepared:
    db: Database
    url: str
    seconds: float  # spent generating orders this time (0 when reused)
    reused: bool


def prepare(url: str, size: int) -> Prepared:
    """A migrated database holding exactly `size` orders, reusing one that already does."""
    target = sized_url(url, size)
    _ensure_schema(url, size)
    db = Database(target)
    upgrade(db)
    count = _orders(db)
    if count == size:
        return Prepared(db, target, 0.0, True)
    if count > size:
        db.dispose()
        _drop(url, size)
        _ensure_schema(url, size)
        db = Database(target)
        upgrade(db)
        count = 0
    print(f"  generating {size - count:,} orders in {db.describe()} …", flush=True)
    started = time.perf_counter()
    seed_orders(db, size - count, seed=size + count, progress=size - count >= 20_000)
    seconds = time.perf_counter() - started
    _settle(db)
    return Prepared(db, target, seconds, False)


def _orders(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(Order)) or 0


def _ensure_schema(url: str, size: int) -> None:
    if kind_of(url) != "sqlite":
        _admin(url, f"CREATE SCHEMA IF NOT EXISTS {schema_of(size)}")


def _drop(url: str, size: int) -> None:
    if kind_of(url) != "sqlite":
        _admin(url, f"DROP SCHEMA IF EXISTS {schema_of(size)} CASCADE")
        return
    path = Path(make_url(sized_url(url, size)).database or "")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _admin(url: str, *statements: str) -> None:
    """Statements on the database itself, outside any schema of ours."""
    admin = Database(config.normalise_database_url(url))
    try:
        with admin.engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        admin.dispose()


def _settle(db: Database) -> None:
    """After a bulk load: statistics and a visibility map, as autovacuum leaves a live table."""
    if db.is_sqlite:
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


# ---- undoing what the benchmarks wrote ----

# Children before parents, so deleting the newest rows never breaks a foreign key.
WRITTEN = (Notification, OrderEvent, OrderItem, IdempotencyKey, Order, Contact)


@dataclass(frozen=True)
class Snapshot:
    """The highest id of each table the benchmarks write to, and pending orders as they were."""

    last_ids: dict[str, int]
    pending: dict[int, tuple[int, datetime]]  # order id → (version, updated_at)

    @classmethod
    def take(cls, db: Database, pending_ids: Iterable[int] = ()) -> Snapshot:
        with db.reading() as session:
            last = {
                model.__tablename__: session.scalar(select(func.max(model.id))) or 0
                for model in WRITTEN
            }
            rows = session.execute(
                select(Order.id, Order.version, Order.updated_at).where(
                    Order.id.in_(list(pending_ids)), Order.status == OrderStatus.PENDING
                )
            ).all()
        return cls(last, {r.id: (r.version, r.updated_at) for r in rows})

    def restore(self, db: Database) -> None:
        """Delete every row added since, and make the noted orders pending again."""
        with db.writing() as session:
            for model in WRITTEN:
                session.execute(delete(model).where(model.id > self.last_ids[model.__tablename__]))
            for order_id, (version, updated_at) in self.pending.items():
                session.execute(
                    update(Order)
                    .where(Order.id == order_id)
                    .values(
                        status=OrderStatus.PENDING,
                        version=version,
                        updated_at=updated_at,
                        confirmed_at=None,
                    )
                )
            session.commit()
        if not db.is_sqlite:
            # The deleted rows' space back at once: with autovacuum off (as on this machine),
            # their dead rows piled up, and each later restore's foreign-key checks scanned
            # them all (a restore had grown to minutes).
            tables = ", ".join(model.__tablename__ for model in WRITTEN)
            with db.single_statements() as connection:
                connection.exec_driver_sql(f"VACUUM {tables}")
