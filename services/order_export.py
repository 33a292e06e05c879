"""Export exactly the filtered view of the Orders page: CSV and Excel, orders and line items.

Rows are read in keyset chunks and written as they come, so an export never holds the whole
table in memory. Money is written as decimals with its currency, times with their zone, and
any text cell a spreadsheet would run as a formula is neutralised.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, BinaryIO, cast
from zoneinfo import ZoneInfo

import xlsxwriter
from sqlalchemy import Table, select

from db.database import Database
from db.models import Order, OrderItem
from domain.money import to_decimal
from services.queries import OrderFilter, Tab, order_conditions

CHUNK = 2_000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

ORDER_HEADERS = [
    "Order #",
    "Date",
    "Status",
    "Payment",
    "Source",
    "Customer",
    "Email",
    "Phone",
    "Items",
    "Item count",
    "Subtotal",
    "Tax",
    "Shipping",
    "Total",
    "Currency",
    "Street",
    "Apartment/Suite",
    "City",
    "State",
    "ZIP Code",
    "Country",
    "Carrier",
    "Tracking number",
    "Conversation",
]
ITEM_HEADERS = [
    "Order #",
    "Date",
    "Status",
    "Customer",
    "Email",
    "SKU",
    "Product",
    "Quantity",
    "Unit price",
    "Line subtotal",
    "Line tax",
    "Line total",
    "Currency",
]


def safe_cell(value: Any) -> Any:
    """Text a spreadsheet would evaluate (=, +, -, @, tab, CR first) is prefixed with '."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _stamp(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds") if moment else ""


# Plain rows, not ORM objects: building an object per order costs more than the query.
EXPORT_COLUMNS = [
    c for c in cast(Table, Order.__table__).columns if c.key not in ("search_text", "version")
]


def _order_chunks(
    db: Database, tab: Tab, filters: OrderFilter, zone: ZoneInfo
) -> Iterator[list[Any]]:
    conditions = order_conditions(tab, filters, zone)
    last_id = 0
    while True:
        with db.reading() as session:
            chunk = list(
                session.execute(
                    select(*EXPORT_COLUMNS)
                    .where(*conditions, Order.id > last_id)
                    .order_by(Order.id)
                    .limit(CHUNK)
                )
            )
            if not chunk:
                return
            last_id = chunk[-1].id
            yield chunk


def order_rows(db: Database, tab: Tab, filters: OrderFilter, zone: ZoneInfo) -> Iterator[list[Any]]:
    for chunk in _order_chunks(db, tab, filters, zone):
        for o in chunk:
            yield [
                o.number,
                _stamp(o.created_at, zone),
                o.status.label,
                o.payment_status.label,
                o.source.value,
                f"{o.customer_first_name} {o.customer_last_name}",
                o.customer_email,
                o.customer_phone or "",
                o.items_summary,
                o.item_count,
                to_decimal(o.subtotal_cents),
                to_decimal(o.tax_cents),
                to_decimal(o.shipping_cents),
                to_decimal(o.total_cents),
                o.currency,
                o.ship_street,
                o.ship_apartment or "",
                o.ship_city,
                o.ship_state,
                o.ship_zip,
                o.ship_country,
                o.carrier or "",
                o.tracking_number or "",
                o.external_ref or "",
            ]


def item_rows(db: Database, tab: Tab, filters: OrderFilter, zone: ZoneInfo) -> Iterator[list[Any]]:
    for chunk in _order_chunks(db, tab, filters, zone):
        by_id = {o.id: o for o in chunk}
        with db.reading() as session:
            items = session.execute(
                select(*cast(Table, OrderItem.__table__).columns)
                .where(OrderItem.order_id.in_(by_id))
                .order_by(OrderItem.order_id, OrderItem.id)
            )
            for item in items:
                o = by_id[item.order_id]
                yield [
                    o.number,
                    _stamp(o.created_at, zone),
                    o.status.label,
                    f"{o.customer_first_name} {o.customer_last_name}",
                    o.customer_email,
                    item.sku,
                    item.name,
                    item.quantity,
                    to_decimal(item.unit_price_cents),
                    to_decimal(item.subtotal_cents),
                    to_decimal(item.tax_cents),
                    to_decimal(item.total_cents),
                    o.currency,
                ]


Rows = Callable[[Database, Tab, OrderFilter, ZoneInfo], Iterator[list[Any]]]
EXPORTS: dict[str, tuple[list[str], Rows]] = {
    "orders": (ORDER_HEADERS, order_rows),
    "items": (ITEM_HEADERS, item_rows),
}


def export_csv(db: Database, *, kind: str, tab: Tab, filters: OrderFilter, zone: ZoneInfo) -> bytes:
    headers, rows = EXPORTS[kind]
    with tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+b") as spool:
        text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")
        writer = csv.writer(text)
        writer.writerow(headers)
        for row in rows(db, tab, filters, zone):
            writer.writerow([safe_cell(value) for value in row])
        text.flush()
        return _read_all(text.detach())


def export_excel(
    db: Database, *, kind: str, tab: Tab, filters: OrderFilter, zone: ZoneInfo
) -> bytes:
    headers, rows = EXPORTS[kind]
    with tempfile.TemporaryFile() as handle:
        # constant_memory streams rows to disk as they are written.
        book = xlsxwriter.Workbook(handle, {"constant_memory": True, "strings_to_formulas": False})
        sheet = book.add_worksheet("Orders" if kind == "orders" else "Line items")
        bold = book.add_format({"bold": True})
        money_format = book.add_format({"num_format": "#,##0.00"})
        sheet.write_row(0, 0, headers, bold)
        for index, row in enumerate(rows(db, tab, filters, zone), start=1):
            for column, value in enumerate(row):
                _write(sheet, index, column, value, money_format)
        book.close()
        return _read_all(handle)


def _write(sheet: Any, row: int, column: int, value: Any, money_format: Any) -> None:
    from decimal import Decimal

    if isinstance(value, Decimal):
        sheet.write_number(row, column, float(value), money_format)
    elif isinstance(value, int):
        sheet.write_number(row, column, value)
    else:
        sheet.write_string(row, column, safe_cell(value))


def _read_all(handle: BinaryIO | Any) -> bytes:
    handle.seek(0)
    return handle.read()
