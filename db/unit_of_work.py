"""One transaction for one change: everything it writes commits together or not at all."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from types import TracebackType
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Insert,
    Select,
    Table,
    Update,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from db.database import Database
from db.models import ORDER_NUMBER_SEQUENCE, Order, insert_values, utc_now
from domain.order import OrderError

log = logging.getLogger("product_orders")


class StaleOrder(OrderError):
    def __init__(self, number: str = "") -> None:
        label = f"Order {number}" if number else "This order"
        super().__init__(f"{label} changed — reloaded. Please check it and try again.")


class UnitOfWork:
    """One change's writes, committed together.

    `one_statement`: the change reads what it needs, then sends everything it writes as one
    statement at the commit (a new order: see `number_new_order`). On PostgreSQL it then
    needs no transaction at all, for a statement is atomic by itself: no BEGIN and COMMIT
    round trips (docs/BENCHMARKS.md says what that saved). Its writes must all go through
    `insert`, `insert_rows` and `update_one`; a change left for the ORM to flush would be
    written apart from the rest, so the commit refuses one.
    """

    def __init__(self, db: Database, *, one_statement: bool = False) -> None:
        self.db = db
        self.notification_ids: list[int] = []
        self._committed = False
        self._one_statement = one_statement
        # PostgreSQL: ids taken up front for rows still to be inserted, and the writes that
        # wait for the commit to go to the database together (see `number_new_order`).
        self._reserved: dict[str, list[int]] = {}
        self._waiting: list[_Waiting] | None = None

    def __enter__(self) -> UnitOfWork:
        self.session: Session = self.db.writing(one_statement=self._one_statement)
        if self._one_statement and not self.db.is_sqlite:
            self._waiting = []
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

    def number_new_order(self, rows: dict[Table, int]) -> str:
        """The new order's number; on PostgreSQL also the ids of the rows it will insert
        (`rows`: how many in each table).

        With those ids taken in the number's own round trip, the order's writes need not
        wait for ids from the database one by one: from here on, `insert`, `insert_rows` and
        `update_one` wait for the commit, which sends them as one statement. An order from
        the assistant went from ten statements to six, and its CPU down by a sixth
        (bench/intake.py); reading its settings with its key's claim, and its products
        with its contact, made it four (tests/integration/test_intake_service.py). SQLite,
        in process, has no round trips to save: it writes each at once.
        """
        if self.db.is_sqlite:
            return self.db.next_order_number(self.session)
        wanted = tuple(rows.items())
        number, *ids = self.session.execute(_reserving(wanted)).one()
        for table, count in wanted:
            self._reserved[table.name], ids = ids[:count], ids[count:]
        if self._waiting is None:
            self._waiting = []
        return f"ORD-{number}"

    def insert(self, table: Table, row: Any) -> None:
        """Insert a new ORM object's row with Core, and set its id.

        Core, not `session.add`: the ORM's unit of work costs more CPU than the insert.
        """
        values = insert_values(table, row)
        if self._waiting is None:
            row.id = self.session.execute(_inserting(table), values).scalar_one()
            return
        (row.id,) = self._reserved.pop(table.name)
        self._waiting.append(_Waiting(table, [{"id": row.id, **_defaults(table), **values}]))

    def insert_rows(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert rows whose ids nobody needs back; their ids follow their order."""
        if self._waiting is None:
            self.session.execute(insert(table), rows)
            return
        ids = self._reserved.pop(table.name)
        self._waiting.append(
            _Waiting(
                table,
                [{"id": id, **_defaults(table), **row} for id, row in zip(ids, rows, strict=True)],
            )
        )

    def update_one(
        self,
        statement: Update,
        values: dict[str, Any],
        where: dict[str, Any],
        refused: Callable[[], Exception] | None = None,
    ) -> None:
        """Set `values` on the one row `statement` picks (its WHERE bound by `where`), or raise
        `refused()` — then nothing of this unit of work is kept. Without `refused`, a row
        that is not there is left be."""
        if self._waiting is None:
            result = cast(CursorResult[Any], self.session.execute(statement, {**values, **where}))
            if refused is not None and result.rowcount != 1:
                raise refused()
            return
        if refused is not None and any(write.refused for write in self._waiting):
            raise ValueError("one statement holds at most one update that may be refused")
        table = cast(Table, statement.table)
        self._waiting.append(_Waiting(table, [values], statement, where, refused))

    def flush(self) -> None:
        self.session.flush()

    def commit(self) -> None:
        if self._one_statement and (self.session.new or self.session.dirty or self.session.deleted):
            raise RuntimeError("a one-statement change has writes left for the ORM to flush")
        if self._waiting:
            self._send_waiting()
        self.session.commit()
        self._committed = True

    def _send_waiting(self) -> None:
        waiting, self._waiting = self._waiting or [], None
        params: dict[str, Any] = {}
        for index, write in enumerate(waiting):
            params.update(write.where)
            for row, values in enumerate(write.rows):
                params.update({_name(index, row, key): value for key, value in values.items()})
        try:
            self.session.execute(_together(tuple(w.shape for w in waiting)), params)
        except DataError as exc:
            refused = next((write.refused for write in waiting if write.refused), None)
            if refused is None or getattr(exc.orig, "pgcode", None) != DIVISION_BY_ZERO:
                raise
            raise refused() from None

    def _announce(self) -> None:
        for callback in list(self.db.notification_listeners):
            try:
                callback(list(self.notification_ids))
            except Exception:  # delivery must never undo or fail a committed change
                log.exception("immediate notification delivery failed; the dispatcher retries")


