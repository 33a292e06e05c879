"""Write services: every change to an order, each stored with its event and outbox row or not at all
(one transaction, or for a new order on PostgreSQL one statement: see `UnitOfWork`).

Each has the same shape: open a unit of work → load → check the rules → change → record the
event (with its actor) → enqueue the customer's notification → commit.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, ParamSpec, cast

from sqlalchemy import Table, bindparam, literal_column, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import notify
from db.database import Database
from db.models import (
    Contact,
    Notification,
    Order,
    OrderEvent,
    OrderItem,
    Product,
    insert_values,
    utc_now,
)
from db.settings import load_settings, settings_from, stored_settings
from db.unit_of_work import StaleOrder, UnitOfWork
from domain.enums import Channel, EventKind, Source, Template
from domain.inputs import (
    CustomerIn,
    FieldError,
    InvalidInput,
    ItemIn,
    OrderIn,
    ShippingIn,
    check_texts,
    is_web_address,
    parse,
)
from domain.money import MAX_QUANTITY
from domain.order import (
    Action,
    ActionInput,
    OrderStatus,
    Outcome,
    PaymentStatus,
    UnknownOrder,
    change_payment,
    check_editable,
    take_action,
)
from domain.pricing import ProductFacts, merged_quantities, price_order
from domain.settings import BusinessSettings

P = ParamSpec("P")


@dataclass(frozen=True)
class Change:
    """What a write did, for the caller's confirmation message."""

    order_id: int
    number: str
    version: int
    status: OrderStatus
    payment_status: PaymentStatus
    notified: tuple[str, ...] = ()  # e.g. ("email to ada@example.com",)
    # The message this kind of change sends when Settings let it (None: it sends none), and
    # the channel of each `notified` entry (None: no one could be reached) — so the caller,
    # who knows which channels only run in dry-run, can say what really happens.
    message: Template | None = None
    channels: tuple[Channel | None, ...] = ()


# ---- creating ----


def _once_more_on_clash(change: Callable[P, Change]) -> Callable[P, Change]:
    """A change that may insert its customer's contact, run once more if the e-mail's
    unique key refused that insert: a concurrent order of the same new customer inserted it
    between this change's read and its write, and the second run reads it."""

    @functools.wraps(change)
    def run(*args: P.args, **kwargs: P.kwargs) -> Change:
        try:
            return change(*args, **kwargs)
        except IntegrityError:
            return change(*args, **kwargs)

    return run


@_once_more_on_clash
def create_order(
    db: Database,
    *,
    order: OrderIn | dict[str, Any],
    actor: str,
    source: Source = Source.MANUAL,
    settings: BusinessSettings | None = None,
    before_commit: Callable[[UnitOfWork, Order], None] | None = None,
) -> Change:
    """Store a new Pending order, priced from the catalogue (never from the request).

    `settings`: the business's, when the caller has just read them (the API reads them
    with the request's idempotency key); else they are read here. `before_commit` writes
    alongside the order (the API's idempotency record), so the two are stored together or
    not at all. Everything is written in one statement (see `UnitOfWork`).
    """
    with UnitOfWork(db, one_statement=True) as uow:
        settings = settings or load_settings(uow.session)
        data = _parsed(order, settings)
        products, contact = _products_and_contact(uow.session, data)
        row = Order(
            status=OrderStatus.PENDING,
            payment_status=PaymentStatus.PENDING,
            source=source,
            currency=settings.currency,
            external_ref=data.conversation_ref or None,
            customer_note=data.note or None,
        )
        _apply_items(row, data.items, products, settings)
        lines = len(row.items)
        new: dict[Table, int] = {CONTACTS: 1} if contact.id is None else {}
        row.number = uow.number_new_order(
            {**new, ORDERS: 1, ITEMS: lines, EVENTS: 1, NOTIFICATIONS: 1}
        )
        _save_contact(uow, contact, data.customer, source)
        _apply_customer(row, contact, data.customer)
        _apply_shipping(row, data.shipping, settings)
        _insert_order(uow, row)
        detail = _created_detail(row)
        event = record_event(uow, row, EventKind.CREATED, None, OrderStatus.PENDING, actor, detail)
        sent = _notify(uow, row, contact, event, Template.RECEIVED, settings)
        if before_commit is not None:
            before_commit(uow, row)
        uow.commit()
        return _change(row, sent, Template.RECEIVED)


