"""What the customer's status page shows: plain data, with nothing they should not see.

Read by order id (the one a signed link names). The shipping city only — never the street,
the e-mail or the phone — and of the timeline only the steps the customer was part of:
placed, confirmed, shipped, completed or cancelled, refunded. Staff notes, actors, review
flags, edits and notification problems never leave the database here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, select

from db.database import Database
from db.models import Order, OrderEvent, OrderItem
from db.settings import settings_from, stored_settings
from domain.enums import EventKind
from domain.order import PAYMENT_COLOURS, STATUS_COLOURS, OrderStatus, PaymentStatus

# What the customer reads for each step of the timeline, keyed by (kind, to_value).
STEP_LABELS = {
    (EventKind.CREATED, OrderStatus.PENDING.value): "Order placed",
    (EventKind.STATUS, OrderStatus.SHIPPED.value): "Shipped",
    (EventKind.STATUS, OrderStatus.COMPLETED.value): "Delivered",
    (EventKind.STATUS, OrderStatus.CANCELLED.value): "Cancelled",
    (EventKind.PAYMENT, PaymentStatus.REFUNDED.value): "Refunded",
}
CONFIRMED = "Confirmed"
PREPARED_AGAIN = "Being prepared again"

# What the status means to the customer, under the badge.
STATUS_EXPLAINED = {
    OrderStatus.PENDING: "We have your order and will confirm it shortly.",
    OrderStatus.IN_PROGRESS: "Your order is confirmed and being prepared.",
    OrderStatus.SHIPPED: "Your order is on its way.",
    OrderStatus.COMPLETED: "Your order has been delivered. Thank you!",
    OrderStatus.CANCELLED: "This order has been cancelled.",
}
CUSTOMER_STATUS_LABELS = {
    OrderStatus.PENDING: "Received",
    OrderStatus.IN_PROGRESS: "Being prepared",
    OrderStatus.SHIPPED: "Shipped",
    OrderStatus.COMPLETED: "Delivered",
    OrderStatus.CANCELLED: "Cancelled",
}


@dataclass(frozen=True)
class LineView:
    name: str
    quantity: int
    subtotal_cents: int  # before tax, which the page shows once for the order


@dataclass(frozen=True)
class StepView:
    label: str
    at: datetime  # in the business's time zone


@dataclass(frozen=True)
class StatusPage:
    business_name: str
    number: str
    placed_at: datetime  # in the business's time zone
    status: str  # the customer's word for it
    status_colour: str
    status_explained: str
    payment_status: str
    payment_colour: str
    currency: str
    subtotal_cents: int
    tax_cents: int
    shipping_cents: int
    total_cents: int
    city: str
    carrier: str | None  # only once shipped
    tracking_number: str | None
    tracking_url: str | None
    items: list[LineView]
    history: list[StepView]  # oldest first


CUSTOMER_EVENTS = (EventKind.CREATED, EventKind.STATUS, EventKind.PAYMENT)
SHIPPED = frozenset({OrderStatus.SHIPPED, OrderStatus.COMPLETED})


# Built once: the page is served per click, and building the statements cost more CPU
# than sending them.
ORDERS = cast(Table, Order.__table__)
ITEMS = cast(Table, OrderItem.__table__)
EVENTS = cast(Table, OrderEvent.__table__)
ORDER = select(
    ORDERS.c.number,
    ORDERS.c.status,
    ORDERS.c.payment_status,
    ORDERS.c.currency,
    ORDERS.c.subtotal_cents,
    ORDERS.c.tax_cents,
    ORDERS.c.shipping_cents,
    ORDERS.c.total_cents,
    ORDERS.c.ship_city,
    ORDERS.c.carrier,
    ORDERS.c.tracking_number,
    ORDERS.c.tracking_url,
    ORDERS.c.created_at,
    # The settings ride along: one round trip fewer.
    stored_settings().label("stored_settings"),
).where(ORDERS.c.id == bindparam("order_id"))
LINES = (
    select(ITEMS.c.name, ITEMS.c.quantity, ITEMS.c.subtotal_cents)
    .where(ITEMS.c.order_id == bindparam("order_id"))
    .order_by(ITEMS.c.id)
)
STEPS = (
    select(EVENTS.c.kind, EVENTS.c.from_value, EVENTS.c.to_value, EVENTS.c.created_at)
    .where(EVENTS.c.order_id == bindparam("order_id"), EVENTS.c.kind.in_(CUSTOMER_EVENTS))
    .order_by(EVENTS.c.created_at, EVENTS.c.id)
)


def status_page(db: Database, *, order_id: int) -> StatusPage | None:
    """The customer's view of one order, or None when there is no such order."""
    wanted = {"order_id": order_id}
    with db.reading() as session:
        order = session.execute(ORDER, wanted).first()
        if order is None:
            return None
        settings = settings_from(order.stored_settings or {})
        items = session.execute(LINES, wanted).all()
        events = session.execute(STEPS, wanted).all()
    zone = settings.zone
    shipped = order.status in SHIPPED
    history = [
        StepView(label, event.created_at.astimezone(zone))
        for event in events
        if (label := _step_label(event.kind, event.from_value, event.to_value)) is not None
    ]
    return StatusPage(
        business_name=settings.business_name,
        number=order.number,
        placed_at=order.created_at.astimezone(zone),
        status=CUSTOMER_STATUS_LABELS[order.status],
        status_colour=STATUS_COLOURS[order.status],
        status_explained=STATUS_EXPLAINED[order.status],
        payment_status=order.payment_status.label,
        payment_colour=PAYMENT_COLOURS[order.payment_status],
        currency=order.currency,
        subtotal_cents=order.subtotal_cents,
        tax_cents=order.tax_cents,
        shipping_cents=order.shipping_cents,
        total_cents=order.total_cents,
        city=order.ship_city,
        carrier=order.carrier if shipped else None,
        tracking_number=order.tracking_number if shipped else None,
        tracking_url=order.tracking_url if shipped else None,
        items=[LineView(i.name, i.quantity, i.subtotal_cents) for i in items],
        history=history,
    )


def _step_label(kind: EventKind, before: str | None, after: str | None) -> str | None:
    if kind == EventKind.STATUS and after == OrderStatus.IN_PROGRESS.value:
        return CONFIRMED if before == OrderStatus.PENDING.value else PREPARED_AGAIN
    return STEP_LABELS.get((kind, after or ""))
