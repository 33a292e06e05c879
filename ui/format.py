"""How things read on screen: money, times in the business's zone, status badges."""

from __future__ import annotations

import re
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


def money(cents: int, currency: str = "USD") -> str:
    return format_money(cents, currency)


def when(moment: datetime | None, zone: ZoneInfo, *, with_zone: bool = False) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    text = local.strftime("%b %d, %Y %I:%M %p").replace(" 0", " ")
    return f"{text} {local.tzname()}" if with_zone else text


def table_time(moment: datetime | None, zone: ZoneInfo) -> str:
    """A time as a table column shows it: 2026-07-04 12:30 (narrow, and it sorts as text)."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""


# Markdown (and Streamlit's extensions: :color[...], :emoji:, $math$) acts on these; a
# backslash makes each one literal. An ampersand matters only right before a word ("&amp;");
# "#", "-", "+", "=", ">" and "1." only at the start of a line.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<|~$:]|&(?=[^\s]))")
_LINE_START = re.compile(r"^(\s*)(\d*)([-+=.)#>])", re.MULTILINE)
# Bare URLs become links, and :material/...: icons, whatever the escapes (both are found
# in the text after parsing): a zero-width space keeps them apart.
_AUTOLINK = re.compile(r"(?i)(https?|ftp|www|\\:)(\\:|\\.|\.|material)")


def literal(text: object) -> str:
    """Text from outside (a customer, a file, a URL) shown as itself inside Markdown."""
    escaped = _MARKDOWN.sub(r"\\\1", str(text))
    escaped = _LINE_START.sub(r"\1\2\\\3", escaped)
    return _AUTOLINK.sub("\\1\u200b\\2", escaped)