ORDERS = cast(Table, Order.__table__)
ITEMS = cast(Table, OrderItem.__table__)
EVENTS = cast(Table, OrderEvent.__table__)
NOTIFICATIONS = cast(Table, Notification.__table__)


def _insert_order(uow: UnitOfWork, row: Order) -> None:
    """Insert a new order and its lines; `row` stays a plain (transient) object."""
    row.created_at = row.updated_at = utc_now()
    row.version = 1
    uow.insert(ORDERS, row)
    uow.insert_rows(
        ITEMS, [{**insert_values(ITEMS, item), "order_id": row.id} for item in row.items]
    )


def _parsed(order: OrderIn | dict[str, Any], settings: BusinessSettings) -> OrderIn:
    if isinstance(order, OrderIn):
        return order
    return parse(OrderIn, order, region=settings.default_country)


PRODUCTS = cast(Table, Product.__table__)
CONTACTS = cast(Table, Contact.__table__)
# What an order names, in one round trip: a row per product found (or one row of NULLs),
# each carrying the customer's stored contact (NULLs for a new customer). Its columns are
# labelled "contact_…", apart from the product's.
PRODUCTS_AND_CONTACT = select(
    PRODUCTS.c.id,
    PRODUCTS.c.sku,
    PRODUCTS.c.name,
    PRODUCTS.c.price_cents,
    PRODUCTS.c.active,
    *(column.label(f"contact_{column.key}") for column in CONTACTS.c),
).select_from(
    select(literal_column("1").label("one"))
    .subquery("one")
    .outerjoin(PRODUCTS, PRODUCTS.c.sku.in_(bindparam("skus", expanding=True)))
    .outerjoin(CONTACTS, CONTACTS.c.email_key == bindparam("key"))
)


def _products_and_contact(session: Session, data: OrderIn) -> tuple[dict[str, Any], Contact]:
    """The products the order names, checked, and its customer's contact (see
    `_contact_for`): one statement, where two cost a round trip each."""
    params = {"skus": sorted({item.sku for item in data.items}), "key": data.customer.email.lower()}
    rows = session.execute(PRODUCTS_AND_CONTACT, params).all()
    found = {row.sku: row for row in rows if row.sku is not None}
    _check_products(found, data.items)
    return found, _contact_for(data.customer, _stored_contact(session, rows[0]))


def _check_products(found: dict[str, Any], items: list[ItemIn]) -> None:
    errors = []
    for index, item in enumerate(items):
        product = found.get(item.sku)
        if product is None:
            errors.append(FieldError(f"items[{index}].sku", f"unknown product SKU “{item.sku}”"))
        elif not product.active:
            errors.append(FieldError(f"items[{index}].sku", f"“{product.name}” is not for sale"))
    for sku, quantity in merged_quantities((item.sku, item.quantity) for item in items).items():
        if quantity > MAX_QUANTITY:
            errors.append(FieldError("items", f"{sku}: at most {MAX_QUANTITY:,} in one order"))
    if errors:
        raise InvalidInput(errors)


CONTACT_BY_ID = select(CONTACTS).where(CONTACTS.c.id == bindparam("id"))


def _stored_contact(session: Session, row: Any) -> Contact | None:
    """The contact a `PRODUCTS_AND_CONTACT` row carries, or the one it was merged into."""
    if row.contact_id is None:
        return None
    values = {column.key: getattr(row, f"contact_{column.key}") for column in CONTACTS.c}
    while values["merged_into_id"] is not None:
        values = session.execute(CONTACT_BY_ID, {"id": values["merged_into_id"]}).one()._asdict()
    # Every column is given, so the object needs none of the ORM's loading machinery.
    return Contact(**values)


def _contact_for(customer: CustomerIn, stored: Contact | None) -> Contact:
    """The customer's stored contact, or a new one for `_save_contact` to insert (no id yet).

    A plain object, outside the session: what the change writes to it goes through the unit
    of work (`_save_contact`), so it can be part of a one-statement change.
    """
    if stored is not None:
        return stored
    now = utc_now()
    return Contact(
        first_name=customer.first_name,
        last_name=customer.last_name,
        email=customer.email,
        email_key=customer.email.lower(),
        phone=customer.phone,
        preferred_channel=Channel(customer.preferred_channel),
        sms_opt_out=False,
        created_at=now,
        updated_at=now,
    )


