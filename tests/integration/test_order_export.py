"""Exports contain exactly the filtered view, safely, on both databases."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import update

from db.models import Order
from domain.enums import Source
from domain.order import OrderStatus
from queries.order_export import CHUNK, ORDER_HEADERS, export_csv, export_excel, safe_cell
from queries.orders import OrderFilter, Sort, Tab
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
        assert values[0] == [h.replace("Date", f"Date ({ZONE.key})") for h in csv_rows[0]]
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


# ---- as an analyst expects: the page's order, real times, phones as typed, labels ----


def sheet_of(data: bytes) -> list[dict]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    headers = [c.value for c in sheet[1]]
    rows = sheet.iter_rows(min_row=2, values_only=True)
    return [dict(zip(headers, row, strict=True)) for row in rows]


def three_orders(db) -> list[str]:
    """ORD-10001..3 placed out of time order, with different totals."""
    placed = [place(db, items=[{"sku": "TEA-001", "quantity": quantity}]) for quantity in (2, 5, 1)]
    days = [3, 1, 2]  # ORD-10002 is the oldest, ORD-10001 the newest
    with db.writing() as session:
        for change, day in zip(placed, days, strict=True):
            moment = datetime(2026, 7, day, 16, 30, 15, tzinfo=UTC)
            session.execute(
                update(Order).where(Order.id == change.order_id).values(created_at=moment)
            )
        session.commit()
    return [change.number for change in placed]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (Sort.NEWEST, ["ORD-10001", "ORD-10003", "ORD-10002"]),
        (Sort.OLDEST, ["ORD-10002", "ORD-10003", "ORD-10001"]),
        (Sort.TOTAL_HIGH, ["ORD-10002", "ORD-10001", "ORD-10003"]),
        (Sort.TOTAL_LOW, ["ORD-10003", "ORD-10001", "ORD-10002"]),
    ],
)
def test_exports_list_the_orders_in_the_sort_chosen_on_the_page(shop, sort, expected):
    three_orders(shop)
    view = {"tab": Tab.ALL, "filters": OrderFilter(), "zone": ZONE, "sort": sort}

    in_csv = [r[0] for r in rows_of(export_csv(shop, kind="orders", **view))[1:]]
    in_excel = [r["Order #"] for r in sheet_of(export_excel(shop, kind="orders", **view))]
    items = [r[0] for r in rows_of(export_csv(shop, kind="items", **view))[1:]]

    assert in_csv == in_excel == items == expected


def test_exports_keep_the_sort_across_chunks(shop, monkeypatch):
    monkeypatch.setattr("queries.order_export.CHUNK", 2)
    three_orders(shop)
    view = {"tab": Tab.ALL, "filters": OrderFilter(), "zone": ZONE, "sort": Sort.OLDEST}

    in_excel = [r["Order #"] for r in sheet_of(export_excel(shop, kind="orders", **view))]
    items = [r["Order #"] for r in sheet_of(export_excel(shop, kind="items", **view))]

    assert in_excel == items == ["ORD-10002", "ORD-10003", "ORD-10001"]


def test_excel_dates_are_date_time_cells_in_the_business_zone_named_in_the_header(shop):
    three_orders(shop)
    data = export_excel(shop, kind="orders", tab=Tab.ALL, filters=OrderFilter(), zone=ZONE)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active

    assert sheet["B1"].value == "Date (America/New_York)"
    cell = sheet["B2"]  # ORD-10001, 16:30:15 UTC on 3 July: 12:30:15 in New York (EDT)
    assert cell.is_date and cell.value == datetime(2026, 7, 3, 12, 30, 15)
    assert cell.number_format == "yyyy-mm-dd hh:mm:ss"
    items = sheet_of(
        export_excel(shop, kind="items", tab=Tab.ALL, filters=OrderFilter(), zone=ZONE)
    )
    assert items[0]["Date (America/New_York)"] == datetime(2026, 7, 3, 12, 30, 15)


def test_excel_phones_and_risky_text_are_text_cells_as_typed_and_csv_keeps_its_guard(shop):
    place(shop, customer__first_name='=HYPERLINK("x")')  # phone +14155552671
    view = {"tab": Tab.ALL, "filters": OrderFilter(), "zone": ZONE}
    sheet = openpyxl.load_workbook(io.BytesIO(export_excel(shop, kind="orders", **view))).active
    headers = [c.value for c in sheet[1]]
    phone = sheet.cell(2, headers.index("Phone") + 1)
    name = sheet.cell(2, headers.index("Customer") + 1)

    assert (phone.value, phone.data_type) == ("+14155552671", "s")
    assert name.value.startswith('=HYPERLINK("x")') and name.data_type == "s"  # text, not "f"
    [row] = rows_of(export_csv(shop, kind="orders", **view))[1:]
    record = dict(zip(ORDER_HEADERS, row, strict=True))
    assert record["Phone"] == "'+14155552671"
    assert record["Customer"].startswith("'=HYPERLINK")


def test_status_payment_and_source_read_as_on_screen(shop):
    change = orders.create_order(shop, order=order_data(), actor="t", source=Source.ASSISTANT)
    orders.confirm_order(shop, order_id=change.order_id, expected_version=None, actor="t")
    view = {"tab": Tab.ALL, "filters": OrderFilter(), "zone": ZONE}

    [row] = rows_of(export_csv(shop, kind="orders", **view))[1:]
    record = dict(zip(ORDER_HEADERS, row, strict=True))
    [excel] = sheet_of(export_excel(shop, kind="orders", **view))

    expected = ("In Progress", "Pending", "Assistant")
    assert (record["Status"], record["Payment"], record["Source"]) == expected
    assert (excel["Status"], excel["Payment"], excel["Source"]) == expected
