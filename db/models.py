"""The tables. Money is integer cents (BIGINT); every time is stored in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.orm.attributes import instance_dict

from domain.enums import Channel, NotificationStatus, Source
from domain.order import OrderStatus, PaymentStatus

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out — on SQLite too, which keeps no zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store times as aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def value_enum(enum: type[StrEnum], length: int = 20) -> Enum:
    return Enum(
        enum,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


intpk = Annotated[int, mapped_column(primary_key=True)]
cents = Annotated[int, mapped_column(BigInteger, default=0)]
created = Annotated[datetime, mapped_column(UtcDateTime, default=utc_now)]
updated = Annotated[datetime, mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)]
when = Annotated[datetime | None, mapped_column(UtcDateTime)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UtcDateTime}


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[intpk]
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    # Lower-cased copy: e-mail is unique regardless of case on both databases.
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    preferred_channel: Mapped[Channel] = mapped_column(value_enum(Channel), default=Channel.EMAIL)
    sms_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    created_at: Mapped[created]
    updated_at: Mapped[updated]

    @property
    def customer_code(self) -> str:
        return customer_code(self.id)


def customer_code(contact_id: int) -> str:
    return f"CUS-{contact_id:06d}"


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(100), unique=True)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[intpk]
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    price_cents: Mapped[cents]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[created]
    updated_at: Mapped[updated]

    category: Mapped[Category | None] = relationship(lazy="raise")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_status_created", "status", "created_at", "id"),
        Index("ix_orders_created", "created_at", "id"),
        Index("ix_orders_total", "total_cents", "id"),
        Index("ix_orders_contact_created", "contact_id", "created_at"),
        Index("ix_orders_payment_status", "payment_status"),
        Index("ix_orders_source", "source"),
        # An index, not a constraint: SQLite adds one without rebuilding the table.
        Index("uq_orders_invoice_number", "invoice_number", unique=True),
    )

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(20), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    customer_first_name: Mapped[str] = mapped_column(String(100))
    customer_last_name: Mapped[str] = mapped_column(String(100))
    customer_email: Mapped[str] = mapped_column(String(254))
    customer_phone: Mapped[str | None] = mapped_column(String(20))
    ship_street: Mapped[str] = mapped_column(String(200))
    ship_apartment: Mapped[str | None] = mapped_column(String(100))
    ship_city: Mapped[str] = mapped_column(String(100))
    ship_state: Mapped[str] = mapped_column(String(100))
    ship_zip: Mapped[str] = mapped_column(String(20))
    ship_country: Mapped[str] = mapped_column(String(2), default="US")
    status: Mapped[OrderStatus] = mapped_column(
        value_enum(OrderStatus), default=OrderStatus.PENDING
    )
    payment_status: Mapped[PaymentStatus] = mapped_column(
        value_enum(PaymentStatus), default=PaymentStatus.PENDING
    )
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    subtotal_cents: Mapped[cents]
    tax_cents: Mapped[cents]
    shipping_cents: Mapped[cents]
    total_cents: Mapped[cents]
    tax_rate_bp: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[Source] = mapped_column(value_enum(Source), default=Source.MANUAL)
    external_ref: Mapped[str | None] = mapped_column(String(255))
    customer_note: Mapped[str | None] = mapped_column(Text)
    carrier: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    tracking_url: Mapped[str | None] = mapped_column(String(500))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Given once, when the invoice is first issued (services/invoices.py), never reused.
    invoice_number: Mapped[str | None] = mapped_column(String(20))
    invoice_issued_at: Mapped[when]
    # Kept in step with the lines by the services, so the list never joins order_items.
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    items_summary: Mapped[str] = mapped_column(String(500), default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    # Optimistic locking: every write to an order goes through UnitOfWork.update_order.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[created]
    updated_at: Mapped[updated]
    confirmed_at: Mapped[when]
    shipped_at: Mapped[when]
    completed_at: Mapped[when]
    cancelled_at: Mapped[when]

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="OrderItem.id",
    )


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[intpk]
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    unit_price_cents: Mapped[cents]
    quantity: Mapped[int] = mapped_column(Integer)
    subtotal_cents: Mapped[cents]
    tax_cents: Mapped[cents]
    total_cents: Mapped[cents]

    order: Mapped[Order] = relationship(back_populates="items")


class OrderEvent(Base):
    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order_created", "order_id", "created_at"),)

    id: Mapped[intpk]
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(String(40))
    from_value: Mapped[str | None] = mapped_column(String(40))
    to_value: Mapped[str | None] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(254))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[created]


class Notification(Base):
    """The outbox: written in the same transaction as the change it tells the customer about."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "status", "next_attempt_at"),
        Index("ix_notifications_order", "order_id"),
    )

    id: Mapped[intpk]
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("order_events.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    template: Mapped[str] = mapped_column(String(40))
    channel: Mapped[Channel | None] = mapped_column(value_enum(Channel))
    recipient: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[NotificationStatus] = mapped_column(
        value_enum(NotificationStatus), default=NotificationStatus.QUEUED
    )
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[when]
    lease_until: Mapped[when]
    provider_id: Mapped[str | None] = mapped_column(String(100), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    resend_of_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"))
    # The order's invoice PDF goes with this e-mail (Settings said so when it was written).
    attach_invoice: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[created]
    updated_at: Mapped[updated]
    sent_at: Mapped[when]


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    id: Mapped[intpk]
    # The key is scoped to the client that sent it (a hash of its token), never shared.
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), default="in_flight")
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    created_at: Mapped[created]

    __table_args__ = (
        Index("uq_idempotency_keys_scope_key", "scope", "key", unique=True),
        Index("ix_idempotency_keys_created", "created_at"),
    )


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[updated]


ORDER_COUNT_SHARDS = 8


class OrderCount(Base):
    """How many orders have each status, kept by database triggers on `orders`.

    The Orders page reads its tab counts here instead of counting a million rows on every
    re-run. Each status is spread over a few shard rows (by order id) so that concurrent
    writers rarely wait on the same row; a read sums them.
    """

    __tablename__ = "order_counts"

    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class Counter(Base):
    """Named counters; on SQLite this hands out order numbers (PostgreSQL uses a sequence)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


def insert_values(table: Any, obj: object) -> dict[str, Any]:
    """The column values of a transient object, for a Core INSERT; unset ones take defaults.

    Read from the object's own dict, where the ORM keeps what was set: going through each
    attribute's descriptor cost more CPU than building the INSERT's parameters.
    """
    given = instance_dict(obj)
    return {
        c.key: given[c.key] for c in table.columns if c.key != "id" and given.get(c.key) is not None
    }


ORDER_NUMBER_SEQUENCE = "order_number_seq"
FIRST_ORDER_NUMBER = 10001