def _save_contact(uow: UnitOfWork, contact: Contact, customer: CustomerIn, source: Source) -> None:
    """Insert a new contact; fill in what an existing one lacks when staff give it.

    Only staff (a manual order, an edit, the Customers page) change an existing contact:
    an order from the assistant or an API client names an e-mail address it need not own,
    so it must not turn that customer's messages to SMS or give them a phone number.
    """
    if contact.id is None:
        uow.insert(CONTACTS, contact)
        return
    if source is not Source.MANUAL:
        return
    changes: dict[str, Any] = {}
    if customer.phone and not contact.phone:
        changes["phone"] = customer.phone
    if "preferred_channel" in customer.model_fields_set:
        changes["preferred_channel"] = Channel(customer.preferred_channel)
    if changes:
        changes["updated_at"] = utc_now()
        uow.update_one(CHANGE_CONTACT, changes, {"contact_id": contact.id})
        for name, value in changes.items():
            setattr(contact, name, value)


CHANGE_CONTACT = update(CONTACTS).where(CONTACTS.c.id == bindparam("contact_id"))


def _apply_customer(order: Order, contact: Contact, customer: CustomerIn) -> None:
    order.contact_id = contact.id
    order.customer_first_name = customer.first_name
    order.customer_last_name = customer.last_name
    order.customer_email = customer.email
    order.customer_phone = customer.phone or contact.phone
    order.search_text = search_text_of(order)


def _apply_shipping(order: Order, shipping: ShippingIn, settings: BusinessSettings) -> None:
    order.ship_street = shipping.street
    order.ship_apartment = shipping.apartment or None
    order.ship_city = shipping.city
    order.ship_state = shipping.state
    order.ship_zip = shipping.zip
    order.ship_country = shipping.country or settings.default_country


def _apply_items(
    order: Order, items: list[ItemIn], products: dict[str, Any], settings: BusinessSettings
) -> None:
    """Replace the lines and recompute every total from them."""
    priced = price_order(
        ((_facts(products[item.sku]), item.quantity) for item in items), settings.pricing
    )
    order.tax_rate_bp = settings.tax_rate_bp
    order.items = [OrderItem(**vars(item)) for item in priced.items]  # fields = columns
    order.subtotal_cents = priced.subtotal_cents
    order.tax_cents = priced.tax_cents
    order.shipping_cents = priced.shipping_cents
    order.total_cents = priced.total_cents
    order.item_count = priced.item_count
    order.items_summary = priced.items_summary


def _facts(product: Any) -> ProductFacts:
    return ProductFacts(product.id, product.sku, product.name, product.price_cents)


def search_text_of(order: Order) -> str:
    phone = order.customer_phone or ""
    digits = "".join(ch for ch in phone if ch.isdigit())
    parts = [
        order.number or "",
        order.customer_first_name,
        order.customer_last_name,
        order.customer_email,
        phone,
        digits,
    ]
    return " ".join(part for part in parts if part).lower()


def _created_detail(order: Order) -> str:
    return f"{order.items_summary}; total {order.total_cents / 100:.2f} {order.currency}"


# ---- status changes ----


def confirm_order(
    db: Database, *, order_id: int, expected_version: int | None, actor: str
) -> Change:
    """Pending → In Progress."""
    return _act(db, order_id, expected_version, actor, Action.CONFIRM, ActionInput())


def mark_in_progress(
    db: Database, *, order_id: int, expected_version: int | None, actor: str, reason: str
) -> Change:
    """Shipped → In Progress again, e.g. when a shipment comes back."""
    return _act(db, order_id, expected_version, actor, Action.MARK_IN_PROGRESS, ActionInput(reason))


def mark_shipped(
    db: Database,
    *,
    order_id: int,
    expected_version: int | None,
    actor: str,
    carrier: str,
    tracking_number: str,
    tracking_url: str | None = None,
    ship_unpaid: bool = False,
) -> Change:
    """In Progress → Shipped, with the carrier's tracking details."""
    given = ActionInput(
        carrier=carrier,
        tracking_number=tracking_number,
        tracking_url=tracking_url or "",
        ship_unpaid=ship_unpaid,
    )
    return _act(db, order_id, expected_version, actor, Action.MARK_SHIPPED, given)


