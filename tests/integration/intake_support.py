"""For the intake API's HTTP tests: a real server on a database of its own, and a small client.

Each test module gets its own database — a SQLite file, or a schema of its own in the
PostgreSQL test database — so the server's orders never meet the `db` fixture's.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from db.database import Database
from db.migrate import upgrade
from db.models import Contact, IdempotencyKey, Order, OrderItem
from tests.builders import add_catalogue
from tests.conftest import PG_URL_VARIABLE, postgres_url
from tests.e2e.conftest import start_api_server, start_server, stop_server

TOKEN = "assistant-test-token"
OTHER_TOKEN = "second-assistant-token"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Client:
    url: str
    token: str | None = TOKEN
    timeout: float = 30

    def get(self, path: str, **options: Any) -> Reply:
        return self.call("GET", path, **options)

    def post(self, path: str, body: Any = None, **options: Any) -> Reply:
        return self.call("POST", path, body=body, **options)

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        raw: bytes | None = None,
        key: str | None = None,
        headers: dict[str, str] | None = None,
        chunked: bool = False,
    ) -> Reply:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        if key is not None:
            sent["Idempotency-Key"] = key
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        where = urlsplit(self.url)
        connection = http.client.HTTPConnection(where.hostname, where.port, timeout=self.timeout)
        try:
            payload: bytes | Iterable[bytes] | None = data
            if chunked and data is not None:
                payload = (data[i : i + 8192] for i in range(0, len(data), 8192))
            connection.request(method, path, body=payload, headers=sent, encode_chunked=chunked)
            response = connection.getresponse()
            headers_back = {name.lower(): value for name, value in response.getheaders()}
            return Reply(response.status, headers_back, response.read())
        finally:
            connection.close()


@dataclass
class Api:
    client: Client
    db: Database  # the server's database, for counting what it stored
    kind: str
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.url = self.client.url

    def counts(self) -> dict[str, int]:
        with self.db.reading() as session:
            return {
                model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Order, Contact, OrderItem, IdempotencyKey)
            }


@contextmanager
def own_database(kind: str, folder: Path, schema: str) -> Iterator[Database]:
    """A migrated database with the test catalogue: a SQLite file, or a PostgreSQL schema."""
    if kind == "sqlite":
        db = Database(f"sqlite:///{folder / 'orders.db'}")
    else:
        base = postgres_url()
        if not base:
            pytest.skip(f"PostgreSQL tests need {PG_URL_VARIABLE} (bash .ci/run sets it)")
        _recreate_schema(base, schema)
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        db = Database(url.render_as_string(hide_password=False))
    upgrade(db)
    add_catalogue(db)
    try:
        yield db
    finally:
        db.dispose()


def _recreate_schema(url: str, schema: str) -> None:
    admin = Database(url)
    try:
        with admin.engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    finally:
        admin.dispose()


@contextmanager
def running_api(
    kind: str,
    folder: Path,
    schema: str,
    tokens: str,
    *,
    dashboard: bool = True,
    env: dict[str, str] | None = None,
) -> Iterator[Api]:
    """`streamlit run app.py` (or, without `dashboard`, `python -m api`) on its own
    database, with INTAKE_API_TOKENS=tokens."""
    with own_database(kind, folder, schema) as db:
        env = {**(env or {}), "INTAKE_API_TOKENS": tokens}
        if dashboard:
            server = start_server(db.url, folder / "streamlit.log", env=env)
        else:
            server = start_api_server(db.url, folder / "api.log", env=env)
        try:
            yield Api(Client(server.url), db, kind)
        finally:
            stop_server(server)
