"""What the packer holds and what the buyer keeps: orders as packing slips and invoices.

The data for a document is read here in two statements however many orders are asked
for (the orders, then all their lines); `queries/pdf.py` draws it. Invoices are issued
(numbered) by `services/invoices.py`, which then renders through `invoice_documents`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, select

from db.database import Database
from db.models import Order, OrderItem
from db.settings import load_settings
from domain.order import OrderStatus, PaymentStatus
from domain.settings import BusinessSettings
from queries import pdf


@dataclass(frozen=True)
class DocumentLine:
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    subtotal_cents: int


@dataclass(frozen=True)
class DocumentOrder:
    id: int
    number: str
    created_at: datetime
    status: OrderStatus
    payment_status: PaymentStatus
    first_name: str
    last_name: str
    email: str
    phone: str | None
    street: str
    apartment: str | None
    city: str
    state: str
    zip: str
    country: str
    currency: str
    subtotal_cents: int
    tax_cents: int
    shipping_cents: int
    total_cents: int
    tax_rate_bp: int
    cancel_reason: str | None
    invoice_number: str | None
    invoice_issued_at: datetime | None
    lines: list[DocumentLine] = field(default_factory=list)

    @property
    def customer_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def address_lines(self) -> list[str]:
        street = ", ".join(part for part in (self.street, self.apartment) if part)
        return [street, f"{self.city}, {self.state} {self.zip}".strip(), self.country]


ORDERS = cast(Table, Order.__table__)
ITEMS = cast(Table, OrderItem.__table__)
ORDER_COLUMNS = tuple(
    ORDERS.c[name]
    for name in (
        "id", "number", "created_at", "status", "payment_status", "customer_first_name",
        "customer_last_name", "customer_email", "customer_phone", "ship_street",
        "ship_apartment", "ship_city", "ship_state", "ship_zip", "ship_country", "currency",
        "subtotal_cents", "tax_cents", "shipping_cents", "total_cents", "tax_rate_bp",
        "cancel_reason", "invoice_number", "invoice_issued_at",
    )
)  # fmt: skip
LINE_COLUMNS = (
    ITEMS.c.order_id,
    ITEMS.c.sku,
    ITEMS.c.name,
    ITEMS.c.quantity,
    ITEMS.c.unit_price_cents,
    ITEMS.c.subtotal_cents,
)


def document_orders(
    db: Database, order_ids: Sequence[int]
) -> tuple[BusinessSettings, list[DocumentOrder]]:
    """The business's settings and the orders, in the order asked for; unknown ids are left out."""
    wanted = list(dict.fromkeys(order_ids))
    with db.reading() as session:
        settings = load_settings(session)
        if not wanted:
            return settings, []
        rows = session.execute(select(*ORDER_COLUMNS).where(ORDERS.c.id.in_(wanted))).all()
        lines: dict[int, list[DocumentLine]] = {}
        query = select(*LINE_COLUMNS).where(ITEMS.c.order_id.in_(wanted)).order_by(ITEMS.c.id)
        for line in session.execute(query):
            lines.setdefault(line.order_id, []).append(
                DocumentLine(
                    line.sku, line.name, line.quantity, line.unit_price_cents, line.subtotal_cents
                )
            )
    found = {row.id: _order(row, lines.get(row.id, [])) for row in rows}
    return settings, [found[i] for i in wanted if i in found]


def _order(row: Row[Any], lines: list[DocumentLine]) -> DocumentOrder:
    return DocumentOrder(
        id=row.id,
        number=row.number,
        created_at=row.created_at,
        status=OrderStatus(row.status),
        payment_status=PaymentStatus(row.payment_status),
        first_name=row.customer_first_name,
        last_name=row.customer_last_name,
        email=row.customer_email,
        phone=row.customer_phone,
        street=row.ship_street,
        apartment=row.ship_apartment,
        city=row.ship_city,
        state=row.ship_state,
        zip=row.ship_zip,
        country=row.ship_country,
        currency=row.currency,
        subtotal_cents=row.subtotal_cents,
        tax_cents=row.tax_cents,
        shipping_cents=row.shipping_cents,
        total_cents=row.total_cents,
        tax_rate_bp=row.tax_rate_bp,
        cancel_reason=row.cancel_reason,
        invoice_number=row.invoice_number,
        invoice_issued_at=row.invoice_issued_at,
        lines=lines,
    )


def packing_slips(db: Database, order_ids: Sequence[int]) -> bytes:
    """One PDF with a packing slip page per order, in the order given (no prices)."""
    settings, orders = document_orders(db, order_ids)
    return pdf.packing_slips(settings, orders)


def packing_slip(db: Database, order_id: int) -> bytes:
    return packing_slips(db, [order_id])


def invoice_documents(db: Database, order_ids: Sequence[int]) -> bytes:
    """One PDF with an invoice page per order that has been issued an invoice number.

    Orders not yet issued one are left out: numbers are given by `services/invoices.py`.
    """
    settings, orders = document_orders(db, order_ids)
    return pdf.invoices(settings, [o for o in orders if o.invoice_number])
