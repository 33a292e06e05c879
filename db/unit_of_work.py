"""One transaction for one change: everything it writes commits together or not at all."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from db.database import Database
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
        if isinstance(exc, StaleDataError):
            # A concurrent writer bumped the order's version between our read and our write
            # (seen at whichever flush sent our UPDATE: an autoflush or the commit).
            raise StaleOrder() from None
        if exc_type is None and self._committed and self.notification_ids:
            self._announce()

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
