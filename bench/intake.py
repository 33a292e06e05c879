"""Order-intake throughput: `python -m bench.intake --database-url postgresql://…`.

Places orders against the same database and prints orders per second: the intake service
called in process (the floor: no HTTP at all) by one thread and by 8, then one HTTP client
sending one request after another, then 8 clients at once, each on its own keep-alive
connection to `streamlit run app.py`. A row for `create_order` alone shows what the
idempotency record costs. Every order has a fresh Idempotency-Key, a random returning or
new customer and one to three catalogue lines, as the assistant sends them. CPU per order
is the app process's own (PostgreSQL's is not counted): on a busy machine it is the
steadier figure.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select

import config
from bench.datasets import Snapshot
from bench.measure import Floor, Row, Section, Target
from db.database import Database
from db.migrate import upgrade
from db.models import Notification, Product
from db.seed import seed_catalogue
from domain.enums import NotificationStatus, Source
from services import intake, orders
from tests.e2e.conftest import Server, start_server, stop_server

TOKEN = "bench-token"
SCOPE = intake.client_scope(TOKEN)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure order-intake throughput.")
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL or SQLite")
    parser.add_argument("--orders", type=int, default=800, help="orders per measurement")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    args = parser.parse_args(argv)
    url = config.normalise_database_url(args.database_url or config.database_url())
    db = Database(url)
    upgrade(db)
    skus = _catalogue(db)
    bodies = _Bodies(skus, seed=11)
    print(f"database: {db.describe()}  orders per run: {args.orders}  CPUs: {os.cpu_count()}")

    def place(_state: dict[str, Any]) -> None:
        intake.place_order(db, scope=SCOPE, key=uuid.uuid4().hex, payload=bodies.next())

    def create(_state: dict[str, Any]) -> None:
        orders.create_order(db, order=bodies.next(), actor="bench", source=Source.ASSISTANT)

    _measure(20, 1, place, time.process_time)  # warm up
    floor = _measure(args.orders, 1, place, time.process_time)
    floor_threads = _measure(args.orders, args.clients, place, time.process_time)
    bare = _measure(args.orders, 1, create, time.process_time)
    db.dispose()
    sequential, concurrent = _over_http(url, args.orders, args.clients, bodies)
    _report(
        [
            ("create_order alone, no idempotency", bare),
            ("in process, sequential (floor)", floor),
            (f"in process, {args.clients} threads", floor_threads),
            ("HTTP, 1 client, sequential", sequential),
            (f"HTTP, {args.clients} concurrent clients", concurrent),
        ],
        floor,
    )
    print(f"load average after the runs: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


INTAKE_TARGET = Target("at_least", 400, "orders/s")


def measure(section: Section, url: str, *, orders: int, clients: int, runs: int) -> None:
    """Rows for `python -m bench`: HTTP sequential and concurrent, beside the service in process.

    The concurrent clients are also split across two servers on the same database (the
    replicas a growing shop deploys), and the whole machine's CPU per order is set beside
    the most that the 400 orders/s target leaves on this machine's cores: whether more
    server processes could reach it here, or only a cheaper order. Everything placed is
    deleted again afterwards, so the prepared database keeps its size.
    """
    db = Database(url)
    bodies = _Bodies(_catalogue(db), seed=11)
    snapshot = Snapshot.take(db)

    def place(_state: dict[str, Any]) -> None:
        intake.place_order(db, scope=SCOPE, key=uuid.uuid4().hex, payload=bodies.next())

    rates: dict[str, list[float]] = defaultdict(list)
    cpu_per_order: dict[str, list[float]] = defaultdict(list)  # of the http_par runs
    try:
        with _serving(url, bodies, servers=2) as (first, second):
            post, spread = first.post, _Spread([first, second]).post
            _measure(20, 1, place, time.process_time)  # warm up
            _measure(50, 1, post, time.process_time)
            _measure(50, 2, spread, time.process_time)
            for _ in range(runs):
                for name, workers, action in (
                    ("seq", 1, place),
                    ("par", clients, place),
                    ("http_seq", 1, post),
                    ("http_par", clients, post),
                    ("http_two", clients, spread),
                ):
                    if action is not place:
                        _wait_until_sent(db)
                    before = _cpu_split([first, second])
                    rate = _measure(orders, workers, action, time.process_time).orders_per_second
                    rates[name].append(rate)
                    if name == "http_par":
                        for part, seconds in _cpu_split([first, second]).items():
                            cpu_per_order[part].append((seconds - before[part]) / orders * 1000)
    finally:
        snapshot.restore(db)
        db.dispose()
    median = {name: statistics.median(values) for name, values in rates.items()}
    in_process = Floor("in_process", "service in process", median["seq"])
    in_threads = Floor("in_process_threads", f"in process, {clients} threads", median["par"])
    section.add(
        Row(
            "intake.http_sequential",
            "Intake over HTTP, 1 client",
            median["http_seq"],
            "orders/s",
            [in_process],
            higher_is_better=True,
        )
    )
    section.add(
        Row(
            f"intake.http_{clients}_clients",
            f"Intake over HTTP, {clients} concurrent clients",
            median["http_par"],
            "orders/s",
            [in_threads, in_process],
            INTAKE_TARGET if section.kind == "postgresql" else None,
            higher_is_better=True,
        )
    )
    section.add(
        Row(
            f"intake.http_{clients}_clients_two_servers",
            f"Intake over HTTP, {clients} clients across two servers",
            median["http_two"],
            "orders/s",
            [in_threads],
            higher_is_better=True,
        )
    )
    if section.kind == "postgresql":
        _add_cpu_budget(section, clients, cpu_per_order)


def _add_cpu_budget(section: Section, clients: int, cpu_per_order: dict[str, list[float]]) -> None:
    """The machine's CPU per order beside what the target allows, and whose CPU it was."""
    cpu = {part: statistics.median(values) for part, values in cpu_per_order.items()}
    cores = os.cpu_count() or 1
    section.add(
        Row(
            "intake.machine_cpu_per_order",
            f"Machine CPU per order, {clients} HTTP clients (every process)",
            cpu["machine"],
            "ms",
            [Floor("target_budget", f"the CPU per order {INTAKE_TARGET.limit:g} orders/s "
                   f"allows on {cores} cores", cores / INTAKE_TARGET.limit * 1000)],
        )
    )  # fmt: skip
    known = cpu["app server"] + cpu["PostgreSQL"] + cpu["clients"]
    section.notes.append(
        f"Intake, {clients} HTTP clients on one server: CPU per order {cpu['machine']:.1f} ms on "
        f"the whole machine = the app server {cpu['app server']:.1f} + PostgreSQL "
        f"{cpu['PostgreSQL']:.1f} + the bench's clients {cpu['clients']:.1f} + the rest "
        f"{cpu['machine'] - known:.1f} (the kernel's own work and processes that ended)."
    )


