"""Order counts kept by triggers, and indexed text search over orders.

The Orders page shows counts per tab and searches by number, name, e-mail and phone on
every re-run. Counting or LIKE-scanning a million orders each time costs tens to hundreds
of milliseconds, so:

- `order_counts` holds per-status counts, spread over 8 shard rows by order id, and
  triggers on `orders` keep it exact whoever writes (services, the seed, COPY, psql).
  PostgreSQL counts inserts and deletes per statement (so a bulk COPY costs one update per
  shard), status changes per row.
- PostgreSQL gets a trigram GIN index on `orders.search_text` (pg_trgm); SQLite gets an
  FTS5 trigram table over the same column, kept in step by triggers.

Revision ID: 65897ac8eee0
Revises: 6a59f5d83cf2
Create Date: 2026-11-29 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "65897ac8eee0"
down_revision: str | Sequence[str] | None = "6a59f5d83cf2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHARDS = 8
STATUSES = ("pending", "in_progress", "shipped", "completed", "cancelled")

POSTGRESQL_COUNT_TRIGGERS = """
CREATE FUNCTION order_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE order_counts AS c SET n = c.n + d.k
    FROM (SELECT status, id % 8 AS shard, count(*) AS k FROM added GROUP BY 1, 2) AS d
    WHERE c.status = d.status AND c.shard = d.shard;
    RETURN NULL;
END $$;

CREATE FUNCTION order_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE order_counts AS c SET n = c.n - d.k
    FROM (SELECT status, id % 8 AS shard, count(*) AS k FROM removed GROUP BY 1, 2) AS d
    WHERE c.status = d.status AND c.shard = d.shard;
    RETURN NULL;
END $$;

CREATE FUNCTION order_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE order_counts SET n = n - 1 WHERE status = OLD.status AND shard = OLD.id % 8;
    UPDATE order_counts SET n = n + 1 WHERE status = NEW.status AND shard = NEW.id % 8;
    RETURN NULL;
END $$;

CREATE TRIGGER orders_counted_insert AFTER INSERT ON orders
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION order_counts_added();
CREATE TRIGGER orders_counted_delete AFTER DELETE ON orders
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION order_counts_removed();
CREATE TRIGGER orders_counted_status AFTER UPDATE OF status ON orders
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION order_counts_moved();
"""

SQLITE_COUNT_TRIGGERS = [
    """CREATE TRIGGER orders_counted_insert AFTER INSERT ON orders BEGIN
        UPDATE order_counts SET n = n + 1 WHERE status = NEW.status AND shard = NEW.id % 8;
    END""",
    """CREATE TRIGGER orders_counted_delete AFTER DELETE ON orders BEGIN
        UPDATE order_counts SET n = n - 1 WHERE status = OLD.status AND shard = OLD.id % 8;
    END""",
    """CREATE TRIGGER orders_counted_status AFTER UPDATE OF status ON orders
        WHEN OLD.status IS NOT NEW.status BEGIN
        UPDATE order_counts SET n = n - 1 WHERE status = OLD.status AND shard = OLD.id % 8;
        UPDATE order_counts SET n = n + 1 WHERE status = NEW.status AND shard = NEW.id % 8;
    END""",
]

SQLITE_SEARCH = [
    """CREATE VIRTUAL TABLE orders_fts USING fts5(
        search_text, content='orders', content_rowid='id', tokenize='trigram'
    )""",
    """CREATE TRIGGER orders_fts_insert AFTER INSERT ON orders BEGIN
        INSERT INTO orders_fts (rowid, search_text) VALUES (NEW.id, NEW.search_text);
    END""",
    """CREATE TRIGGER orders_fts_delete AFTER DELETE ON orders BEGIN
        INSERT INTO orders_fts (orders_fts, rowid, search_text)
        VALUES ('delete', OLD.id, OLD.search_text);
    END""",
    """CREATE TRIGGER orders_fts_update AFTER UPDATE OF search_text ON orders BEGIN
        INSERT INTO orders_fts (orders_fts, rowid, search_text)
        VALUES ('delete', OLD.id, OLD.search_text);
        INSERT INTO orders_fts (rowid, search_text) VALUES (NEW.id, NEW.search_text);
    END""",
    "INSERT INTO orders_fts (orders_fts) VALUES ('rebuild')",
]

BACKFILL = """
UPDATE order_counts SET n = (
    SELECT count(*) FROM orders
    WHERE orders.status = order_counts.status AND orders.id % 8 = order_counts.shard
)
"""


def upgrade() -> None:
    op.create_table(
        "order_counts",
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("status", "shard", name=op.f("pk_order_counts")),
    )
    rows = [{"status": s, "shard": k, "n": 0} for s in STATUSES for k in range(SHARDS)]
    op.bulk_insert(sa.table("order_counts", sa.column("status"), sa.column("shard"),
                            sa.column("n")), rows)
    op.execute(BACKFILL)
    op.create_index("ix_orders_total", "orders", ["total_cents", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_COUNT_TRIGGERS)
        _postgresql_search_index()
    else:
        for statement in SQLITE_COUNT_TRIGGERS + SQLITE_SEARCH:
            op.execute(statement)


def _postgresql_search_index() -> None:
    # pg_trgm ships with PostgreSQL and is a trusted extension (13+), so a database owner can
    # enable it. Where a host forbids it, search still works, only without the index.
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError:
        return
    # The extension may live in another schema than the app's tables: name its operator class
    # by schema so the index does not depend on the search_path.
    schema = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"
    ).scalar_one()
    op.execute(
        "CREATE INDEX ix_orders_search_trgm ON orders "
        f'USING gin (search_text "{schema}".gin_trgm_ops)'
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_orders_search_trgm")
        for name in ("insert", "delete", "status"):
            op.execute(f"DROP TRIGGER IF EXISTS orders_counted_{name} ON orders")
        for name in ("added", "removed", "moved"):
            op.execute(f"DROP FUNCTION IF EXISTS order_counts_{name}()")
    else:
        for name in ("orders_counted_insert", "orders_counted_delete", "orders_counted_status",
                     "orders_fts_insert", "orders_fts_delete", "orders_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS orders_fts")
    op.drop_index("ix_orders_total", table_name="orders")
    op.drop_table("order_counts")
