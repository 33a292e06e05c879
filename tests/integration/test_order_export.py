"""Exports contain exactly the filtered view, safely, on both databases."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from domain.enums import Source
from domain.order import OrderStatus
from queries.order_export import CHUNK, export_csv, export_excel, safe_cell
from queries.orders import OrderFilter, Tab
from services import orders
from tests.builders import add_catalogue, order_data

ZONE = ZoneInfo("America/New_York")


@pytest.fixture
def shop(db):
    add_catalogue(db)
    return db


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def place(db, **changes):
    return orders.create_order(db, order=order_data(**changes), actor="t")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+1 555", "'+1 555"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ada", "Ada"),
        (42, 42),
    ],
)
def test_cells_a_spreadsheet_would_run_are_neutralised(value, expected):
    assert safe_cell(value) == expected


def test_the_orders_csv_has_one_row_per_filtered_order(shop):
    place(shop)
    second = place(shop, customer__first_name='=HYPERLINK("x")')
    orders.confirm_order(shop, order_id=second.order_id, expected_version=None, actor="t")
    data = export_csv(shop, kind="orders", tab=Tab.PENDING, filters=OrderFilter(), zone=ZONE)
    rows = rows_of(data)
    assert rows[0][:4] == ["Order #", "Date", "Status", "Payment"]
    assert [r[0] for r in rows[1:]] == ["ORD-10001"]
    everything = rows_of(
        export_csv(shop, kind="orders", tab=Tab.ALL, filters=OrderFilter(), zone=ZONE)
    )
    assert len(everything) == 3
    hostile = next(r for r in everything if r[0] == "ORD-10002")
    assert hostile[5].startswith("'=HYPERLINK")


def test_money_is_decimal_and_times_carry_their_zone(shop):
    place(shop)
    row = rows_of(export_csv(shop, kind="orders", tab=Tab.ALL, filters=OrderFilter(), zone=ZONE))[1]
    headers = rows_of(
        export_csv(shop, kind="orders", tab=Tab.ALL, filters=OrderFilter(), zone=ZONE)
    )[0]
    record = dict(zip(headers, row, strict=True))
    assert (record["Subtotal"], record["Tax"], record["Shipping"], record["Total"]) == (
        "24.00",
        "1.98",
        "5.00",
        "30.98",
    )
    assert record["Currency"] == "USD"
    assert record["Date"].endswith(("-05:00", "-04:00"))


def test_line_items_have_one_row_per_item_of_the_filtered_orders(shop):
    place(shop, items=[{"sku": "TEA-001", "quantity": 1}, {"sku": "MUG-001", "quantity": 3}])
    place(shop, customer__email="other@example.com")
    filters = OrderFilter(text="ada@example.com")
    rows = rows_of(export_csv(shop, kind="items", tab=Tab.ALL, filters=filters, zone=ZONE))
    assert rows[0][5:8] == ["SKU", "Product", "Quantity"]
    assert sorted((r[0], r[5], r[7]) for r in rows[1:]) == [
        ("ORD-10001", "MUG-001", "3"),
        ("ORD-10001", "TEA-001", "1"),
    ]


def test_the_excel_export_matches_the_csv(shop):
    place(shop, customer__last_name="@risky")
    for kind in ("orders", "items"):
        data = export_excel(shop, kind=kind, tab=Tab.ALL, filters=OrderFilter(), zone=ZONE)
        sheet = openpyxl.load_workbook(io.BytesIO(data)).active
        values = [[c.value for c in row] for row in sheet.iter_rows()]
        csv_rows = rows_of(
            export_csv(shop, kind=kind, tab=Tab.ALL, filters=OrderFilter(), zone=ZONE)
        )
        assert values[0] == csv_rows[0]
        assert len(values) == len(csv_rows) == 2
    orders_sheet = openpyxl.load_workbook(
        io.BytesIO(export_excel(shop, kind="orders", tab=Tab.ALL, filters=OrderFilter(), zone=ZONE))
    ).active
    record = dict(
        zip([c.value for c in orders_sheet[1]], [c.value for c in orders_sheet[2]], strict=True)
    )
    assert record["Total"] == 30.98
    assert record["Customer"] == "Ada @risky"  # harmless unless it leads the cell
    assert not any(isinstance(c.value, str) and c.value.startswith("=") for c in orders_sheet[2])


def test_exports_stream_past_one_chunk(shop):
    from db.seed import seed_orders

    seed_orders(shop, CHUNK + 5, batch=1000)
    rows = rows_of(export_csv(shop, kind="orders", tab=Tab.ALL, filters=OrderFilter(), zone=ZONE))
    assert len(rows) == CHUNK + 6
    assert len({r[0] for r in rows[1:]}) == CHUNK + 5


def test_an_empty_view_exports_just_the_headers(shop):
    rows = rows_of(
        export_csv(
            shop,
            kind="orders",
            tab=Tab.ALL,
            filters=OrderFilter(statuses=(OrderStatus.CANCELLED,), sources=(Source.ASSISTANT,)),
            zone=ZONE,
        )
    )
    assert len(rows) == 1