def complete_order(
    db: Database, *, order_id: int, expected_version: int | None, actor: str
) -> Change:
    """Shipped → Completed."""
    return _act(db, order_id, expected_version, actor, Action.COMPLETE, ActionInput())


def cancel_order(
    db: Database,
    *,
    order_id: int,
    expected_version: int | None,
    actor: str,
    reason: str,
    refund: bool = False,
) -> Change:
    """Pending or In Progress → Cancelled; a paid order may be refunded in the same step."""
    return _act(
        db, order_id, expected_version, actor, Action.CANCEL, ActionInput(reason), refund=refund
    )


def _act(
    db: Database,
    order_id: int,
    expected_version: int | None,
    actor: str,
    action: Action,
    given: ActionInput,
    *,
    refund: bool = False,
) -> Change:
    _check_given(action, given)
    with UnitOfWork(db) as uow:
        order, contact, settings = _load_for_change(uow.session, order_id, expected_version)
        now = utc_now()
        outcome = take_action(
            action, order.status, order.payment_status, given, at=now, refund=refund
        )
        notified = _apply(uow, order, contact, settings, outcome, actor, now)
        uow.commit()
        return notified


def _apply(
    uow: UnitOfWork,
    order: OrderNow,
    contact: CustomerChannel | None,
    settings: BusinessSettings,
    outcome: Outcome,
    actor: str,
    now: datetime,
) -> Change:
    """Write what the rules decided: the order's fields, its timeline, the customer's message."""
    attach = _attaches_invoice(order, contact, settings, outcome.template)
    invoice = _issue_with_confirmation(uow, order, settings, now) if attach else {}
    # One version per recorded change, as always (the seed counts them the same way).
    versions = len(outcome.events) + bool(invoice)
    order = _write_changes(uow, order, {**outcome.changes, **invoice}, now, versions=versions)
    recorded = [
        record_event(uow, order, e.kind, e.before, e.after, actor, e.detail, now)
        for e in outcome.events
    ]
    if invoice:
        number = invoice["invoice_number"]
        record_event(uow, order, EventKind.INVOICE, None, number, actor, number, now)
    sent = None
    if outcome.template is not None:
        facts = notify.facts_of(order, reason=outcome.reason, refunded=outcome.refunded)
        sent = _notify(uow, order, contact, recorded[0], outcome.template, settings, facts, attach)
    return _change(order, sent, outcome.template)


def _attaches_invoice(
    order: OrderNow,
    contact: CustomerChannel | None,
    settings: BusinessSettings,
    template: Template | None,
) -> bool:
    """Settings want the invoice with the order-confirmed message, and it goes by e-mail."""
    return (
        template is Template.CONFIRMED
        and settings.attach_invoice_to_confirmation
        and template in settings.notify_events
        and notify.choose_channel(contact, order)[0] is Channel.EMAIL
    )


def _issue_with_confirmation(
    uow: UnitOfWork, order: OrderNow, settings: BusinessSettings, now: datetime
) -> dict[str, Any]:
    """The invoice fields to write with the confirm, or {} if the order has its number.

    In the confirm's own transaction: the number, its timeline entry and the outbox row
    that attaches it commit together, and a confirm that rolls back takes its number back.
    The order row is locked before the counter, as `issue_invoice` does.
    """
    # services.invoices imports this module (record_event), so it is imported here.
    from services.invoices import locked_number, next_number

    if locked_number(uow.session, order.id):
        return {}
    return {
        "invoice_number": next_number(uow.session, settings.zone, now),
        "invoice_issued_at": now,
    }


REASON_LIMIT = 1000


def _check_given(action: Action, given: ActionInput) -> None:
    """What staff typed fits its column and is storable, the same on both databases."""
    subject = "the shipment" if action is Action.MARK_SHIPPED else "the reason"
    tracking_url = given.tracking_url.strip()
    check_texts(
        subject,
        reason=(given.reason, REASON_LIMIT),
        carrier=(given.carrier, 100),
        tracking_number=(given.tracking_number, 100),
        tracking_url=(tracking_url, 500),
    )
    if tracking_url and not is_web_address(tracking_url):
        # The link goes into the customer's e-mail and onto a button: only a web address.
        raise InvalidInput(
            [FieldError("tracking_url", "must be a web address starting with http:// or https://")],
            subject=subject,
        )


