"""Export exactly the filtered view of the Orders page: CSV and Excel, orders and line items.

Rows come in the order the page shows them (its sort, the order id breaking ties), read in
keyset chunks and written as they come, so an export never holds the whole table in memory.
Status, payment and source read as on screen ("In Progress", "Assistant"). Money is written
as decimals with its currency.

CSV: times as ISO text with their offset, and any text cell a spreadsheet would run as a
formula is neutralised with a leading '. Excel: times are real date-time cells, the
business's wall time, with the zone named in the header; text goes in with write_string,
which makes a text cell that Excel never runs as a formula, so it is written as it is —
a phone number "+1 555…" stays exactly that, with no apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, BinaryIO, cast
from zoneinfo import ZoneInfo

import xlsxwriter
from sqlalchemy import ColumnClause, Select, Table, func, literal, literal_column, select, tuple_

from db.database import Database
from db.models import Order, OrderItem
from domain.cells import safe_cell
from domain.money import to_decimal
from queries.export_sql import ITEM_CELLS, ORDER_CELLS, cells_sql, zone_segments
from queries.orders import SORT_KEYS, OrderFilter, Sort, Tab, order_conditions

CHUNK = 2_000

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


def _stamp(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """The moment in the business's zone, to the second (the CSV writes it as isoformat)."""
    return moment.astimezone(zone).replace(microsecond=0) if moment else None


def csv_text(value: Any) -> Any:
    """A cell as the CSV has it: a time as ISO text with its offset, text made safe."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return safe_cell(value)


def _sorted(query: Any, sort: Sort) -> Any:
    """In the page's order: the sort's column, then the order id, both the same way."""
    column, descending = SORT_KEYS[sort]
    if descending:
        return query.order_by(column.desc(), Order.id.desc())
    return query.order_by(column.asc(), Order.id.asc())


# Plain rows, not ORM objects: building an object per order costs more than the query.
EXPORT_COLUMNS = [
    c for c in cast(Table, Order.__table__).columns if c.key not in ("search_text", "version")
]


def _order_chunks(
    db: Database, tab: Tab, filters: OrderFilter, zone: ZoneInfo, sort: Sort
) -> Iterator[list[Any]]:
    conditions = order_conditions(tab, filters, zone)
    column, descending = SORT_KEYS[sort]
    after: list[Any] = []
    while True:
        with db.reading() as session:
            query = select(*EXPORT_COLUMNS).where(*conditions, *after)
            chunk = list(session.execute(_sorted(query, sort).limit(CHUNK)))
            if not chunk:
                return
            last = chunk[-1]
            key = tuple_(column, Order.id)
            boundary = tuple_(literal(getattr(last, column.key), column.type), literal(last.id))
            after = [key < boundary if descending else key > boundary]
            yield chunk


def order_rows(
    db: Database, tab: Tab, filters: OrderFilter, zone: ZoneInfo, sort: Sort = Sort.NEWEST
) -> Iterator[list[Any]]:
    for chunk in _order_chunks(db, tab, filters, zone, sort):
        for o in chunk:
            yield [
                o.number,
                _stamp(o.created_at, zone),
                o.status.label,
                o.payment_status.label,
                o.source.label,
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


def item_rows(
    db: Database, tab: Tab, filters: OrderFilter, zone: ZoneInfo, sort: Sort = Sort.NEWEST
) -> Iterator[list[Any]]:
    for chunk in _order_chunks(db, tab, filters, zone, sort):
        by_id = {o.id: o for o in chunk}
        place = {o.id: n for n, o in enumerate(chunk)}  # the orders' order on the page
        with db.reading() as session:
            items = session.execute(
                select(*cast(Table, OrderItem.__table__).columns).where(
                    OrderItem.order_id.in_(by_id)
                )
            ).all()
            for item in sorted(items, key=lambda i: (place[i.order_id], i.id)):
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


def export_size(db: Database, *, kind: str, tab: Tab, filters: OrderFilter, zone: ZoneInfo) -> int:
    """How many rows the export will have: what its progress counts towards."""
    orders = cast(Table, Order.__table__)
    source: Any = orders
    if kind == "items":
        source = cast(Table, OrderItem.__table__).join(orders, OrderItem.order_id == Order.id)
    conditions = order_conditions(tab, filters, zone)
    with db.reading() as session:
        return session.execute(
            select(func.count()).select_from(source).where(*conditions)
        ).scalar_one()


# ---- CSV: formatted by the database, written as it is read ----

BOM = "\ufeff".encode()
Progress = Callable[[int], None]  # told the number of rows written so far, now and then


def _csv_line(values: list[str]) -> bytes:
    line = io.StringIO()
    csv.writer(line).writerow(values)
    return line.getvalue().encode()


def _formatted_select(
    db: Database, kind: str, tab: Tab, filters: OrderFilter, zone: ZoneInfo, sort: Sort
) -> Select[Any]:
    """The export as one query over the filtered orders, every cell already text."""
    segments = zone_segments(zone, *_time_span(db))
    cells = ORDER_CELLS if kind == "orders" else ITEM_CELLS
    select_list: ColumnClause[Any] = literal_column(cells_sql(cells, segments, sqlite=db.is_sqlite))
    conditions = order_conditions(tab, filters, zone)
    orders = cast(Table, Order.__table__)
    if kind == "orders":
        return _sorted(select(select_list).select_from(orders).where(*conditions), sort)
    items = cast(Table, OrderItem.__table__)
    query = (
        select(select_list)
        .select_from(items.join(orders, OrderItem.order_id == Order.id))
        .where(*conditions)
    )
    return _sorted(query, sort).order_by(OrderItem.id)


def _time_span(db: Database) -> tuple[datetime, datetime]:
    """From the oldest order to a day past the newest (or now: orders placed meanwhile)."""
    with db.reading() as session:
        oldest, newest = session.execute(
            select(func.min(Order.created_at), func.max(Order.created_at))
        ).one()
    now = datetime.now(UTC)
    return oldest or now, max(newest or now, now) + timedelta(days=1)


def _sqlite_csv(
    db: Database, statement: Select[Any], out: BinaryIO, progress: Progress | None
) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
    writer = csv.writer(text)
    written = 0
    with db.reading() as session:
        # The driver's own cursor: its rows are the finished cells, for csv.writer as they are.
        cursor = session.connection().execute(statement).cursor
        while rows := cursor.fetchmany(CHUNK):
            writer.writerows(rows)
            written += len(rows)
            if progress:
                progress(written)
    text.flush()
    text.detach()
    return written


def _copy_csv(
    db: Database, statement: Select[Any], out: BinaryIO, progress: Progress | None
) -> int:
    with db.reading() as session:
        connection = session.connection()
        compiled = statement.compile(
            dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        params = {k: _plain(v) for k, v in compiled.construct_params().items()}
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        query = cursor.mogrify(compiled.string, params).decode()
        rows = _CopyRows(out, progress)
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, ENCODING 'UTF8')", rows)
        return rows.written


def _plain(value: Any) -> Any:
    """A bound value as the driver takes it (an enum by its stored value)."""
    return value.value if isinstance(value, Enum) else value


class _CopyRows:
    """COPY's rows, ended as csv.writer ends them (CRLF).

    The server sends each row in a message of its own, ending in LF, and psycopg2 hands
    each message to write(); a newline inside a cell is quoted, and never ends a message.
    """

    def __init__(self, out: BinaryIO, progress: Progress | None) -> None:
        self._out = out
        self._progress = progress
        self.written = 0

    def write(self, row: bytes) -> None:
        self._out.write(memoryview(row)[:-1])
        self._out.write(b"\r\n")
        self.written += 1
        if self._progress and self.written % CHUNK == 0:
            self._progress(self.written)


Rows = Callable[[Database, Tab, OrderFilter, ZoneInfo, Sort], Iterator[list[Any]]]
EXPORTS: dict[str, tuple[list[str], Rows]] = {
    "orders": (ORDER_HEADERS, order_rows),
    "items": (ITEM_HEADERS, item_rows),
}


def write_csv(
    db: Database,
    out: BinaryIO,
    *,
    kind: str,
    tab: Tab,
    filters: OrderFilter,
    zone: ZoneInfo,
    sort: Sort = Sort.NEWEST,
    progress: Progress | None = None,
) -> int:
    """Write the CSV export to `out` as it is read; returns the number of rows written.

    The database formats every cell (money, zone, labels, formula guard) so the rows go
    from its cursor to the file untouched: on PostgreSQL through COPY, on SQLite through
    csv.writer. The bytes are those the row builders above would give, written by
    csv.writer with a BOM.
    """
    headers = EXPORTS[kind][0]
    out.write(BOM + _csv_line(headers))
    statement = _formatted_select(db, kind, tab, filters, zone, sort)
    if db.is_sqlite:
        return _sqlite_csv(db, statement, out, progress)
    return _copy_csv(db, statement, out, progress)


def export_csv(db: Database, **view: Any) -> bytes:
    """The whole CSV file at once: for small exports and tests; pages use write_csv.
    `view`: write_csv's keywords (kind, tab, filters, zone and, if not the newest first, sort)."""
    return _all_at_once(write_csv, db, view)


