"""Resending a customer message that failed, died or may not have arrived."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.database import Database
from db.models import Contact, Notification, Order, OrderEvent, utc_now
from db.unit_of_work import UnitOfWork
from domain.enums import Channel, NotificationStatus
from domain.order import OrderError, PaymentStatus
from notify import (
    CHANNEL_NAMES,
    choose_channel,
    facts_of,
    label,
    note_on_order,
    render_for,
    status_url,
)
from queries.notifications import RESENDABLE

N = Notification
S = NotificationStatus


class CannotResend(OrderError):
    pass


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
            # The invoice it carried goes again (the same number: it is the order's).
            attach_invoice=old.attach_invoice and channel is Channel.EMAIL,
            **_content(uow.session, old, order, channel, status_url(db, order.id)),
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


def _content(
    session: Session, old: Notification, order: Order, channel: Channel, link: str
) -> dict[str, str]:
    if channel is old.channel:
        # The very message the customer should have had.
        return {"subject": old.subject, "body_text": old.body_text, "body_html": old.body_html}
    # The channel changed (e.g. the customer opted out of SMS): write it for the new one.
    event = session.get(OrderEvent, old.event_id) if old.event_id else None
    reason = event.detail if event and old.template in ("cancelled", "back_in_progress") else ""
    refunded = old.template == "cancelled" and order.payment_status is PaymentStatus.REFUNDED
    facts = facts_of(order, reason=reason, refunded=refunded, status_url=link)
    message = render_for(old.template, facts, session)
    if channel is Channel.SMS:
        return {"subject": "", "body_text": message.sms, "body_html": ""}
    return {"subject": message.subject, "body_text": message.text, "body_html": message.html}
