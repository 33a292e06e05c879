"""Changing contacts, the customers orders belong to: edits and merges.

A merged contact is never deleted: it points at the contact it was merged into, so its
e-mail still finds the right customer and its history stays explainable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.database import Database
from db.models import Contact, Notification, Order, customer_code
from db.settings import load_settings
from db.unit_of_work import UnitOfWork, unless_taken
from domain.enums import Channel, EventKind
from domain.inputs import CustomerIn, FieldError, InvalidInput, parse
from domain.order import EDITABLE, OrderError
from services.orders import record_event, search_text_of

log = logging.getLogger("product_orders.audit")

CONTACT = "the customer"


class ContactIn(CustomerIn):
    """A customer's details as the Customers page edits them."""

    sms_opt_out: bool = False


class UnknownContact(OrderError):
    def __init__(self, contact_id: int) -> None:
        super().__init__(f"Customer {customer_code(contact_id)} does not exist.")


class ContactMerged(OrderError):
    def __init__(self, contact: Contact) -> None:
        into = customer_code(contact.merged_into_id or 0)
        super().__init__(
            f"{contact.customer_code} was merged into {into}; open {into} to change it."
        )


class EmailTaken(OrderError):
    def __init__(self) -> None:
        super().__init__(
            "That e-mail address was just given to another customer. Nothing was saved."
        )


class CannotMerge(OrderError):
    pass


# ---- edits -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactEdited:
    customer_code: str
    open_orders_updated: int


def edit_contact(
    db: Database, *, contact_id: int, changes: ContactIn | dict[str, Any], actor: str
) -> ContactEdited:
    """Correct a customer's details; their open orders take the new details too."""
    with unless_taken(db, EmailTaken) as uow:
        contact = _load(uow.session, contact_id)
        data = _contact_in(uow.session, changes)
        _check_email_free(uow.session, data.email, contact_id)
        contact.first_name = data.first_name
        contact.last_name = data.last_name
        contact.email = data.email
        contact.email_key = data.email.lower()
        contact.phone = data.phone
        contact.preferred_channel = Channel(data.preferred_channel)
        contact.sms_opt_out = data.sms_opt_out
        updated = _update_open_orders(uow, contact, actor)
        uow.commit()
    log.info("%s edited customer %s", actor, contact.customer_code)
    return ContactEdited(contact.customer_code, updated)


def _contact_in(session: Session, changes: ContactIn | dict[str, Any]) -> ContactIn:
    if isinstance(changes, ContactIn):
        data = changes
    else:
        region = load_settings(session).default_country
        data = parse(ContactIn, changes, region=region, subject=CONTACT)
    if data.preferred_channel == "sms" and not data.phone:
        raise InvalidInput([FieldError("phone", "is needed to send them SMS")], subject=CONTACT)
    return data


def _load(session: Session, contact_id: int, *, lock: bool = False) -> Contact:
    query = select(Contact).where(Contact.id == contact_id)
    contact = session.scalar(query.with_for_update() if lock else query)
    if contact is None:
        raise UnknownContact(contact_id)
    if contact.merged_into_id is not None:
        raise ContactMerged(contact)
    return contact


def _check_email_free(session: Session, email: str, contact_id: int) -> None:
    owner = session.scalar(select(Contact).where(Contact.email_key == email.lower()))
    if owner is not None and owner.merged_into_id == contact_id:
        # Taking over the address of a duplicate merged into this customer: the duplicate
        # lets go of it (lookups of that address now find this customer directly).
        owner.email_key = f"{owner.email_key[:220]}#merged-{owner.id}"
        session.flush()
        return
    if owner is not None and owner.id != contact_id:
        who = f"{owner.customer_code} ({owner.first_name} {owner.last_name})"
        raise InvalidInput(
            [FieldError("email", f"is already used by {who}; merge the two instead")],
            subject=CONTACT,
        )


def _update_open_orders(uow: UnitOfWork, contact: Contact, actor: str) -> int:
    """Copy new details onto the orders still being worked on, so messages reach them."""
    orders = uow.session.scalars(
        select(Order).where(Order.contact_id == contact.id, Order.status.in_(sorted(EDITABLE)))
    ).all()
    updated = 0
    for order in orders:
        before = _customer_line(order)
        order.customer_first_name = contact.first_name
        order.customer_last_name = contact.last_name
        order.customer_email = contact.email
        order.customer_phone = contact.phone
        order.search_text = search_text_of(order)
        after = _customer_line(order)
        if after != before:
            uow.claim_order(order)
            record_event(
                uow, order, EventKind.CUSTOMER_UPDATED, None, None, actor, f"{before} → {after}"
            )
            updated += 1
    return updated


def _customer_line(order: Order) -> str:
    phone = f" {order.customer_phone}" if order.customer_phone else ""
    return f"{order.customer_first_name} {order.customer_last_name} <{order.customer_email}>{phone}"


# ---- merging ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeResult:
    kept: str
    merged: str
    orders_moved: int


def merge_contacts(db: Database, *, keep_id: int, merge_id: int, actor: str) -> MergeResult:
    """Fold a duplicate into the customer to keep: its orders move, and it points there."""
    if keep_id == merge_id:
        raise CannotMerge("Choose two different customers to merge.")
    with UnitOfWork(db) as uow:
        keep = _load(uow.session, keep_id, lock=True)
        duplicate = _load(uow.session, merge_id, lock=True)
        orders = uow.session.scalars(
            select(Order).where(Order.contact_id == merge_id).order_by(Order.id)
        ).all()
        detail = f"{duplicate.customer_code} ({duplicate.email}) merged into {keep.customer_code}"
        for order in orders:
            uow.claim_order(order)
            order.contact_id = keep.id
            record_event(
                uow,
                order,
                EventKind.CUSTOMER_MERGED,
                duplicate.customer_code,
                keep.customer_code,
                actor,
                detail,
            )
        _take_phone(keep, duplicate)
        _repoint(uow.session, merge_id, keep_id)
        duplicate.merged_into_id = keep.id
        uow.commit()
    log.info("%s merged %s into %s", actor, duplicate.customer_code, keep.customer_code)
    return MergeResult(keep.customer_code, duplicate.customer_code, len(orders))


def _take_phone(keep: Contact, duplicate: Contact) -> None:
    # A STOP is the customer's word about that phone: it must survive the merge.
    if not keep.phone and duplicate.phone:
        keep.phone = duplicate.phone
        keep.sms_opt_out = duplicate.sms_opt_out
    elif keep.phone and keep.phone == duplicate.phone:
        keep.sms_opt_out = keep.sms_opt_out or duplicate.sms_opt_out


def _repoint(session: Session, old_id: int, new_id: int) -> None:
    """Contacts merged into the duplicate earlier, and its messages, now belong to the keeper."""
    session.execute(
        update(Contact).where(Contact.merged_into_id == old_id).values(merged_into_id=new_id)
    )
    session.execute(
        update(Notification).where(Notification.contact_id == old_id).values(contact_id=new_id)
    )