def _all_at_once(write: Callable[..., int], db: Database, view: dict[str, Any]) -> bytes:
    with io.BytesIO() as out:
        write(db, out, **view)
        return out.getvalue()


def write_excel(
    db: Database,
    out: BinaryIO,
    *,
    kind: str,
    tab: Tab,
    filters: OrderFilter,
    zone: ZoneInfo,
    sort: Sort = Sort.NEWEST,
    progress: Progress | None = None,
) -> int:
    """Write the Excel export to `out`; returns the number of rows written."""
    headers, rows = EXPORTS[kind]
    # constant_memory streams rows to disk as they are written.
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet("Orders" if kind == "orders" else "Line items")
    bold = book.add_format({"bold": True})
    formats = {
        "money": book.add_format({"num_format": "#,##0.00"}),
        "time": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
    }
    sheet.write_row(0, 0, [excel_header(h, zone) for h in headers], bold)
    sheet.set_column(headers.index("Date"), headers.index("Date"), 19)
    written = 0
    for written, row in enumerate(rows(db, tab, filters, zone, sort), start=1):
        for column, value in enumerate(row):
            _write(sheet, written, column, value, formats)
        if progress and written % CHUNK == 0:
            progress(written)
    book.close()
    return written


def excel_header(header: str, zone: ZoneInfo) -> str:
    """The Excel header: its time cells hold wall time, so the column names the zone."""
    return f"Date ({zone})" if header == "Date" else header


def export_excel(db: Database, **view: Any) -> bytes:
    """The whole workbook at once: for small exports and tests; pages use write_excel."""
    return _all_at_once(write_excel, db, view)


def _write(sheet: Any, row: int, column: int, value: Any, formats: dict[str, Any]) -> None:
    if isinstance(value, Decimal):
        sheet.write_number(row, column, float(value), formats["money"])
    elif isinstance(value, datetime):  # Excel times have no zone: the business's wall time
        sheet.write_datetime(row, column, value.replace(tzinfo=None), formats["time"])
    elif isinstance(value, int):
        sheet.write_number(row, column, value)
    elif value is None:
        sheet.write_blank(row, column, None)
    else:
        # A text cell, never run as a formula: written as it is, without safe_cell's '.
        sheet.write_string(row, column, value)
