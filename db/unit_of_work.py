"""One transaction for one change: everything it writes commits together or not at all."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from db.database import Database
from db.models import Order, utc_now
from domain.order import OrderError

log = logging.getLogger("product_orders")


class StaleOrder(OrderError):
    def __init__(self, number: str = "") -> None:
        label = f"Order {number}" if number else "This order"
        super().__init__(f"{label} changed — reloaded. Please check it and try again.")


class UnitOfWork:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.notification_ids: list[int] = []
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        self.session: Session = self.db.writing()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                self.session.rollback()
            self.session.close()
        except DBAPIError:
            # The connection is gone (a database outage): nothing was committed, and the
            # error the caller must see is the one that got us here.
            log.warning("rollback failed: the database connection is gone")
            if exc is None:
                raise
        if exc_type is None and self._committed and self.notification_ids:
            self._announce()

    def update_order(
        self,
        order_id: int,
        read_version: int,
        changes: dict[str, Any] | None = None,
        *,
        versions: int = 1,
        at: datetime | None = None,
        number: str = "",
    ) -> dict[str, Any]:
        """Write `changes` to the order unless someone changed it since we read `read_version`.

        The one optimistic-locking step every write to an order takes: it moves the version
        on by one per recorded change and stamps `updated_at`, and returns what it wrote.
        An edit that also changes lines or fields through the ORM calls it first, with no
        changes: the row is then held (PostgreSQL locks it, SQLite's write lock is already
        taken) until the commit, so the flush that follows cannot lose a concurrent write.
        """
        now = at or utc_now()
        written = {**(changes or {}), "version": read_version + versions, "updated_at": now}
        params = {**written, "order_id": order_id, "read_version": read_version}
        result = cast(CursorResult[Any], self.session.execute(UPDATE_ORDER, params))
        if result.rowcount != 1:
            raise StaleOrder(number)
        return written

    def claim_order(self, order: Order) -> None:
        """Take the next version of an order loaded to be changed through the ORM."""
        written = self.update_order(order.id, order.version, number=order.number)
        for name, value in written.items():
            set_committed_value(order, name, value)

    def flush(self) -> None:
        self.session.flush()

    def commit(self) -> None:
        self.session.commit()
        self._committed = True

    def _announce(self) -> None:
        for callback in list(self.db.notification_listeners):
            try:
                callback(list(self.notification_ids))
            except Exception:  # delivery must never undo or fail a committed change
                log.exception("immediate notification delivery failed; the dispatcher retries")


ORDERS = cast(Table, Order.__table__)
UPDATE_ORDER = update(ORDERS).where(
    ORDERS.c.id == bindparam("order_id"), ORDERS.c.version == bindparam("read_version")
)


@contextmanager
def unless_taken(db: Database, error: Callable[[], OrderError]) -> Iterator[UnitOfWork]:
    """A unit of work whose unique-key clash becomes `error()`.

    Services check that a SKU or an e-mail is free before writing, but a concurrent writer
    can take it in between; the database's unique constraint then has the last word.
    """
    try:
        with UnitOfWork(db) as uow:
            yield uow
    except IntegrityError:
        raise error() from None
