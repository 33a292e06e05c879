"""Reports for a date range in the business's time zone, aggregated by the database.

Days are the business's days, not UTC's. SQLite knows no time zones, so rather than ask
the database to convert each timestamp, we hand it the zone's UTC offsets for the range
(they change only at daylight-saving transitions) and let it shift epoch seconds by the
offset in force and divide by 86 400: the same arithmetic on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, cast, distinct, extract, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement, FunctionElement, case

from db.database import Database
from db.models import Order, OrderItem, Product
from db.settings import load_settings
from domain.order import OrderStatus, PaymentStatus
from domain.settings import local_midnight

DAY = 86_400
EPOCH = date(1970, 1, 1)
TOP_PRODUCTS = 10

# Revenue counts what customers are paying for: orders neither cancelled nor refunded.
COUNTED = (Order.status != OrderStatus.CANCELLED) & (Order.payment_status != PaymentStatus.REFUNDED)


class epoch_seconds(FunctionElement[int]):  # noqa: N801 - SQL functions read lower-case
    """Whole seconds since 1970-01-01 UTC of a UTC timestamp column."""

    type = BigInteger()
    name = "epoch_seconds"
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    return str(compiler.process(cast(func.strftime(literal("%s"), column), BigInteger), **kw))


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    return str(compiler.process(cast(func.floor(extract("epoch", column)), BigInteger), **kw))


# ---- what a report holds ---------------------------------------------------------------------


@dataclass(frozen=True)
class DayTotals:
    day: date
    orders: int
    revenue_cents: int


@dataclass(frozen=True)
class Share:
    key: str
    orders: int
    total_cents: int


@dataclass(frozen=True)
class TopProduct:
    sku: str
    name: str
    quantity: int
    orders: int
    sales_cents: int  # line subtotals, before tax


@dataclass(frozen=True)
class ShipBucket:
    label: str
    orders: int


@dataclass(frozen=True)
class ShippingTimes:
    shipped: int
    average_hours: float | None
    median_hours: float | None
    buckets: list[ShipBucket]


@dataclass(frozen=True)
class Report:
    date_from: date
    date_to: date
    timezone: str
    currency: str
    orders: int  # every order placed in the range
    counted_orders: int  # those neither cancelled nor refunded
    revenue_cents: int  # their totals, with tax and shipping
    days: list[DayTotals]
    statuses: list[Share]
    payments: list[Share]
    top_products: list[TopProduct]
    shipping: ShippingTimes

    @property
    def average_order_cents(self) -> int | None:
        if not self.counted_orders:
            return None
        exact = Decimal(self.revenue_cents) / Decimal(self.counted_orders)
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def report(db: Database, *, date_from: date, date_to: date) -> Report:
    """Everything the Reports page shows for the days from `date_from` to `date_to`."""
    if date_to < date_from:
        date_from, date_to = date_to, date_from
    with db.reading() as session:
        settings = load_settings(session)
        zone = settings.zone
        start, end = local_midnight(date_from, zone), local_midnight(date_to + timedelta(1), zone)
        in_range = (Order.created_at >= start, Order.created_at < end)
        orders, counted, revenue = _totals(session, in_range)
        return Report(
            date_from=date_from,
            date_to=date_to,
            timezone=settings.timezone,
            currency=settings.currency,
            orders=orders,
            counted_orders=counted,
            revenue_cents=revenue,
            days=_days(session, in_range, zone, start, end, date_from, date_to),
            statuses=_shares(session, in_range, Order.status, list(OrderStatus)),
            payments=_shares(session, in_range, Order.payment_status, list(PaymentStatus)),
            top_products=_top_products(session, in_range),
            shipping=_shipping(session, in_range),
        )


def _totals(session: Session, in_range: tuple[Any, ...]) -> tuple[int, int, int]:
    row = session.execute(
        select(
            func.count(Order.id),
            func.coalesce(func.sum(case((COUNTED, 1), else_=0)), 0),
            func.coalesce(func.sum(case((COUNTED, Order.total_cents), else_=0)), 0),
        ).where(*in_range)
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


# ---- per day ---------------------------------------------------------------------------------


def _days(
    session: Session,
    in_range: tuple[Any, ...],
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    date_from: date,
    date_to: date,
) -> list[DayTotals]:
    seconds = epoch_seconds(Order.created_at)
    local_day = (seconds + _offset_at(seconds, offset_segments(zone, start, end))) // DAY
    rows = (
        select(
            local_day.label("day"),
            case((COUNTED, Order.total_cents), else_=0).label("revenue"),
        )
        .where(*in_range)
        .subquery()
    )
    # Grouping on a subquery's column keeps both databases happy with the bound offsets.
    found = {
        EPOCH + timedelta(days=int(day)): (int(count), int(revenue))
        for day, count, revenue in session.execute(
            select(rows.c.day, func.count(), func.sum(rows.c.revenue)).group_by(rows.c.day)
        )
    }
    days = []
    day = date_from
    while day <= date_to:
        count, revenue = found.get(day, (0, 0))
        days.append(DayTotals(day, count, revenue))
        day += timedelta(days=1)
    return days


def offset_segments(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[int, int]]:
    """[(epoch second from which it applies, UTC offset in seconds)] across start..end."""
    segments = [(int(start.timestamp()), _offset(zone, start))]
    moment = start
    while moment < end:
        following = min(moment + timedelta(days=1), end)
        if _offset(zone, following) != _offset(zone, moment):
            change = _transition(zone, moment, following)
            segments.append((int(change.timestamp()), _offset(zone, change)))
        moment = following
    return segments


def _offset(zone: ZoneInfo, moment: datetime) -> int:
    offset = moment.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _transition(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The first second at which the offset of `after` applies (bisection)."""
    low, high = before, after
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if _offset(zone, middle) == _offset(zone, low):
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)