def set_payment_status(
    db: Database,
    *,
    order_id: int,
    expected_version: int | None,
    actor: str,
    payment: PaymentStatus,
) -> Change:
    """Record a payment outcome; failures and refunds tell the customer."""
    with UnitOfWork(db) as uow:
        order, contact, settings = _load_for_change(uow.session, order_id, expected_version)
        outcome = change_payment(order.payment_status, PaymentStatus(payment))
        change = _apply(uow, order, contact, settings, outcome, actor, utc_now())
        uow.commit()
        return change


# ---- edits and notes ----


@_once_more_on_clash
def edit_order(
    db: Database,
    *,
    order_id: int,
    expected_version: int | None,
    actor: str,
    changes: OrderIn | dict[str, Any],
) -> Change:
    """Replace customer, items and address of a Pending or In Progress order; reprice it."""
    with UnitOfWork(db) as uow:
        order = _load(uow.session, order_id, expected_version)
        check_editable(order.status)
        settings = load_settings(uow.session)
        data = _parsed(changes, settings)
        before = _editable_snapshot(order)
        products, contact = _products_and_contact(uow.session, data)
        _save_contact(uow, contact, data.customer, Source.MANUAL)
        _apply_customer(order, contact, data.customer)
        _apply_shipping(order, data.shipping, settings)
        _apply_items(order, data.items, products, settings)
        order.customer_note = data.note or order.customer_note
        after = _editable_snapshot(order)
        changed = {k: {"from": before[k], "to": v} for k, v in after.items() if before[k] != v}
        if changed:
            uow.claim_order(order)
            detail = json.dumps(changed, default=str)
            record_event(uow, order, EventKind.EDITED, None, None, actor, detail)
        uow.commit()
        return _change(order, None, None)


def _editable_snapshot(order: Order) -> dict[str, Any]:
    return {
        "customer": f"{order.customer_first_name} {order.customer_last_name} "
        f"<{order.customer_email}> {order.customer_phone or ''}".strip(),
        "address": ", ".join(
            part
            for part in (
                order.ship_street,
                order.ship_apartment,
                order.ship_city,
                order.ship_state,
                order.ship_zip,
                order.ship_country,
            )
            if part
        ),
        "items": order.items_summary,
        "total_cents": order.total_cents,
    }


NOTE_LIMIT = 2000


def add_note(db: Database, *, order_id: int, actor: str, text: str) -> None:
    """A staff note on the timeline; it does not change the order, so no version check."""
    text = text.strip()
    if not text:
        raise InvalidInput([FieldError("note", "is empty")])
    check_texts("the note", note=(text, NOTE_LIMIT))
    with UnitOfWork(db) as uow:
        order = uow.session.get(Order, order_id)
        if order is None:
            raise UnknownOrder(order_id)
        note = OrderEvent(order_id=order.id, kind=EventKind.NOTE, actor=actor, detail=text)
        uow.session.add(note)
        uow.commit()


# ---- shared steps ----


def _load(session: Session, order_id: int, expected_version: int | None) -> Order:
    """The whole order, for an edit through the ORM (its lines change too)."""
    order = session.get(Order, order_id)
    if order is None:
        raise UnknownOrder(order_id)
    if expected_version is not None and order.version != expected_version:
        raise StaleOrder(order.number)
    return order


# The status services are the most frequent writes. They read the order, its customer's
# channel and the settings in one statement and write with prebuilt Core statements: the
# ORM's loading, identity map and flush cost more than the SQL itself (bench/service_calls).


@dataclass(frozen=True)
class OrderNow:
    """The order as a status change reads it: what the rules, the event, the customer's
    message and the result need. A service that needs another column adds a field."""

    id: int
    number: str
    version: int
    status: OrderStatus
    payment_status: PaymentStatus
    contact_id: int | None
    customer_first_name: str
    customer_email: str
    customer_phone: str | None
    currency: str
    total_cents: int
    items_summary: str
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None


