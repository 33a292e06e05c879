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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fpdf import FPDF

from bench.datasets import _admin, in_schema, kind_of
from bench.measure import Floor, Row, Section, Target, medians
from db.database import Database
from db.migrate import upgrade
from queries import pdf
from queries.documents import document_orders, invoice_documents, packing_slips
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


SLIPS_TARGET = Target("at_most", TARGET_SECONDS * 1000, "ms")
SCHEMA = "bench_documents"


def plain_pages(texts: list[list[str]], fallback: bool) -> bytes:
    """The floor: fpdf2 writing a page of plain text per order with the slips' fonts."""
    document = FPDF(format="letter", unit="mm")
    document.add_font(pdf.FONT, "", pdf.FONTS / "DejaVuSans.ttf")
    document.add_font(pdf.FONT, "B", pdf.FONTS / "DejaVuSans-Bold.ttf")
    if fallback:
        document.add_font(pdf.FALLBACK, "", pdf.FONTS / "DroidSansFallback.ttf")
        document.set_fallback_fonts([pdf.FALLBACK], exact_match=False)
    for lines in texts:
        document.add_page()
        document.set_font(pdf.FONT, "B", 15)
        document.cell(0, 7, lines[0], new_x="LMARGIN", new_y="NEXT")
        document.set_font(pdf.FONT, "", 10)
        for line in lines[1:]:
            document.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(document.output())


@contextmanager
def scratch(url: str) -> Iterator[Database]:
    """An empty migrated database: a SQLite file in a temporary folder, or a schema of its
    own beside the prepared ones on PostgreSQL (dropped again afterwards)."""
    if kind_of(url) == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-documents-") as folder:
            db = Database(f"sqlite:///{Path(folder) / 'documents.db'}")
            try:
                upgrade(db)
                yield db
            finally:
                db.dispose()
        return
    _admin(url, f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE", f"CREATE SCHEMA {SCHEMA}")
    db = Database(in_schema(url, SCHEMA))
    try:
        upgrade(db)
        yield db
    finally:
        db.dispose()
        _admin(url, f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def measure_rows(section: Section, url: str, *, runs: int) -> None:
    """The row for `python -m bench`: the slips of 100 orders (three lines each, some names
    in other scripts) beside plain pages of the same people's texts in the same fonts."""
    with scratch(url) as db:
        ids = make_orders(db)
        settings, found = document_orders(db, ids)
        texts = [[settings.business_name, *pdf.texts_of([order])] for order in found]
        covered = FPDF()
        covered.add_font(pdf.FONT, "", pdf.FONTS / "DejaVuSans.ttf")
        cmap = covered.fonts[pdf.FONT].cmap  # type: ignore[union-attr]
        fallback = any(ord(c) not in cmap for lines in texts for c in "".join(lines))
        timing = medians(
            {
                "slips": lambda: packing_slips(db, ids),
                "floor": lambda: plain_pages(texts, fallback),
            },
            runs=runs,
        )
    section.add(
        Row(
            "packing_slips",
            f"{ORDERS} packing slips in one PDF",
            timing["slips"],
            "ms",
            [Floor("plain_pages", f"fpdf2: {ORDERS} pages of their text, same fonts",
                   timing["floor"])],
            SLIPS_TARGET,
        )
    )  # fmt: skip


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
