"""How things read on screen: money, times in the business's zone, status badges."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from domain.money import format_money
from domain.order import OrderStatus, PaymentStatus

# st.badge colours closest to the status colours of DESIGN.md (amber, blue, violet, green, red).
STATUS_BADGE = {
    OrderStatus.PENDING: "orange",
    OrderStatus.IN_PROGRESS: "blue",
    OrderStatus.SHIPPED: "violet",
    OrderStatus.COMPLETED: "green",
    OrderStatus.CANCELLED: "red",
}
PAYMENT_BADGE = {
    PaymentStatus.PENDING: "orange",
    PaymentStatus.PAID: "green",
    PaymentStatus.FAILED: "red",
    PaymentStatus.REFUNDED: "gray",
}
STATUS_ICON = {
    OrderStatus.PENDING: "🟠",
    OrderStatus.IN_PROGRESS: "🔵",
    OrderStatus.SHIPPED: "🟣",
    OrderStatus.COMPLETED: "🟢",
    OrderStatus.CANCELLED: "🔴",
}


def money(cents: int, currency: str = "USD") -> str:
    return format_money(cents, currency)


def when(moment: datetime | None, zone: ZoneInfo, *, with_zone: bool = False) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    text = local.strftime("%b %d, %Y %I:%M %p").replace(" 0", " ")
    return f"{text} {local.tzname()}" if with_zone else text


def status_text(status: OrderStatus) -> str:
    return f"{STATUS_ICON[status]} {status.label}"
