"""The database-formatted CSV export is byte for byte what the Python row builders give.

`reference_csv` is the implementation the fast export replaced: the rows that
queries.order_export builds in Python (and the Excel export writes), put through csv_text
(safe_cell, and times as ISO text) and csv.writer. Every export here must equal its output,
on tricky data: formulas, quotes, commas, newlines, NULLs, unicode, and times at DST edges.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from db.models import Order, OrderItem
from domain.enums import Source
from domain.order import OrderStatus, PaymentStatus
from queries.order_export import EXPORTS, csv_text, export_csv, write_csv
from queries.orders import OrderFilter, Sort, Tab
from services import orders
from tests.builders import add_catalogue, order_data

# ---- the reference: the export's rows built in Python, as the Excel export writes them ----


def reference_csv(db, *, kind, tab, filters, zone, sort=Sort.NEWEST) -> bytes:
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    headers, rows = EXPORTS[kind]
    writer.writerow(headers)
    for row in rows(db, tab, filters, zone, sort):
        writer.writerow([csv_text(value) for value in row])
    return ("\ufeff" + text.getvalue()).encode()


# ---- tricky data ----

NEW_YORK = ZoneInfo("America/New_York")
ZONES = [NEW_YORK, ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Kolkata"),
         ZoneInfo("America/St_Johns"), ZoneInfo("Australia/Lord_Howe"), UTC]  # fmt: skip

TRICKY: list[dict[str, Any]] = [
    # formula-like cells in every free-text column
    {
        "customer_first_name": '=HYPERLINK("x")',
        "customer_last_name": "+1",
        "ship_street": "-2 St",
        "ship_city": "@city",
        "ship_state": "\tTab",
        "ship_zip": "\r99",
        "carrier": "=cmd",
        "tracking_number": "+TRK",
        "external_ref": "@ref",
        "items_summary": "-x",
        "customer_phone": "+14155550000",
    },  # fmt: skip
    # quotes, commas, newlines; empty strings and NULLs
    {
        "customer_first_name": 'Ann "the" Q',
        "customer_last_name": "Smith, Jr.",
        "ship_street": "1 Line\nTwo",
        "ship_apartment": None,
        "customer_phone": None,
        "carrier": "",
        "external_ref": "line\r\nbreak",
        "items_summary": "",
    },  # fmt: skip
    # unicode, and a cell that is only a quote or only a backslash-dot
    {
        "customer_first_name": "Zoë",
        "customer_last_name": "Ωmega 😀",
        "ship_city": "Köln",
        "ship_apartment": '"',
        "tracking_number": "\\.",
        "ship_state": " ",
    },  # fmt: skip
    # a first name that is empty: the customer cell starts with a space, and is not a formula
    {"customer_first_name": "", "customer_last_name": "=NotAFormula"},
    # money at its edges
    {"subtotal_cents": 0, "tax_cents": 5, "shipping_cents": 10_000_000_000_07, "total_cents": -5},
]
# UTC moments at and around DST changes (New York, Berlin, St John's, Lord Howe), with
# fractions that a millisecond-rounding clock would carry into the next second.
MOMENTS = [
    datetime(2026, 3, 8, 6, 59, 59, 999_999, tzinfo=UTC),
    datetime(2026, 3, 8, 7, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 1, 5, 59, 59, 999_600, tzinfo=UTC),
    datetime(2026, 11, 1, 6, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 3, 29, 0, 59, 59, 999_500, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC),
    datetime(2026, 10, 25, 0, 59, 59, tzinfo=UTC),
    datetime(2026, 3, 8, 5, 29, 59, 999_999, tzinfo=UTC),
    datetime(2026, 3, 8, 5, 30, tzinfo=UTC),
    datetime(2026, 4, 4, 14, 59, 59, tzinfo=UTC),
    datetime(2026, 4, 4, 15, 0, tzinfo=UTC),
    datetime(2019, 7, 1, 12, 0, tzinfo=UTC),
]


@pytest.fixture
def tricky(db):
    add_catalogue(db)
    statuses = list(OrderStatus)
    payments = list(PaymentStatus)
    for index, moment in enumerate(MOMENTS):
        items = [{"sku": "TEA-001", "quantity": 1 + index}, {"sku": "MUG-001", "quantity": 2}]
        placed = orders.create_order(db, order=order_data(items=items), actor="t")
        changes: dict[str, Any] = {
            "created_at": moment,
            "status": statuses[index % len(statuses)],
            "payment_status": payments[index % len(payments)],
            "source": list(Source)[index % len(Source)],
            **TRICKY[index % len(TRICKY)],
        }
        with db.writing() as session:
            session.execute(update(Order).where(Order.id == placed.order_id).values(**changes))
            session.execute(
                update(OrderItem)
                .where(OrderItem.order_id == placed.order_id, OrderItem.quantity == 2)
                .values(name='=Mug, "big"\nnew', sku="-SKU")
            )
            session.commit()
    return db


FILTERS = [
    (Tab.ALL, OrderFilter()),
    (Tab.PENDING, OrderFilter()),
    (Tab.CURRENT, OrderFilter(payments=(PaymentStatus.PAID, PaymentStatus.PENDING))),
    (Tab.ALL, OrderFilter(statuses=(OrderStatus.SHIPPED, OrderStatus.CANCELLED))),
    (Tab.ALL, OrderFilter(sources=(Source.ASSISTANT,), text="ada")),
    (Tab.ALL, OrderFilter(text="ada@ex 41555")),
    (Tab.ALL, OrderFilter(text="%_\\")),
    (Tab.ALL, OrderFilter(text='o\'b "x" ; drop')),  # quoted safely into the COPY
    (Tab.ALL, OrderFilter(text="lovelace")),  # a match that the quote filter above misses
    (Tab.ALL, OrderFilter(date_from=date(2026, 3, 8), date_to=date(2026, 3, 8))),
    (Tab.ALL, OrderFilter(date_from=date(2026, 11, 1))),
    (Tab.ALL, OrderFilter(date_to=date(2026, 3, 28))),
]


@pytest.mark.parametrize("zone", ZONES, ids=str)
@pytest.mark.parametrize("kind", ["orders", "items"])
def test_every_filter_exports_the_same_bytes_as_before(tricky, kind, zone):
    for tab, filters in FILTERS:
        expected = reference_csv(tricky, kind=kind, tab=tab, filters=filters, zone=zone)
        got = export_csv(tricky, kind=kind, tab=tab, filters=filters, zone=zone)
        assert got == expected, (tab, filters)
    everything = export_csv(tricky, kind=kind, tab=Tab.ALL, filters=OrderFilter(), zone=zone)
    assert len(list(csv.reader(io.StringIO(everything.decode("utf-8-sig"))))) > len(MOMENTS)
    assert b"'=HYPERLINK" in everything  # the tricky data is really there
    if kind == "orders":
        assert b'"1 Line\nTwo"' in everything and "Ωmega 😀".encode() in everything


@pytest.mark.parametrize("kind", ["orders", "items"])
def test_every_sort_exports_the_same_bytes_in_the_order_the_page_shows(tricky, kind):
    from queries.orders import list_orders

    for sort in Sort:
        expected = reference_csv(
            tricky, kind=kind, tab=Tab.ALL, filters=OrderFilter(), zone=NEW_YORK, sort=sort
        )
        got = export_csv(
            tricky, kind=kind, tab=Tab.ALL, filters=OrderFilter(), zone=NEW_YORK, sort=sort
        )
        assert got == expected, sort
        shown = [r.number for r in list_orders(tricky, tab=Tab.ALL, sort=sort, page_size=50).rows]
        numbers = [row[0] for row in csv.reader(io.StringIO(got.decode("utf-8-sig")))][1:]
        assert list(dict.fromkeys(numbers)) == shown, sort


def test_a_long_export_streams_to_a_file_and_reports_progress(db, tmp_path):
    from db.seed import seed_orders
    from queries.order_export import CHUNK

    seed_orders(db, CHUNK * 2 + 7, batch=1000)
    seen: list[int] = []
    target = tmp_path / "orders.csv"
    with target.open("wb") as out:
        written = write_csv(db, out, kind="orders", tab=Tab.ALL, filters=OrderFilter(),
                            zone=NEW_YORK, progress=seen.append)  # fmt: skip
    assert written == CHUNK * 2 + 7
    assert seen[:2] == [CHUNK, CHUNK * 2]
    assert target.read_bytes() == reference_csv(
        db, kind="orders", tab=Tab.ALL, filters=OrderFilter(), zone=NEW_YORK
    )
