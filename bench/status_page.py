"""The customer's order page, `GET /o/{token}`, beside `GET /healthz` on the same server.

`python -m api` (one worker) on the prepared database, with status links configured; one
keep-alive connection sends the two requests in turn, after a warm-up, and each figure is
the median of its requests. /healthz is the floor: a route that also reaches the database
(one ping) and answers a few bytes, so the ratio is what reading the order and rendering
its page add. Each request names a client address of its own (X-Forwarded-For, which the
server trusts from 127.0.0.1) so the page's per-address lookup limit never answers 429.
"""

from __future__ import annotations

import http.client
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import func, select

from bench.measure import Floor, Row, Section, Target
from db.database import Database
from db.models import Order
from notify.links import OrderLinks
from tests.e2e.conftest import start_api_server, stop_server

SECRET = "bench-order-link-secret"
BASE = "http://127.0.0.1"
TARGET = Target("ratio_at_most", 3.0)


def measure(section: Section, url: str, *, requests: int) -> None:
    db = Database(url)
    with db.reading() as session:
        order_id = session.scalar(select(func.max(Order.id)))
    db.dispose()
    assert order_id, "the prepared database has no orders"
    page = f"/o/{OrderLinks(BASE, SECRET).token_for(order_id)}"
    env = {"ORDER_LINK_SECRET": SECRET, "PUBLIC_BASE_URL": BASE}
    with tempfile.TemporaryDirectory(prefix="bench-status-") as folder:
        server = start_api_server(url, Path(folder) / "api.log", env=env)
        try:
            where = urlsplit(server.url)
            connection = http.client.HTTPConnection(where.hostname or "", where.port, timeout=30)
            samples: dict[str, list[float]] = {page: [], "/healthz": []}
            for n in range(20 + requests):
                for path in samples:
                    seconds = _get(connection, path, n)
                    if n >= 20:
                        samples[path].append(seconds * 1000)
            connection.close()
        finally:
            stop_server(server)
    section.add(
        Row(
            "status_page",
            "Customer's order page, GET /o/{token}",
            statistics.median(samples[page]),
            "ms",
            [Floor("healthz", "GET /healthz, same server", statistics.median(samples["/healthz"]))],
            TARGET,
        )
    )


def _get(connection: http.client.HTTPConnection, path: str, n: int) -> float:
    address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
    started = time.perf_counter()
    connection.request("GET", path, headers={"X-Forwarded-For": address})
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {response.status}: {body[:300]!r}")
    return elapsed
