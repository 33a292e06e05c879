"""The outbox for staff: what was sent, what is stuck, resending, and previewing messages."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from db.database import Database
from db.models import (
    Channel,
    Contact,
    Notification,
    NotificationStatus,
    Order,
    OrderEvent,
    utc_now,
)
from domain.order import OrderError, PaymentStatus
from services.dispatch import CHANNEL_NAMES, notification_secret
from services.orders import UnknownOrder
from services.outbox import choose_channel, facts_of, label, note_on_order
from services.providers import is_configured
from services.settings import TEMPLATES, load_settings, within_days
from services.templates import OrderFacts, Rendered, render
from services.unit_of_work import UnitOfWork

N = Notification
S = NotificationStatus
RESENDABLE = frozenset({S.FAILED, S.DEAD, S.UNCERTAIN})
NO_CHANNEL = "none"  # the channel filter's value for undeliverable rows
LIST_LIMIT = 200


class CannotResend(OrderError):
    pass


class UnknownTemplate(OrderError):
    def __init__(self, template: str) -> None:
        super().__init__(f"There is no “{template}” message.")


# ---- is anything being delivered? ------------------------------------------------------------


@dataclass(frozen=True)
class DryRunChannel:
    channel: str
    label: str
    provider: str
    settings: str


NEEDS = {
    "email": ("SendGrid", "`SENDGRID_API_KEY` and `SENDGRID_FROM_EMAIL`"),
    "sms": (
        "Twilio",
        "`TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN` and `TWILIO_FROM_NUMBER` "
        "(or `TWILIO_MESSAGING_SERVICE_SID`)",
    ),
}


def dry_run_channels() -> list[DryRunChannel]:
    """Channels with no provider credentials: their messages are recorded, not delivered."""
    return [
        DryRunChannel(channel, CHANNEL_NAMES[channel], *NEEDS[channel])
        for channel in ("email", "sms")
        if not is_configured(notification_secret, channel)
    ]


# ---- the list ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationFilter:
    statuses: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()  # "email", "sms", or NO_CHANNEL
    date_from: date | None = None  # in the business's time zone, inclusive
    date_to: date | None = None


@dataclass(frozen=True)
class OutboxRow:
    id: int
    order_id: int
    order_number: str
    template: str
    channel: str | None
    recipient: str
    status: str
    attempts: int
    last_error: str | None
    provider_id: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    resend_of_id: int | None

    @property
    def message(self) -> str:
        return label(self.template)

    @property
    def can_resend(self) -> bool:
        return self.status in RESENDABLE


@dataclass(frozen=True)
class OutboxPage:
    rows: list[OutboxRow]
    total: int


def status_counts(db: Database) -> dict[str, int]:
    """How many notifications are in each status (every status present, zero or not)."""
    with db.reading() as session:
        found = dict(session.execute(select(N.status, func.count()).group_by(N.status)).all())
    return {status.value: found.get(status, 0) for status in S}


def list_notifications(
    db: Database,
    *,
    filters: NotificationFilter = NotificationFilter(),
    limit: int = LIST_LIMIT,
    zone: ZoneInfo | None = None,
) -> OutboxPage:
    """The newest `limit` notifications matching the filters, and how many match in all."""
    with db.reading() as session:
        conditions = _conditions(filters, zone or load_settings(session).zone)
        total = session.scalar(select(func.count()).select_from(N).where(*conditions)) or 0
        query = (
            select(N, Order.number)
            .join(Order, Order.id == N.order_id)
            .where(*conditions)
            .order_by(N.created_at.desc(), N.id.desc())
            .limit(limit)
        )
        rows = [_row(n, number) for n, number in session.execute(query)]
    return OutboxPage(rows, total)


def resendable(db: Database, *, limit: int = LIST_LIMIT) -> list[OutboxRow]:
    """Failed, dead and uncertain notifications that have not been resent yet."""
    again = aliased(N)
    not_resent = ~select(again.id).where(again.resend_of_id == N.id).exists()
    query = (
        select(N, Order.number)
        .join(Order, Order.id == N.order_id)
        .where(N.status.in_(RESENDABLE), not_resent)
        .order_by(N.created_at.desc(), N.id.desc())
        .limit(limit)
    )
    with db.reading() as session:
        return [_row(n, number) for n, number in session.execute(query)]


def _conditions(filters: NotificationFilter, zone: ZoneInfo) -> list[Any]:
    conditions: list[Any] = []
    if filters.statuses:
        conditions.append(N.status.in_([S(s) for s in filters.statuses]))
    if filters.channels:
        channels = [Channel(c) for c in filters.channels if c != NO_CHANNEL]
        match: Any = N.channel.in_(channels)
        if NO_CHANNEL in filters.channels:
            match = match | N.channel.is_(None)
        conditions.append(match)
    conditions += within_days(N.created_at, filters.date_from, filters.date_to, zone)
    return conditions


def _row(n: Notification, number: str) -> OutboxRow:
    return OutboxRow(
        id=n.id,
        order_id=n.order_id,
        order_number=number,
        template=n.template,
        channel=n.channel.value if n.channel else None,
        recipient=n.recipient,
        status=n.status.value,
        attempts=n.attempts,
        last_error=n.last_error,
        provider_id=n.provider_id,
        created_at=n.created_at,
        sent_at=n.sent_at,
        next_attempt_at=n.next_attempt_at,
        resend_of_id=n.resend_of_id,
    )


# ---- resending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resent:
    id: int
    order_number: str
    channel: str
    recipient: str


def resend_notification(db: Database, *, notification_id: int, actor: str) -> Resent:
    """Queue a new copy of a failed, dead or uncertain message, linked to the old one."""
    with UnitOfWork(db) as uow:
        old = _resendable_row(uow.session, notification_id)
        order = uow.session.get(Order, old.order_id)
        assert order is not None
        contact = uow.session.get(Contact, old.contact_id) if old.contact_id else None
        channel, recipient = choose_channel(contact, order)
        if channel is None:
            raise CannotResend(
                f"Order {order.number}'s customer has no e-mail address or usable phone "
                "number. Add one to the order, then resend."
            )
        new = Notification(
            order_id=old.order_id,
            event_id=old.event_id,
            contact_id=old.contact_id,
            template=old.template,
            channel=channel,
            recipient=recipient,
            status=S.QUEUED,
            # One resend per row: a double click meets the unique key instead of a 2nd message.
            dedupe_key=f"resend:{old.id}",
            next_attempt_at=utc_now(),
            resend_of_id=old.id,
            **_content(uow.session, old, order, channel),
        )
        uow.session.add(new)
        uow.flush()
        what = f"“{label(old.template)}” {CHANNEL_NAMES[channel.value]} to {recipient}"
        note_on_order(
            uow.session,
            order_id=order.id,
            detail=f"Resent the {what} (the earlier one was {old.status.value}).",
            actor=actor,
        )
        uow.notification_ids.append(new.id)
        uow.commit()
        return Resent(new.id, order.number, channel.value, recipient)


def _resendable_row(session: Session, notification_id: int) -> Notification:
    old = session.get(Notification, notification_id)
    if old is None:
        raise CannotResend(f"Notification #{notification_id} does not exist.")
    if old.status not in RESENDABLE:
        raise CannotResend(
            f"Notification #{old.id} is {old.status.value}; only failed, dead or uncertain "
            "ones can be resent."
        )
    again = session.scalar(select(N.id).where(N.resend_of_id == old.id))
    if again is not None:
        raise CannotResend(f"Notification #{old.id} was already resent as #{again}.")
    return old


def _content(session: Session, old: Notification, order: Order, channel: Channel) -> dict[str, str]:
    if channel is old.channel:
        # The very message the customer should have had.
        return {"subject": old.subject, "body_text": old.body_text, "body_html": old.body_html}
    # The channel changed (e.g. the customer opted out of SMS): write it for the new one.
    event = session.get(OrderEvent, old.event_id) if old.event_id else None
    reason = event.detail if event and old.template in ("cancelled", "back_in_progress") else ""
    refunded = old.template == "cancelled" and order.payment_status is PaymentStatus.REFUNDED
    message = _render(old.template, facts_of(order, reason=reason, refunded=refunded), session)
    if channel is Channel.SMS:
        return {"subject": "", "body_text": message.sms, "body_html": ""}
    return {"subject": message.subject, "body_text": message.text, "body_html": message.html}


def _render(template: str, facts: OrderFacts, session: Session) -> Rendered:
    settings = load_settings(session)
    return render(template, facts, settings.business_name, reply_to=settings.reply_to_email)


# ---- preview ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    template: str
    recipient_email: str
    recipient_phone: str | None
    message: Rendered


def preview_message(db: Database, *, order_id: int, template: str) -> Preview:
    """What the customer of this order would get for `template`, with today's settings."""
    if template not in TEMPLATES:
        raise UnknownTemplate(template)
    with db.reading() as session:
        order = session.get(Order, order_id)
        if order is None:
            raise UnknownOrder(order_id)
        facts = _preview_facts(order)
        message = _render(template, facts, session)
        return Preview(template, order.customer_email, order.customer_phone, message)


def _preview_facts(order: Order) -> OrderFacts:
    # Orders that never shipped or were never cancelled still show what the message says.
    facts = facts_of(order, reason=order.cancel_reason or "the reason you give")
    return replace(
        facts,
        carrier=facts.carrier or "UPS",
        tracking_number=facts.tracking_number or "1Z999AA10123456784",
    )


def template_labels() -> dict[str, str]:
    return {template: label(template) for template in TEMPLATES}


__all__ = [
    "CannotResend",
    "DryRunChannel",
    "NotificationFilter",
    "OutboxPage",
    "OutboxRow",
    "Preview",
    "Resent",
    "UnknownTemplate",
    "dry_run_channels",
    "list_notifications",
    "preview_message",
    "resend_notification",
    "resendable",
    "status_counts",
    "template_labels",
]
