"""Packing slips for a busy morning: 100 orders in one PDF (target: within 2 s).

`python3 -m bench.documents [DATABASE_URL]` makes 100 orders of three lines each (a few
with names in other scripts) in the database given — by default a fresh SQLite file in a
temporary folder; give only a scratch database — then times `packing_slips` over all of
them, and the same for invoices once their numbers are issued, and prints the medians.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from db.database import Database
from db.migrate import upgrade
from queries.documents import invoice_documents, packing_slips
from services import orders
from services.invoices import issue_invoice
from tests.builders import add_catalogue, order_data

ORDERS = 100
RUNS = 3
TARGET_SECONDS = 2.0
NAMES = [("Ada", "Lovelace"), ("Zoë", "Núñez"), ("山田", "太郎"), ("Ωmega", "Σmith")]


def make_orders(db: Database) -> list[int]:
    add_catalogue(db)
    items = [
        {"sku": "TEA-001", "quantity": 2},
        {"sku": "MUG-001", "quantity": 1},
        {"sku": "HALF-01", "quantity": 3},
    ]
    ids = []
    for n in range(ORDERS):
        first, last = NAMES[n % len(NAMES)]
        data = order_data(
            customer__first_name=first,
            customer__last_name=last,
            customer__email=f"buyer{n}@example.com",
            items=items,
        )
        ids.append(orders.create_order(db, order=data, actor="bench").order_id)
    return ids


def timed(render: object, db: Database, ids: list[int]) -> tuple[float, int]:
    seconds, size = [], 0
    for _ in range(RUNS):
        started = time.perf_counter()
        size = len(render(db, ids))  # type: ignore[operator]
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), size


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-documents-") as folder:
        url = argv[0] if argv else f"sqlite:///{Path(folder) / 'documents.db'}"
        db = Database(url)
        upgrade(db)
        ids = make_orders(db)
        slips, slip_bytes = timed(packing_slips, db, ids)
        for order_id in ids:
            issue_invoice(db, order_id=order_id, actor="bench")
        bills, bill_bytes = timed(invoice_documents, db, ids)
        db.dispose()
    verdict = "ok" if slips <= TARGET_SECONDS else "OVER TARGET"
    print(
        f"{ORDERS} packing slips in one PDF: {slips:.2f} s "
        f"({slip_bytes / 1024:.0f} KiB; target ≤ {TARGET_SECONDS:.0f} s: {verdict})"
    )
    print(f"{ORDERS} invoices in one PDF: {bills:.2f} s ({bill_bytes / 1024:.0f} KiB)")
    return 0 if slips <= TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
