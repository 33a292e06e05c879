"""Issuing invoices: a number given once per order, never reused, without gaps.

An order's invoice number (INV-<year of issue>-<5 digits>) is given the first time its
invoice is issued, in one transaction with everything that goes with it: the order row is
locked, the per-year counter row moved on by `UPDATE … SET value = value + 1 RETURNING`,
the number stored on the order and the issue recorded on its timeline. Concurrent issuers
queue on the counter row, and a transaction that rolls back takes its number back with it,
so the numbers of a year run 1, 2, 3… with no gaps and no repeats. Issuing again returns
the number already given.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, select, text
from sqlalchemy.orm import Session

from db.database import Database
from db.models import Order, utc_now
from db.settings import load_settings
from db.unit_of_work import UnitOfWork
from domain.enums import EventKind
from domain.order import OrderError
from queries.documents import invoice_documents
from services.orders import record_event

ORDERS = cast(Table, Order.__table__)
LOCK_ORDER = select(
    ORDERS.c.id, ORDERS.c.number, ORDERS.c.version, ORDERS.c.invoice_number
).with_for_update()
# The year's counter row is made on first use; a concurrent maker waits, then does nothing.
MAKE_COUNTER = text(
    "INSERT INTO counters (name, value) VALUES (:name, 0) ON CONFLICT (name) DO NOTHING"
)
NEXT_IN_COUNTER = text("UPDATE counters SET value = value + 1 WHERE name = :name RETURNING value")


class OrderNotFound(OrderError):
    pass


def invoice_number(year: int, sequence: int) -> str:
    return f"INV-{year}-{sequence:05d}"


def locked_number(session: Session, order_id: int) -> str | None:
    """The order's invoice number, if it has one, with the order row locked till the commit.

    Whoever issues locks the order first and the counter second, so issuers never deadlock.
    """
    order = session.execute(LOCK_ORDER.where(ORDERS.c.id == order_id)).one_or_none()
    if order is None:
        raise OrderNotFound("That order no longer exists.")
    return cast(str | None, order.invoice_number)


def next_number(session: Session, zone: ZoneInfo, now: datetime) -> str:
    """The next number of `now`'s year (in the business's zone); rolled back with the caller."""
    year = now.astimezone(zone).year
    counter = {"name": f"invoice:{year}"}
    session.execute(MAKE_COUNTER, counter)
    return invoice_number(year, session.execute(NEXT_IN_COUNTER, counter).scalar_one())


def issue_invoice(db: Database, *, order_id: int, actor: str, at: datetime | None = None) -> str:
    """The order's invoice number, given now if it has none yet (and recorded by `actor`)."""
    if not actor.strip():
        raise ValueError("every change needs an actor")
    with UnitOfWork(db) as uow:
        session = uow.session
        order = session.execute(LOCK_ORDER.where(ORDERS.c.id == order_id)).one_or_none()
        if order is None:
            raise OrderNotFound("That order no longer exists.")
        if order.invoice_number:
            return cast(str, order.invoice_number)
        now = at or utc_now()
        number = next_number(session, load_settings(session).zone, now)
        uow.update_order(
            order.id,
            order.version,
            {"invoice_number": number, "invoice_issued_at": now},
            at=now,
            number=order.number,
        )
        record_event(uow, order, EventKind.INVOICE, None, number, actor, number, now)  # type: ignore[arg-type]
        uow.commit()
        return number


def invoices(db: Database, order_ids: Sequence[int], *, actor: str) -> bytes:
    """One PDF with an invoice page per order, issuing numbers to those that have none.

    Each order is issued in its own short transaction, in the order given, so a bulk run
    never holds the counter while it renders.
    """
    for order_id in dict.fromkeys(order_ids):
        issue_invoice(db, order_id=order_id, actor=actor)
    return invoice_documents(db, order_ids)


def invoice(db: Database, *, order_id: int, actor: str) -> bytes:
    return invoices(db, [order_id], actor=actor)
