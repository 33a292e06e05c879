"""Review help on Pending orders: the flags a person should see before confirming one.

One query for a whole page of orders, however long: the page's own orders and lines (with
whether their customer ordered before), and every order line that could make one a duplicate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CompoundSelect, bindparam, exists, null, select, tuple_, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter

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


def review_flags(db: Database, placed: Mapping[int, datetime]) -> dict[int, list[str]]:
    """{order id: flags} for each order given as {id: when it was placed} (the page's rows).

    One prebuilt query: the page's orders with their lines and whether their customer
    ordered before, and the lines of the same customers' other orders near them in time.
    """
    flags: dict[int, list[str]] = {order_id: [] for order_id in sorted(placed)}
    if not placed:
        return flags
    window = {
        "ids": sorted(placed),
        "start": min(placed.values()) - DUPLICATE_WINDOW,
        "end": max(placed.values()) + DUPLICATE_WINDOW,
    }
    with db.reading() as session:
        rows = session.execute(REVIEW_QUERY, window).all()
    nearby = _nearby_orders(rows)
    by_contact: dict[int, list[_Seen]] = defaultdict(list)
    for seen in nearby.values():
        if not seen.cancelled:
            by_contact[seen.contact_id].append(seen)
    for row in {row.id: row for row in rows if row.id in flags}.values():
        own = nearby[row.id]
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
PAGE: BindParameter[list[int]] = bindparam("ids", expanding=True)
# Placed before: earlier, or at the same moment with a lower id (one (contact, date) index
# probe each; the OR of the two cases took two).
_ORDERED_BEFORE = exists().where(
    EARLIER.contact_id == Order.contact_id,
    tuple_(EARLIER.created_at, EARLIER.id) < tuple_(Order.created_at, Order.id),
)
_LINE_COLUMNS = (
    Order.id,
    Order.contact_id,
    Order.created_at,
    Order.status,
    Order.item_count,
    OrderItem.sku,
    OrderItem.quantity,
)
_PAGE_LINES = (
    select(*_LINE_COLUMNS, _ORDERED_BEFORE.label("ordered_before"))
    .join(OrderItem, OrderItem.order_id == Order.id)
    .where(Order.id.in_(PAGE))
)
# The same customers' other orders in a coarse window around the whole page (the exact ±24 h
# test per pair is in Python), reached through each customer's (contact, date) index.
_CONTACTS = select(Order.contact_id).where(Order.id.in_(PAGE)).distinct().subquery("contacts")
_NEARBY_LINES = (
    select(*_LINE_COLUMNS, null().label("ordered_before"))
    .select_from(_CONTACTS)
    .join(Order, Order.contact_id == _CONTACTS.c.contact_id)
    .join(OrderItem, OrderItem.order_id == Order.id)
    .where(
        Order.created_at.between(bindparam("start"), bindparam("end")),
        Order.status != OrderStatus.CANCELLED,
        Order.id.not_in(PAGE),
    )
)
REVIEW_QUERY: CompoundSelect = union_all(_PAGE_LINES, _NEARBY_LINES)


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
