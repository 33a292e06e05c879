"""The per-status order counts that triggers keep in `order_counts` (see its migration)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from db.models import ORDER_COUNT_SHARDS
from domain.order import OrderStatus

RECOUNT = text(
    "INSERT INTO order_counts (status, shard, n) "
    "SELECT status, id % :shards, count(*) FROM orders GROUP BY status, id % :shards"
)


def rebuild_order_counts(connection: Connection) -> None:
    """Recount from `orders` — after a TRUNCATE, which fires no row or statement triggers."""
    connection.execute(text("DELETE FROM order_counts"))
    connection.execute(RECOUNT, {"shards": ORDER_COUNT_SHARDS})
    present = {
        (s, k) for s, k in connection.execute(text("SELECT status, shard FROM order_counts"))
    }
    missing = [
        {"status": status.value, "shard": shard}
        for status in OrderStatus
        for shard in range(ORDER_COUNT_SHARDS)
        if (status.value, shard) not in present
    ]
    if missing:
        connection.execute(
            text("INSERT INTO order_counts (status, shard, n) VALUES (:status, :shard, 0)"), missing
        )