class _Spread:
    """Posts from each client thread to one of several servers, in turn."""

    def __init__(self, posters: list[_Poster]) -> None:
        self._next = itertools.cycle(posters)
        self._lock = threading.Lock()

    def post(self, state: dict[str, Any]) -> None:
        if "poster" not in state:
            with self._lock:
                state["poster"] = next(self._next)
        state["poster"].post(state)


def _catalogue(db: Database) -> list[str]:
    with db.writing() as session:
        seed_catalogue(session)
        session.commit()
        return list(session.scalars(select(Product.sku).where(Product.active.is_(True))))


class _Bodies:
    """Order bodies as the assistant sends them; thread-safe."""

    def __init__(self, skus: list[str], seed: int) -> None:
        self._skus = skus
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def next(self) -> dict[str, Any]:
        with self._lock:
            customer = self._random.randrange(5000)
            lines = self._random.sample(self._skus, self._random.randint(1, 3))
            quantities = [self._random.randint(1, 4) for _ in lines]
        return {
            "customer": {
                "first_name": "Bench",
                "last_name": f"Customer {customer}",
                "email": f"bench-{customer}@example.com",
                "phone": f"+1415555{customer % 10000:04d}",
            },
            "items": [{"sku": s, "quantity": q} for s, q in zip(lines, quantities, strict=True)],
            "shipping": {"street": "1 Main St", "city": "Springfield", "state": "IL",
                         "zip": "62701"},
            "conversation_ref": f"bench-{uuid.uuid4().hex[:12]}",
        }  # fmt: skip


@dataclass(frozen=True)
class Result:
    orders_per_second: float
    cpu_ms_per_order: float  # in the process doing the work (not PostgreSQL's)


def _measure(
    orders: int, workers: int, place: Callable[[Any], Any], cpu: Callable[[], float]
) -> Result:
    """`workers` threads share `orders` calls of place(per-thread state)."""
    share = [orders // workers + (1 if i < orders % workers else 0) for i in range(workers)]
    barrier = threading.Barrier(workers + 1)
    errors: list[BaseException] = []

    def work(count: int) -> None:
        state: dict[str, Any] = {}
        barrier.wait()
        try:
            for _ in range(count):
                place(state)
        except BaseException as exc:  # reported after the run
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in share]
    for thread in threads:
        thread.start()
    barrier.wait()
    started, cpu_before = time.perf_counter(), cpu()
    for thread in threads:
        thread.join()
    elapsed, cpu_used = time.perf_counter() - started, cpu() - cpu_before
    if errors:
        raise errors[0]
    return Result(orders / elapsed, cpu_used / orders * 1000)


