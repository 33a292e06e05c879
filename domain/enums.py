"""The named kinds the whole product shares: where an order came from, how a customer is
reached, where a message stands, what an event records and which message a change sends.

Stored by value, so a new member needs no migration unless a column is an enum type.
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class Source(StrEnum):
    MANUAL = "manual"
    ASSISTANT = "assistant"
    API = "api"

    @property
    def label(self) -> str:
        """As a person reads it (exports: "Assistant", not "assistant")."""
        return SOURCE_LABELS[self]


SOURCE_LABELS = {Source.MANUAL: "Manual", Source.ASSISTANT: "Assistant", Source.API: "API"}


class NotificationStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    DEAD = "dead"
    UNCERTAIN = "uncertain"
    UNDELIVERABLE = "undeliverable"
    # Only logged: the channel has no provider credentials, so no customer received it.
    DRY_RUN = "dry_run"


class EventKind(StrEnum):
    """What an entry on an order's timeline records."""

    CREATED = "created"
    STATUS = "status"
    PAYMENT = "payment"
    EDITED = "edited"
    CUSTOMER_UPDATED = "customer_updated"
    CUSTOMER_MERGED = "customer_merged"
    NOTE = "note"
    NOTIFICATION = "notification"
    INVOICE = "invoice"


class Template(StrEnum):
    """The customer message a change sends, in the order the Settings page lists them."""

    RECEIVED = "received"
    CONFIRMED = "confirmed"
    BACK_IN_PROGRESS = "back_in_progress"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    PAYMENT_FAILED = "payment_failed"
    REFUNDED = "refunded"

    @property
    def label(self) -> str:
        """As the Settings page names it."""
        return TEMPLATE_LABELS[self]

    @property
    def short_label(self) -> str:
        """As a sentence on the timeline mentions it ("the “shipped” message")."""
        return SHORT_LABELS[self]


TEMPLATE_LABELS = {
    Template.RECEIVED: "Order received",
    Template.CONFIRMED: "Order confirmed",
    Template.BACK_IN_PROGRESS: "Being prepared again",
    Template.SHIPPED: "Shipped (with tracking)",
    Template.COMPLETED: "Completed",
    Template.CANCELLED: "Cancelled",
    Template.PAYMENT_FAILED: "Payment failed",
    Template.REFUNDED: "Refunded",
}

SHORT_LABELS = {
    Template.RECEIVED: "order received",
    Template.CONFIRMED: "order confirmed",
    Template.BACK_IN_PROGRESS: "back in progress",
    Template.SHIPPED: "shipped",
    Template.COMPLETED: "completed",
    Template.CANCELLED: "cancelled",
    Template.PAYMENT_FAILED: "payment failed",
    Template.REFUNDED: "refunded",
}

TEMPLATES: tuple[str, ...] = tuple(Template)
