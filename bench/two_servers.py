"""Two servers, one PostgreSQL: `python -m bench.two_servers --database-url postgresql://…`.

The shape a growing shop deploys: two `streamlit run app.py` processes on different ports
share one database, the assistant's orders are split across both, and both run their
notification delivery (after-commit workers and the dispatcher loop) against one fake
SendGrid. Some orders are also retried through the *other* server with the same
Idempotency-Key, and some are confirmed by a third process that sends nothing itself, so
only the two dispatcher loops can deliver those. Then: every order has its own number,
each retry got the first answer, and every notification reached the provider exactly once.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select

import config
from bench.datasets import fresh_schema
from bench.intake import TOKEN, _Bodies
from db.database import Database
from db.models import Notification, Order, Product
from domain.enums import NotificationStatus
from services import orders
from tests.e2e.conftest import Server, start_api_server, start_server, stop_server
from tests.fakes.notify import API_KEY, FROM_EMAIL, accepted_per_reference
from tests.fakes.provider_server import FakeProviderServer

FINAL = {NotificationStatus.SENT, NotificationStatus.FAILED, NotificationStatus.DEAD,
         NotificationStatus.UNCERTAIN, NotificationStatus.UNDELIVERABLE}  # fmt: skip


@dataclass
class Outcome:
    placed: dict[str, str] = field(default_factory=dict)  # Idempotency-Key → order number
    per_server: list[int] = field(default_factory=list)  # orders placed through each
    retries: int = 0
    retries_answered_differently: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    confirmed: int = 0
    orders_in_database: int = 0
    duplicate_numbers: list[str] = field(default_factory=list)
    notifications: int = 0
    unfinished: list[str] = field(default_factory=list)  # dedupe keys not sent in time
    sent_twice: dict[str, int] = field(default_factory=dict)
    never_sent: list[str] = field(default_factory=list)
    unknown_sent: list[str] = field(default_factory=list)
    dispatched_per_server: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def problems(self) -> list[str]:
        found = []
        if self.failed_requests:
            found.append(f"{len(self.failed_requests)} requests failed: {self.failed_requests[:3]}")
        if len(set(self.placed.values())) != len(self.placed):
            found.append("two different keys were given the same order number")
        if self.orders_in_database != len(self.placed):
            found.append(f"{self.orders_in_database} orders stored for {len(self.placed)} keys")
        for name in ("retries_answered_differently", "duplicate_numbers", "unfinished",
                     "never_sent", "unknown_sent"):  # fmt: skip
            value = getattr(self, name)
            if value:
                found.append(f"{name.replace('_', ' ')}: {value[:5]}")
        if self.sent_twice:
            found.append(f"sent more than once: {dict(list(self.sent_twice.items())[:5])}")
        return found


def run(
    url: str, folder: Path, *, orders_count: int = 200, clients_per_server: int = 4,
    timeout: float = 120.0, api_workers: int = 0,
) -> Outcome:  # fmt: skip
    """Run the scenario on a migrated PostgreSQL database with a catalogue and no orders.

    With `api_workers`, the second server is `python -m api --workers N` (the API without
    the dashboard) instead of a second `streamlit run app.py`.
    """
    started = time.perf_counter()
    db = Database(url)
    outcome = Outcome()
    try:
        with FakeProviderServer() as fake:
            env = {
                "INTAKE_API_TOKENS": TOKEN,
                "SENDGRID_API_KEY": API_KEY,
                "SENDGRID_FROM_EMAIL": FROM_EMAIL,
                "SENDGRID_API_HOST": fake.url,
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
            }
            servers = [start_server(url, folder / "server-1.log", env)]
            if api_workers:
                second = start_api_server(url, folder / "api.log", env, workers=api_workers)
            else:
                second = start_server(url, folder / "server-2.log", env)
            servers.append(second)
            try:
                _place(servers, _bodies(db), orders_count, clients_per_server, outcome)
                _confirm_in_waves(db, outcome)
                _wait_until_delivered(db, outcome, timeout)
            finally:
                for server in servers:
                    stop_server(server)
            outcome.dispatched_per_server = [_dispatched(s) for s in servers]
            _check(db, fake, outcome)
    finally:
        db.dispose()
    outcome.seconds = time.perf_counter() - started
    return outcome


def _bodies(db: Database) -> _Bodies:
    with db.reading() as session:
        skus = list(session.scalars(select(Product.sku).where(Product.active.is_(True))))
    return _Bodies(skus, seed=int(time.time()))


def _place(
    servers: list[Server], bodies: _Bodies, count: int, clients: int, outcome: Outcome
) -> None:
    """`clients` threads per server; every tenth order is retried through the other server."""
    lock = threading.Lock()
    outcome.per_server = [0 for _ in servers]
    jobs = iter(range(count))

    def client(index: int) -> None:
        mine, other = _connect(servers[index]), _connect(servers[1 - index])
        while True:
            with lock:
                job = next(jobs, None)
            if job is None:
                return
            key, body = uuid.uuid4().hex, bodies.next()
            status, answer = _post(mine, key, body)
            with lock:
                if status != 201:
                    outcome.failed_requests.append(f"{status} {answer!r:.200}")
                    continue
                outcome.placed[key] = answer["number"]
                outcome.per_server[index] += 1
            if job % 10 == 0:
                again, replayed = _post(other, key, body)
                with lock:
                    outcome.retries += 1
                    if again >= 300 or replayed.get("number") != answer["number"]:
                        outcome.retries_answered_differently.append(key)

    threads = [threading.Thread(target=client, args=(n % len(servers),))
               for n in range(clients * len(servers))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _connect(server: Server) -> http.client.HTTPConnection:
    where = urlsplit(server.url)
    return http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=30)


def _post(
    connection: http.client.HTTPConnection, key: str, body: dict[str, Any]
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": key,
               "Content-Type": "application/json"}  # fmt: skip
    connection.request("POST", "/api/v1/orders", body=json.dumps(body), headers=headers)
    response = connection.getresponse()
    raw = response.read()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, {"raw": raw[:200]}


def _confirm_in_waves(db: Database, outcome: Outcome, waves: int = 4) -> None:
    """Confirm a quarter of the orders from here, where nothing is delivered: only the
    servers' dispatcher loops can send these, and they poll at different moments."""
    numbers = sorted(outcome.placed.values())[: max(1, len(outcome.placed) // 4)]
    with db.reading() as session:
        ids = list(session.scalars(select(Order.id).where(Order.number.in_(numbers))))
    for wave in range(waves):
        for order_id in ids[wave::waves]:
            orders.confirm_order(db, order_id=order_id, expected_version=None, actor="bench")
            outcome.confirmed += 1
        time.sleep(1.5)


def _wait_until_delivered(db: Database, outcome: Outcome, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with db.reading() as session:
            unfinished = list(
                session.scalars(
                    select(Notification.dedupe_key).where(Notification.status.not_in(FINAL))
                )
            )
        if not unfinished or time.monotonic() > deadline:
            outcome.unfinished = unfinished
            return
        time.sleep(0.5)


def _dispatched(server: Server) -> int:
    """How many rows this server's dispatcher loop sent (from its log)."""
    total = 0
    for line in server.log().splitlines():
        if "dispatched:" in line:
            total += sum(int(part.split()[0]) for part in line.split("dispatched:")[1].split(",")
                         if part.strip().split()[0].isdigit())  # fmt: skip
    return total


def _check(db: Database, fake: FakeProviderServer, outcome: Outcome) -> None:
    with db.reading() as session:
        outcome.orders_in_database = session.scalar(select(func.count()).select_from(Order)) or 0
        outcome.duplicate_numbers = list(
            session.scalars(select(Order.number).group_by(Order.number).having(func.count() > 1))
        )
        rows = dict(
            session.execute(
                select(Notification.dedupe_key, Notification.status).where(
                    Notification.channel.is_not(None)
                )
            ).all()
        )
    outcome.notifications = len(rows)
    accepted: Counter[str] = accepted_per_reference(fake)
    outcome.sent_twice = {key: n for key, n in accepted.items() if n > 1}
    outcome.never_sent = sorted(key for key in rows if accepted[key] == 0)
    outcome.unknown_sent = sorted(key for key in accepted if key not in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Two servers on one PostgreSQL database.")
    parser.add_argument(
        "--database-url", required=True, help="PostgreSQL; uses its schema bench_two_servers"
    )
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4, help="HTTP clients per server")
    parser.add_argument(
        "--api-workers",
        type=int,
        default=0,
        help="make the second server `python -m api --workers N` instead of a dashboard",
    )
    args = parser.parse_args(argv)
    url = fresh_schema(config.normalise_database_url(args.database_url), "bench_two_servers")
    with tempfile.TemporaryDirectory(prefix="bench-two-") as folder:
        outcome = run(
            url,
            Path(folder),
            orders_count=args.orders,
            clients_per_server=args.clients,
            api_workers=args.api_workers,
        )
    print(
        f"placed {len(outcome.placed)} orders ({outcome.per_server[0]} + {outcome.per_server[1]} "
        f"through the two servers), {outcome.retries} retried through the other server, "
        f"{outcome.confirmed} confirmed from outside; {outcome.notifications} notifications, "
        f"dispatcher loops sent {outcome.dispatched_per_server}; {outcome.seconds:.0f} s"
    )
    for problem in outcome.problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    print("OK: unique numbers, retries replayed, every notification sent exactly once"
          if not outcome.problems else "FAILED")  # fmt: skip
    return 1 if outcome.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