@dataclass(frozen=True)
class _Waiting:
    """A write waiting for the commit: rows to insert, or an update of one row."""

    table: Table
    rows: list[dict[str, Any]]
    update: Update | None = None
    where: dict[str, Any] = field(default_factory=dict)
    refused: Callable[[], Exception] | None = None  # an update's: raised if it matches no row

    @property
    def shape(self) -> _Shape:
        guarded = self.refused is not None
        return (self.table, self.update, guarded, len(self.rows), tuple(self.rows[0]))


_Shape = tuple[Table, Update | None, bool, int, tuple[str, ...]]
# PostgreSQL's SQLSTATE for division by zero: how the one statement refuses itself.
DIVISION_BY_ZERO = "22012"


def _name(write: int, row: int, key: str) -> str:
    return f"w{write}_{row}_{key}"


@lru_cache(maxsize=256)
def _together(shapes: tuple[_Shape, ...]) -> Select[Any]:
    """One statement for writes of these shapes: each a data-modifying WITH query.

    PostgreSQL checks foreign keys at the statement's end, so rows may refer to each other
    across its parts. An update that may be refused is guarded: the statement divides by
    the number of rows it matched, so matching none fails the whole statement and nothing
    of it is written — with or without a transaction around it. Built once per shape, as
    the orders' hot path statements are.
    """
    parts, guards = [], []
    for index, (table, update_, guarded, rows, keys) in enumerate(shapes):
        for row in range(rows):
            values = {
                key: bindparam(_name(index, row, key), type_=table.c[key].type) for key in keys
            }
            name = f"w{index}_{row}"
            if update_ is None:
                # A row a part: SQLAlchemy caches no statement holding a many-row VALUES.
                parts.append(insert(table).values(values).cte(name))
                continue
            part = update_.values(values).returning(literal_column("1")).cte(name)
            parts.append(part)
            if guarded:
                matched = select(func.count()).select_from(part).scalar_subquery()
                guards.append(literal_column("1") / matched)
    return cast(Select[Any], select(*(guards or [literal_column("1")])).add_cte(*parts))


def _defaults(table: Table) -> dict[str, Any]:
    """The values the model gives columns left out. Core applies them to a plain INSERT,
    not to one inside a WITH query."""
    return {
        key: default.arg(None) if callable(default.arg) else default.arg
        for key, default in _column_defaults(table)
    }


@lru_cache(maxsize=32)
def _column_defaults(table: Table) -> tuple[tuple[str, Any], ...]:
    return tuple((c.key, c.default) for c in table.columns if c.default is not None)


@lru_cache(maxsize=32)
def _inserting(table: Table) -> Insert:
    return insert(table).returning(table.c.id)


@lru_cache(maxsize=64)
def _reserving(rows: tuple[tuple[Table, int], ...]) -> Select[Any]:
    """The next order number, then `count` ids of each table, in the order given."""
    sequences = [f"{table.name}_id_seq" for table, count in rows for _ in range(count)]
    return select(*(func.nextval(name) for name in [ORDER_NUMBER_SEQUENCE, *sequences]))


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
