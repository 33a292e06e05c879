"""Review help on Pending orders: the flags a person should see before confirming one.

Two queries for a whole page of orders, however long: the page's own orders (with whether
their customer ordered before), then every order line that could make one a duplicate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased

from db.database import Database
from db.models import Order, OrderItem
from domain.order import OrderStatus

POSSIBLE_DUPLICATE = "possible duplicate"
LARGE_QUANTITY = "large quantity"
FIRST_ORDER = "first order"

# Same customer, same items (SKU and quantity), placed this close together.
DUPLICATE_WINDOW = timedelta(hours=24)
# A small shop's customer rarely wants 20 of one thing, or 50 things in all.
LARGE_LINE_QUANTITY = 20
LARGE_ITEM_COUNT = 50


@dataclass
class _Seen:
    id: int
    contact_id: int
    created_at: datetime
    cancelled: bool
    lines: list[tuple[str, int]] = field(default_factory=list)

    @property
    def items(self) -> tuple[tuple[str, int], ...]:
        return tuple(sorted(self.lines))


def review_flags(db: Database, order_ids: Iterable[int]) -> dict[int, list[str]]:
    """{order id: flags} for each id given (an empty list when nothing stands out)."""
    ids = sorted(set(order_ids))
    flags: dict[int, list[str]] = {order_id: [] for order_id in ids}
    if not ids:
        return flags
    with db.reading() as session:
        page = session.execute(_page_query(ids)).all()
        if not page:
            return flags
        nearby = _nearby_orders(session.execute(_lines_query(ids, page)).all())
    by_contact: dict[int, list[_Seen]] = defaultdict(list)
    for seen in nearby.values():
        if not seen.cancelled:
            by_contact[seen.contact_id].append(seen)
    for row in page:
        own = nearby.get(row.id) or _Seen(row.id, row.contact_id, row.created_at, False)
        if any(_duplicates(own, other) for other in by_contact[row.contact_id]):
            flags[row.id].append(POSSIBLE_DUPLICATE)
        largest = max((quantity for _, quantity in own.lines), default=0)
        if largest >= LARGE_LINE_QUANTITY or row.item_count >= LARGE_ITEM_COUNT:
            flags[row.id].append(LARGE_QUANTITY)
        if not row.ordered_before:
            flags[row.id].append(FIRST_ORDER)
    return flags


# Made once: building an alias adapts its columns anew, which costs more than the query.
EARLIER = aliased(Order, name="earlier")


def _page_query(ids: list[int]) -> Any:
    earlier = EARLIER
    ordered_before = exists().where(
        earlier.contact_id == Order.contact_id,
        or_(
            earlier.created_at < Order.created_at,
            and_(earlier.created_at == Order.created_at, earlier.id < Order.id),
        ),
    )
    return select(
        Order.id,
        Order.contact_id,
        Order.created_at,
        Order.item_count,
        ordered_before.label("ordered_before"),
    ).where(Order.id.in_(ids))


def _lines_query(ids: list[int], page: Sequence[Any]) -> Any:
    # A coarse window around the whole page; the exact ±24 h test per pair is in Python.
    start = min(row.created_at for row in page) - DUPLICATE_WINDOW
    end = max(row.created_at for row in page) + DUPLICATE_WINDOW
    contacts = sorted({row.contact_id for row in page})
    return (
        select(
            Order.id,
            Order.contact_id,
            Order.created_at,
            Order.status,
            OrderItem.sku,
            OrderItem.quantity,
        )
        .join(OrderItem, OrderItem.order_id == Order.id)
        .where(
            or_(
                Order.id.in_(ids),
                and_(
                    Order.contact_id.in_(contacts),
                    Order.created_at.between(start, end),
                    Order.status != OrderStatus.CANCELLED,
                ),
            )
        )
    )


def _nearby_orders(rows: Sequence[Any]) -> dict[int, _Seen]:
    seen: dict[int, _Seen] = {}
    for row in rows:
        order = seen.setdefault(
            row.id,
            _Seen(row.id, row.contact_id, row.created_at, row.status is OrderStatus.CANCELLED),
        )
        order.lines.append((row.sku, row.quantity))
    return seen


def _duplicates(order: _Seen, other: _Seen) -> bool:
    return (
        other.id != order.id
        and abs(other.created_at - order.created_at) <= DUPLICATE_WINDOW
        and other.items == order.items
    )