def _over_http(url: str, orders: int, clients: int, bodies: _Bodies) -> tuple[Result, Result]:
    db = Database(url)
    try:
        with _serving(url, bodies) as (poster,):
            _measure(50, 1, poster.post, poster.cpu)  # warm up: imports, connections, the pool
            _wait_until_sent(db)
            sequential = _measure(orders, 1, poster.post, poster.cpu)
            _wait_until_sent(db)
            return sequential, _measure(orders, clients, poster.post, poster.cpu)
    finally:
        db.dispose()


WAITING = select(func.count()).where(
    Notification.status.in_([NotificationStatus.QUEUED, NotificationStatus.SENDING])
)


def _wait_until_sent(db: Database, timeout: float = 30.0) -> None:
    """Let the server send what earlier runs queued before timing it.

    Its dispatcher loop sends every due message, those of the in-process runs too; without
    this wait an HTTP figure would pay for the floors' messages as well as its own.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.reading() as session:
            if not session.scalar(WAITING):
                return
        time.sleep(0.2)


@dataclass
class _Poster:
    """Posts orders to a running server, on one keep-alive connection per thread."""

    server: Server
    bodies: _Bodies

    def post(self, state: dict[str, Any]) -> None:
        if "connection" not in state:
            where = urlsplit(self.server.url)
            state["connection"] = http.client.HTTPConnection(
                where.hostname or "127.0.0.1", where.port, timeout=30
            )
        _post_order(state["connection"], self.bodies.next())

    def cpu(self) -> float:
        return _cpu_seconds(self.server.process.pid)


@contextmanager
def _serving(url: str, bodies: _Bodies, servers: int = 1) -> Iterator[list[_Poster]]:
    """`servers` × `streamlit run app.py` on `url`, stopped afterwards, as the e2e tests run it."""
    with tempfile.TemporaryDirectory() as folder:
        started: list[Server] = []
        try:
            for index in range(servers):
                log = Path(folder) / f"streamlit-{index}.log"
                started.append(start_server(url, log, {"INTAKE_API_TOKENS": TOKEN}))
            yield [_Poster(server, bodies) for server in started]
        finally:
            for server in started:
                stop_server(server)


def _post_order(connection: http.client.HTTPConnection, body: dict[str, Any]) -> None:
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Idempotency-Key": uuid.uuid4().hex,
        "Content-Type": "application/json",
    }
    connection.request("POST", "/api/v1/orders", body=json.dumps(body), headers=headers)
    response = connection.getresponse()
    answer = response.read()
    if response.status != 201:
        raise RuntimeError(f"HTTP {response.status}: {answer[:300]!r}")


def _cpu_seconds(pid: int, *, ended_children: bool = False) -> float:
    """User + system CPU of a process, from /proc (Linux); 0 where there is none.

    With ended_children, also that of its children that have ended: PostgreSQL's server
    process then keeps the CPU of every connection's process that closed since it started.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if ended_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _cpu_split(servers: list[_Poster]) -> dict[str, float]:
    """CPU seconds used so far: by the machine, the app servers, PostgreSQL, this process."""
    return {
        "machine": _machine_cpu_seconds(),
        "app server": sum(poster.cpu() for poster in servers),
        "PostgreSQL": sum(
            # A connection's process that ends moves its CPU into the server process's
            # count of ended children, so the sum never drops as connections close.
            _cpu_seconds(int(stat.parent.name), ended_children=True)
            for stat in Path("/proc").glob("[0-9]*/stat")
            if _command(stat) == "postgres"
        ),
        "clients": time.process_time(),
    }


def _command(stat: Path) -> str:
    try:
        return stat.read_text().split("(", 1)[1].rsplit(")", 1)[0]
    except (OSError, IndexError):
        return ""


def _machine_cpu_seconds() -> float:
    """CPU seconds every process on the machine has used, from /proc/stat (Linux); 0 elsewhere."""
    try:
        fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]  # steal: another VM's
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _report(results: list[tuple[str, Result]], floor: Result) -> None:
    width = max(len(name) for name, _ in results)
    print(f"{'':{width}}  orders/s  × floor  CPU ms/order (app process)")
    for name, result in results:
        rate = result.orders_per_second
        print(
            f"{name:{width}}  {rate:8.1f}  {rate / floor.orders_per_second:7.2f}"
            f"  {result.cpu_ms_per_order:8.1f}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