def _offset_at(seconds: ColumnElement[int], segments: list[tuple[int, int]]) -> Any:
    if len(segments) == 1:
        return literal(segments[0][1], BigInteger)
    whens = [
        (seconds < starts, literal(offset, BigInteger))
        for (_, offset), (starts, _) in zip(segments, segments[1:], strict=False)
    ]
    return case(*whens, else_=literal(segments[-1][1], BigInteger))


# ---- mixes and products ----------------------------------------------------------------------


def _shares(
    session: Session, in_range: tuple[Any, ...], column: Any, order: list[Any]
) -> list[Share]:
    rows = session.execute(
        select(column, func.count(Order.id), func.coalesce(func.sum(Order.total_cents), 0))
        .where(*in_range)
        .group_by(column)
    ).all()
    found = {key: (int(count), int(total)) for key, count, total in rows}
    return [Share(str(key), *found[key]) for key in order if key in found]


def _top_products(session: Session, in_range: tuple[Any, ...]) -> list[TopProduct]:
    sales = func.sum(OrderItem.subtotal_cents)
    rows = session.execute(
        select(
            Product.sku,
            Product.name,
            func.sum(OrderItem.quantity),
            func.count(distinct(OrderItem.order_id)),
            sales,
        )
        .select_from(OrderItem)
        .join(Order, Order.id == OrderItem.order_id)
        .join(Product, Product.id == OrderItem.product_id)
        .where(*in_range, COUNTED)
        .group_by(Product.id, Product.sku, Product.name)
        .order_by(sales.desc(), Product.sku)
        .limit(TOP_PRODUCTS)
    )
    return [
        TopProduct(sku, name, int(qty), int(orders), int(total))
        for sku, name, qty, orders, total in rows
    ]


# ---- placed to shipped -----------------------------------------------------------------------

SHIP_BUCKETS = (
    (1 * DAY, "under 1 day"),
    (2 * DAY, "1–2 days"),
    (3 * DAY, "2–3 days"),
    (5 * DAY, "3–5 days"),
    (7 * DAY, "5–7 days"),
)
SLOWEST = "7 days or more"


def _shipping(session: Session, in_range: tuple[Any, ...]) -> ShippingTimes:
    duration = epoch_seconds(Order.shipped_at) - epoch_seconds(Order.created_at)
    shipped = (*in_range, Order.shipped_at.is_not(None))
    count, average = session.execute(
        select(func.count(Order.id), func.avg(duration)).where(*shipped)
    ).one()
    if not count:
        return ShippingTimes(0, None, None, [])
    # The median without loading the durations: the middle one or two, by OFFSET.
    middle = (
        session.execute(
            select(duration)
            .where(*shipped)
            .order_by(duration)
            .limit(2 - count % 2)
            .offset((count - 1) // 2)
        )
        .scalars()
        .all()
    )
    median = sum(int(value) for value in middle) / len(middle)
    bucket = case(*((duration < limit, label) for limit, label in SHIP_BUCKETS), else_=SLOWEST)
    rows = select(bucket.label("bucket")).where(*shipped).subquery()
    found: dict[str, int] = dict(
        session.execute(select(rows.c.bucket, func.count()).group_by(rows.c.bucket)).all()
    )
    labels = [label for _, label in SHIP_BUCKETS] + [SLOWEST]
    return ShippingTimes(
        shipped=int(count),
        average_hours=float(average) / 3600,
        median_hours=median / 3600,
        buckets=[ShipBucket(label, int(found.get(label, 0))) for label in labels],
    )
