"""What a customer would be sent: any message, written for a real order with today's settings."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from db.database import Database
from db.models import Order
from db.settings import load_settings
from domain.enums import TEMPLATES
from domain.order import OrderError, UnknownOrder
from notify.outbox import facts_of, label, status_url
from notify.templates import OrderFacts, Rendered, render


class UnknownTemplate(OrderError):
    def __init__(self, template: str) -> None:
        super().__init__(f"There is no “{template}” message.")


def render_for(template: str, facts: OrderFacts, session: Session) -> Rendered:
    """The message as the business's current settings sign it."""
    settings = load_settings(session)
    return render(template, facts, settings.business_name, reply_to=settings.reply_to_email)


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
        facts = replace(_preview_facts(order), status_url=status_url(db, order.id))
        message = render_for(template, facts, session)
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
