"""SQL as the app sends it, captured, and sent again bare through the database driver."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event

from db.database import Database

Statement = tuple[str, Any]  # SQL text and its DBAPI parameters, as the driver got them


@dataclass
class Capture:
    statements: list[Statement] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # each statement's time in the driver

    @property
    def total_ms(self) -> float:
        return sum(self.seconds) * 1000


@contextmanager
def captured() -> Iterator[Capture]:
    """Every statement any engine in this process sends while the block runs, and its time."""
    seen = Capture()

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.statements.append((statement, parameters))
        seen.seconds.append(-time.perf_counter())

    def after(*_: Any) -> None:
        seen.seconds[-1] += time.perf_counter()

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        event.remove(Engine, "after_cursor_execute", after)


def list_query(statements: list[Statement]) -> Statement | None:
    """The page's query for its rows: a SELECT of order columns with a LIMIT (or its CTE's)."""
    found = [
        (sql, params)
        for sql, params in statements
        if sql.lstrip().upper().startswith(("SELECT", "WITH"))
        and "FROM orders" in sql
        and "LIMIT" in sql.upper()
        and "items_summary" in sql
    ]
    return found[-1] if found else None


def reads(statements: list[Statement]) -> list[Statement]:
    return [s for s in statements if s[0].lstrip().upper().startswith("SELECT")]


class Driver:
    """A bare DBAPI connection in autocommit mode: the floor under SQLAlchemy and the ORM."""

    def __init__(self, db: Database) -> None:
        self._proxy = db.engine.raw_connection()
        self.connection: Any = self._proxy.driver_connection
        assert self.connection is not None
        self._postgres = not db.is_sqlite
        if self._postgres:
            self.connection.autocommit = True
        self.mark = "?" if db.is_sqlite else "%s"

    def fetch(self, statement: str, parameters: Any = ()) -> list[Any]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(statement, parameters)
            return cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()

    def replay(self, statements: list[Statement]) -> Callable[[], None]:
        """A callable that sends these statements again, fetching every row."""

        def run() -> None:
            for statement, parameters in statements:
                self.fetch(statement, parameters)

        return run

    def close(self) -> None:
        if self._postgres:
            self.connection.autocommit = False
        self._proxy.close()
