"""Customers as read: a searchable, sortable page of them with their order count and
lifetime value, one customer's order history, and the likely duplicates of one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from db.database import Database
from db.models import Contact, Order, customer_code
from domain.order import OrderStatus, PaymentStatus
from queries.search import found_in_any, search_terms

CODE = re.compile(r"^cus-?0*(\d{1,9})$")
NAME_AND_EMAIL = (func.lower(Contact.first_name), func.lower(Contact.last_name), Contact.email_key)


@dataclass(frozen=True)
class ContactView:
    id: int
    customer_code: str
    first_name: str
    last_name: str
    email: str
    phone: str | None
    preferred_channel: str
    sms_opt_out: bool

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def list_contacts(db: Database, *, search: str = "", limit: int = 200) -> list[ContactView]:
    query = select(Contact).where(Contact.merged_into_id.is_(None))
    for term in search_terms(search):
        query = query.where(found_in_any(term, *NAME_AND_EMAIL, func.coalesce(Contact.phone, "")))
    query = query.order_by(Contact.last_name, Contact.first_name, Contact.id).limit(limit)
    with db.reading() as session:
        return [_contact(c) for c in session.scalars(query)]


def _contact(c: Contact) -> ContactView:
    return ContactView(
        c.id,
        customer_code(c.id),
        c.first_name,
        c.last_name,
        c.email,
        c.phone,
        c.preferred_channel.value,
        c.sms_opt_out,
    )


class ContactSort(StrEnum):
    NAME = "name"
    VALUE = "value"
    RECENT = "recent"


@dataclass(frozen=True)
class ContactSummary(ContactView):
    order_count: int
    lifetime_value_cents: int
    last_order_at: datetime | None


@dataclass(frozen=True)
class ContactPage:
    rows: list[ContactSummary]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class ContactOrder:
    id: int
    number: str
    created_at: datetime
    status: OrderStatus
    payment_status: PaymentStatus
    item_count: int
    items_summary: str
    total_cents: int


@dataclass(frozen=True)
class ContactHistory:
    contact: ContactSummary
    orders: list[ContactOrder]
    merged_from: list[str]  # "CUS-000012 (old@example.com)"


# Lifetime value counts what the customer is paying for: not cancelled, not refunded.
COUNTED = (Order.status != OrderStatus.CANCELLED) & (Order.payment_status != PaymentStatus.REFUNDED)


def _stats(contact_ids: list[int] | None = None) -> Any:
    """Order count, lifetime value and last order per contact (of `contact_ids`, if given:
    a page of customers needs only its own, read through the contact index)."""
    query = select(
        Order.contact_id.label("contact_id"),
        func.count(Order.id).label("orders"),
        func.sum(case((COUNTED, Order.total_cents), else_=0)).label("value"),
        func.max(Order.created_at).label("last_order_at"),
    )
    if contact_ids is not None:
        query = query.where(Order.contact_id.in_(contact_ids))
    return query.group_by(Order.contact_id).subquery()


def _summaries_of(session: Session, contact_ids: list[int], order_by: Any) -> list[Any]:
    query = _summaries(_stats(contact_ids)).where(Contact.id.in_(contact_ids))
    return [_summary(row) for row in session.execute(query.order_by(*order_by))]


def _summaries(stats: Any) -> Select[Any]:
    return select(
        Contact,
        func.coalesce(stats.c.orders, 0),
        func.coalesce(stats.c.value, 0),
        stats.c.last_order_at,
    ).outerjoin(stats, stats.c.contact_id == Contact.id)


def _summary(row: Any) -> ContactSummary:
    contact, orders, value, last = row
    return ContactSummary(
        **vars(_contact(contact)),
        order_count=int(orders),
        lifetime_value_cents=int(value),
        last_order_at=last,
    )


def _matching(term: str) -> Any:
    code = CODE.match(term)
    if code:
        return Contact.id == int(code.group(1))
    conditions = [found_in_any(term, *NAME_AND_EMAIL)]
    digits = "".join(ch for ch in term if ch.isdigit())
    if digits:
        # Phones are stored as E.164: the search's digits match, whatever dashes it has.
        conditions.append(func.coalesce(Contact.phone, "").like(f"%{digits}%"))
    return or_(*conditions)


BY_NAME = (Contact.last_name, Contact.first_name, Contact.id)


def search_contacts(
    db: Database,
    *,
    search: str = "",
    sort: ContactSort = ContactSort.NAME,
    page: int = 1,
    page_size: int = 50,
) -> ContactPage:
    """One page of customers with their order count and lifetime value, all from SQL."""
    conditions = [Contact.merged_into_id.is_(None)]
    conditions += [_matching(term) for term in search_terms(search)]
    with db.reading() as session:
        total = session.scalar(select(func.count(Contact.id)).where(*conditions)) or 0
        page = max(1, min(page, max(1, -(-total // page_size))))
        offset = (page - 1) * page_size
        if sort is ContactSort.NAME:
            # Page the contacts first; only that page's orders are then added up.
            ids = select(Contact.id).where(*conditions).order_by(*BY_NAME)
            page_ids = list(session.scalars(ids.limit(page_size).offset(offset)))
            rows = _summaries_of(session, page_ids, BY_NAME)
        else:
            # Sorting by an aggregate needs every contact's: one grouped pass over orders.
            stats = _stats()
            order_by = {
                ContactSort.VALUE: (func.coalesce(stats.c.value, 0).desc(), Contact.id),
                ContactSort.RECENT: (
                    stats.c.last_order_at.is_(None),
                    stats.c.last_order_at.desc(),
                    Contact.id,
                ),
            }[sort]
            query = _summaries(stats).where(*conditions).order_by(*order_by)
            rows = [_summary(r) for r in session.execute(query.limit(page_size).offset(offset))]
    return ContactPage(rows, total, page, page_size)


HISTORY_LIMIT = 500


def contact_history(db: Database, *, contact_id: int) -> ContactHistory | None:
    """The customer, their orders newest first, and the contacts merged into them."""
    with db.reading() as session:
        found = _summaries_of(session, [contact_id], BY_NAME)
        if not found:
            return None
        orders = session.execute(
            select(
                Order.id,
                Order.number,
                Order.created_at,
                Order.status,
                Order.payment_status,
                Order.item_count,
                Order.items_summary,
                Order.total_cents,
            )
            .where(Order.contact_id == contact_id)
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(HISTORY_LIMIT)
        )
        merged = session.execute(
            select(Contact.id, Contact.email)
            .where(Contact.merged_into_id == contact_id)
            .order_by(Contact.id)
        )
        return ContactHistory(
            found[0],
            [ContactOrder(*order) for order in orders],
            [f"{customer_code(i)} ({email})" for i, email in merged],
        )


def possible_duplicates(db: Database, *, contact_id: int, limit: int = 10) -> list[ContactSummary]:
    """Other customers with the same name or the same phone: candidates for a merge."""
    with db.reading() as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            return []
        same: list[Any] = [
            (func.lower(Contact.first_name) == contact.first_name.lower())
            & (func.lower(Contact.last_name) == contact.last_name.lower())
        ]
        if contact.phone:
            same.append(Contact.phone == contact.phone)
        candidates = (
            select(Contact.id)
            .where(Contact.id != contact_id, Contact.merged_into_id.is_(None), or_(*same))
            .order_by(Contact.id)
            .limit(limit)
        )
        return _summaries_of(session, list(session.scalars(candidates)), (Contact.id,))
