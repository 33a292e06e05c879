"""Outbox rows: which channel reaches the customer, and the message written for it."""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from db.database import Database
from db.models import Notification, OrderEvent
from db.unit_of_work import UnitOfWork
from domain.enums import TEMPLATES, Channel, EventKind, NotificationStatus, Template
from domain.settings import BusinessSettings
from notify.templates import OrderFacts, render

CHANNEL_NAMES = {"email": "e-mail", "sms": "SMS"}
SYSTEM = "system"  # the actor of what the delivery machinery records on an order


class OrderFields(Protocol):
    """What the outbox reads of an order: a loaded one, or a service's typed row."""

    @property
    def id(self) -> int: ...
    @property
    def number(self) -> str: ...
    @property
    def contact_id(self) -> int | None: ...
    @property
    def customer_first_name(self) -> str: ...
    @property
    def customer_email(self) -> str: ...
    @property
    def customer_phone(self) -> str | None: ...
    @property
    def currency(self) -> str: ...
    @property
    def total_cents(self) -> int: ...
    @property
    def items_summary(self) -> str: ...
    @property
    def carrier(self) -> str | None: ...
    @property
    def tracking_number(self) -> str | None: ...
    @property
    def tracking_url(self) -> str | None: ...


class ChannelFields(Protocol):
    """What the outbox reads of the customer's contact: how they want to be reached."""

    @property
    def phone(self) -> str | None: ...
    @property
    def preferred_channel(self) -> Channel: ...
    @property
    def sms_opt_out(self) -> bool: ...


def choose_channel(contact: ChannelFields | None, order: OrderFields) -> tuple[Channel | None, str]:
    """The preferred channel; SMS falls back to e-mail without a phone or after STOP."""
    phone = order.customer_phone or (contact.phone if contact else None)
    opted_out = bool(contact and contact.sms_opt_out)
    prefers_sms = bool(contact and contact.preferred_channel is Channel.SMS)
    if prefers_sms and phone and not opted_out:
        return Channel.SMS, phone
    if order.customer_email:
        return Channel.EMAIL, order.customer_email
    if phone and not opted_out:
        return Channel.SMS, phone
    return None, ""


def status_url(db: Database, order_id: int) -> str:
    """The order's status-page link, or "" when this deployment has none configured."""
    return db.status_link(order_id) if db.status_link is not None else ""


def facts_of(
    order: OrderFields, *, reason: str = "", refunded: bool = False, status_url: str = ""
) -> OrderFacts:
    return OrderFacts(
        number=order.number,
        first_name=order.customer_first_name,
        total_cents=order.total_cents,
        currency=order.currency,
        items_summary=order.items_summary,
        carrier=order.carrier or "",
        tracking_number=order.tracking_number or "",
        tracking_url=order.tracking_url or "",
        reason=reason,
        refunded=refunded,
        status_url=status_url,
    )


def enqueue(
    uow: UnitOfWork,
    *,
    order: OrderFields,
    contact: ChannelFields | None,
    event: OrderEvent,
    template: str,
    settings: BusinessSettings,
    facts: OrderFacts,
    attach_invoice: bool = False,
) -> Notification | None:
    """Add the notification the change implies, in the change's own transaction.

    `contact` is the order's customer (its channel, phone and opt-out), read with the order.
    `attach_invoice`: the order's invoice PDF goes with the message if it is an e-mail (the
    caller issues the invoice in the same transaction).
    """
    if template not in settings.notify_events:
        return None
    channel, recipient = choose_channel(contact, order)
    facts = replace(facts, status_url=status_url(uow.db, order.id))
    message = render(template, facts, settings.business_name, reply_to=settings.reply_to_email)
    row = Notification(
        order_id=order.id,
        event_id=event.id,
        contact_id=order.contact_id,
        template=template,
        channel=channel,
        recipient=recipient,
        subject=message.subject if channel is Channel.EMAIL else "",
        body_text=message.sms if channel is Channel.SMS else message.text,
        body_html=message.html if channel is Channel.EMAIL else "",
        status=NotificationStatus.QUEUED if channel else NotificationStatus.UNDELIVERABLE,
        dedupe_key=f"{order.id}:{event.id}:{channel.value if channel else 'none'}",
        next_attempt_at=event.created_at,
        last_error=None if channel else "No e-mail address or usable phone number.",
        attach_invoice=attach_invoice and channel is Channel.EMAIL,
    )
    uow.insert(NOTIFICATIONS, row)
    if channel:
        uow.notification_ids.append(row.id)
    else:
        note_on_order(
            uow.session,
            order_id=order.id,
            detail=f"The “{label(template)}” message could not be sent: the customer has "
            "no e-mail address or usable phone number.",
        )
    return row


NOTIFICATIONS = cast(Table, Notification.__table__)


def label(template: str) -> str:
    """The message's name in a sentence ("the “shipped” message")."""
    return Template(template).short_label if template in TEMPLATES else template


def note_on_order(session: Session, *, order_id: int, detail: str, actor: str = SYSTEM) -> None:
    """A timeline entry about a notification, so problems show on the order itself."""
    session.add(
        OrderEvent(order_id=order_id, kind=EventKind.NOTIFICATION, actor=actor, detail=detail)
    )
