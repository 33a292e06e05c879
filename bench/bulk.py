"""A bulk confirm of 100 orders beside 100 single confirm_order calls in a loop.

    python3 -m bench.bulk            # SQLite in a temporary file
    BENCH_DATABASE_URL=postgresql+psycopg2://… python3 -m bench.bulk   # and PostgreSQL

The bulk action runs each order through the same service call (own transaction, event,
outbox row), so its floor is the loop of single calls, measured in the same run on orders
placed the same way; the target is a ratio of at most 3. Rounds alternate which goes first,
and the median of each is reported. On PostgreSQL the orders are added to the database
given (its catalogue is loaded if missing); nothing is deleted.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.datasets import Snapshot
from bench.measure import Floor, Row, Section
from bench.measure import Target as RowTarget
from db.database import Database
from db.migrate import upgrade
from db.seed import seed_catalogue
from services import bulk, orders
from services.bulk import Target

COUNT = 100
ROUNDS = 3
TARGET_RATIO = 3.0
ORDER = {
    "customer": {"first_name": "Bench", "last_name": "Mark", "email": "bench@example.com"},
    "items": [{"sku": "TEA-001", "quantity": 1}],
    "shipping": {"street": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"},
}


def _pending(db: Database, count: int) -> list[Target]:
    placed = [orders.create_order(db, order=ORDER, actor="bench") for _ in range(count)]
    return [Target(c.order_id, c.number, c.version, c.status) for c in placed]


def _singles(db: Database, targets: list[Target]) -> float:
    started = time.perf_counter()
    for t in targets:
        orders.confirm_order(db, order_id=t.order_id, expected_version=t.version, actor="bench")
    return time.perf_counter() - started


def _bulk(db: Database, targets: list[Target]) -> float:
    started = time.perf_counter()
    result = bulk.confirm_orders(db, targets, actor="bench")
    elapsed = time.perf_counter() - started
    assert len(result.done) == len(targets), result.summary
    return elapsed


def timings(db: Database, rounds: int = ROUNDS) -> tuple[float, float]:
    """Median seconds of the bulk confirm and of the loop of single calls, in turn."""
    with db.writing() as session:
        seed_catalogue(session)
        session.commit()
    _singles(db, _pending(db, 5))  # warm-up: statements, pool, caches
    singles, bulks = [], []
    for round_ in range(rounds):
        a, b = _pending(db, COUNT), _pending(db, COUNT)
        if round_ % 2:
            bulks.append(_bulk(db, a))
            singles.append(_singles(db, b))
        else:
            singles.append(_singles(db, a))
            bulks.append(_bulk(db, b))
    return statistics.median(bulks), statistics.median(singles)


def measure_rows(section: Section, url: str, *, rounds: int = ROUNDS) -> None:
    """The row for `python -m bench`: on the prepared database, put back as it was after."""
    db = Database(url)
    snapshot = Snapshot.take(db)
    try:
        figure, floor = timings(db, rounds)
    finally:
        snapshot.restore(db)
        db.dispose()
    section.add(
        Row(
            "bulk_confirm",
            f"Bulk confirm of {COUNT} orders",
            figure * 1000,
            "ms",
            [Floor("single_calls", f"{COUNT} single confirm_order calls", floor * 1000)],
            RowTarget("ratio_at_most", TARGET_RATIO),
        )
    )


def measure(url: str) -> float:
    db = Database(url)
    try:
        upgrade(db)
        figure, floor = timings(db)
        ratio = figure / floor
        verdict = "ok" if ratio <= TARGET_RATIO else f"OVER the {TARGET_RATIO:g}x target"
        print(
            f"{db.describe()}: bulk confirm of {COUNT} orders {figure * 1000:.0f} ms; "
            f"{COUNT} single confirm_order calls {floor * 1000:.0f} ms; "
            f"ratio {ratio:.2f}x (target <= {TARGET_RATIO:g}x: {verdict}); "
            f"median of {ROUNDS} rounds, {figure / COUNT * 1000:.1f} ms an order"
        )
        return ratio
    finally:
        db.dispose()


def main() -> int:
    ratios = []
    with tempfile.TemporaryDirectory() as folder:
        ratios.append(measure(f"sqlite:///{Path(folder) / 'bench-bulk.db'}"))
    if url := os.environ.get("BENCH_DATABASE_URL"):
        ratios.append(measure(url))
    return 0 if all(r <= TARGET_RATIO for r in ratios) else 1


if __name__ == "__main__":
    sys.exit(main())