@dataclass(frozen=True)
class CustomerChannel:
    """How the order's customer wants to be reached."""

    phone: str | None
    preferred_channel: Channel
    sms_opt_out: bool


CONTACTS = cast(Table, Contact.__table__)
ORDER_NOW_COLUMNS = tuple(f.name for f in fields(OrderNow))
CHANNEL_COLUMNS = tuple(f.name for f in fields(CustomerChannel))
LOAD_FOR_CHANGE = (
    select(
        *(ORDERS.c[name] for name in ORDER_NOW_COLUMNS),
        CONTACTS.c.id.label("contacts_id"),
        *(CONTACTS.c[name].label(f"contacts_{name}") for name in CHANNEL_COLUMNS),
        stored_settings().label("stored_settings"),
    )
    .outerjoin(CONTACTS, CONTACTS.c.id == ORDERS.c.contact_id)
    .where(ORDERS.c.id == bindparam("order_id"))
)


def _load_for_change(
    session: Session, order_id: int, expected_version: int | None
) -> tuple[OrderNow, CustomerChannel | None, BusinessSettings]:
    """The order, its customer's channel and the settings, in one statement."""
    row = session.execute(LOAD_FOR_CHANGE, {"order_id": order_id}).one_or_none()
    if row is None:
        raise UnknownOrder(order_id)
    values = row._mapping
    order = OrderNow(**{name: values[name] for name in ORDER_NOW_COLUMNS})
    if expected_version is not None and order.version != expected_version:
        raise StaleOrder(order.number)
    contact = None
    if values["contacts_id"] is not None:
        contact = CustomerChannel(**{name: values[f"contacts_{name}"] for name in CHANNEL_COLUMNS})
    return order, contact, settings_from(values["stored_settings"] or {})


def _write_changes(
    uow: UnitOfWork, order: OrderNow, changes: dict[str, Any], now: datetime, *, versions: int = 1
) -> OrderNow:
    """The order after `changes`, written unless a concurrent writer got there first."""
    written = uow.update_order(
        order.id, order.version, changes, versions=versions, at=now, number=order.number
    )
    return replace(order, **{k: v for k, v in written.items() if k in ORDER_NOW_COLUMNS})


def record_event(
    uow: UnitOfWork,
    order: Order | OrderNow,
    kind: EventKind,
    before: str | None,
    after: str | None,
    actor: str,
    detail: str,
    at: datetime | None = None,
) -> OrderEvent:
    if not actor.strip():
        raise ValueError("every change needs an actor")
    event = OrderEvent(
        order_id=order.id,
        kind=kind,
        from_value=str(before) if before is not None else None,
        to_value=str(after) if after is not None else None,
        actor=actor.strip(),
        detail=detail,
        created_at=at or utc_now(),
    )
    uow.insert(EVENTS, event)
    return event


def _notify(
    uow: UnitOfWork,
    order: Order | OrderNow,
    contact: Contact | CustomerChannel | None,
    event: OrderEvent,
    template: Template,
    settings: BusinessSettings,
    facts: notify.OrderFacts | None = None,
    attach_invoice: bool = False,
) -> Notification | None:
    return notify.enqueue(
        uow,
        order=order,
        contact=contact,
        event=event,
        template=template,
        settings=settings,
        facts=facts or notify.facts_of(order),
        attach_invoice=attach_invoice,
    )


def _change(order: Order | OrderNow, sent: Notification | None, message: Template | None) -> Change:
    notified: tuple[str, ...] = ()
    if sent is not None and sent.channel is not None:
        notified = (f"{sent.channel.value} to {sent.recipient}",)
    elif sent is not None:
        notified = ("no one: the customer has no usable e-mail or phone",)
    return Change(
        order_id=order.id,
        number=order.number,
        version=order.version,
        status=order.status,
        payment_status=order.payment_status,
        notified=notified,
        message=message,
        channels=() if sent is None else (sent.channel,),
    )


__all__ = [
    "Change",
    "StaleOrder",
    "UnknownOrder",
    "add_note",
    "cancel_order",
    "complete_order",
    "confirm_order",
    "create_order",
    "edit_order",
    "mark_in_progress",
    "mark_shipped",
    "set_payment_status",
]
