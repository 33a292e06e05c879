"""Intake against `python -m api --workers 2` on PostgreSQL: REST and MCP, 8 clients each.

Beside the service called in process by 8 threads (the floor, as in bench/intake.py), one
round after another: 8 HTTP clients posting orders, each on its own keep-alive connection,
then 8 MCP client sessions (the official client over Streamable HTTP, as an assistant's
host connects) calling `place_order`. The whole machine's CPU per order of the REST runs
is set beside what the 400 orders/s target leaves on this machine's cores, split into the
API server's processes, PostgreSQL, the bench's own clients and the rest. Everything placed
is deleted again afterwards.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench import clicks
from bench.browse import _descendants
from bench.datasets import Snapshot
from bench.intake import (
    INTAKE_TARGET,
    SCOPE,
    TOKEN,
    _Bodies,
    _catalogue,
    _command,
    _cpu_seconds,
    _machine_cpu_seconds,
    _measure,
    _Poster,
    _wait_until_sent,
)
from bench.measure import Floor, Row, Section
from db.database import Database
from services import intake
from tests import aio
from tests.e2e.conftest import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    GRID,
    Server,
    start_api_server,
    start_server,
    stop_server,
)

WORKERS = 2


def measure(section: Section, url: str, *, orders: int, clients: int, runs: int) -> None:
    if section.kind != "postgresql":
        section.notes.append("api: measured on PostgreSQL only (python -m api --workers 2)")
        return
    db = Database(url)
    bodies = _Bodies(_catalogue(db), seed=13)
    snapshot = Snapshot.take(db)

    def place(_state: dict[str, Any]) -> None:
        intake.place_order(db, scope=SCOPE, key=uuid.uuid4().hex, payload=bodies.next())

    rates: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-api-") as folder:
            server = start_api_server(url, Path(folder) / "api.log", {"INTAKE_API_TOKENS": TOKEN},
                                      workers=WORKERS)  # fmt: skip
            try:
                post = _Poster(server, bodies).post
                _measure(20, 1, place, time.process_time)  # warm up every path
                _measure(100, clients, post, time.process_time)
                aio.run(lambda: _mcp_rate(server.url, bodies, 40, clients))
                for _ in range(runs):
                    rates["in_process"].append(
                        _measure(orders, clients, place, time.process_time).orders_per_second
                    )
                    _wait_until_sent(db)
                    before = _cpu_split(server)
                    rate = _measure(orders, clients, post, time.process_time).orders_per_second
                    rates["rest"].append(rate)
                    for part, seconds in _cpu_split(server).items():
                        cpu[part].append((seconds - before[part]) / orders * 1000)
                    _wait_until_sent(db)
                    rates["mcp"].append(
                        aio.run(lambda: _mcp_rate(server.url, bodies, orders, clients))
                    )
            finally:
                stop_server(server)
    finally:
        snapshot.restore(db)
        db.dispose()
    _add_rows(section, clients, {k: statistics.median(v) for k, v in rates.items()},
              {k: statistics.median(v) for k, v in cpu.items()})  # fmt: skip


def _add_rows(
    section: Section, clients: int, rate: dict[str, float], cpu: dict[str, float]
) -> None:
    in_threads = Floor("in_process_threads", f"in process, {clients} threads", rate["in_process"])
    section.add(
        Row(
            f"api.http_{clients}_clients",
            f"Intake, {clients} HTTP clients, python -m api --workers {WORKERS}",
            rate["rest"],
            "orders/s",
            [in_threads],
            INTAKE_TARGET,
            higher_is_better=True,
        )
    )
    cores = os.cpu_count() or 1
    section.add(
        Row(
            "api.machine_cpu_per_order",
            f"Machine CPU per order, {clients} HTTP clients on python -m api",
            cpu["machine"],
            "ms",
            [Floor("target_budget", f"the CPU per order {INTAKE_TARGET.limit:g} orders/s "
                   f"allows on {cores} cores", cores / INTAKE_TARGET.limit * 1000)],
        )
    )  # fmt: skip
    section.add(
        Row(
            f"api.mcp_{clients}_sessions",
            f"MCP place_order, {clients} client sessions, same server",
            rate["mcp"],
            "orders/s",
            [Floor("rest", f"REST, {clients} HTTP clients, same server", rate["rest"]),
             in_threads],
            higher_is_better=True,
        )
    )  # fmt: skip
    known = cpu["api server"] + cpu["PostgreSQL"] + cpu["clients"]
    section.notes.append(
        f"Intake, {clients} HTTP clients on python -m api --workers {WORKERS}: CPU per order "
        f"{cpu['machine']:.1f} ms on the whole machine = the API server's processes "
        f"{cpu['api server']:.1f} + PostgreSQL {cpu['PostgreSQL']:.1f} + the bench's clients "
        f"{cpu['clients']:.1f} + the rest {cpu['machine'] - known:.1f}."
    )


def _cpu_split(server: Server) -> dict[str, float]:
    """CPU seconds used so far: the machine, the API server and its workers, PostgreSQL, us."""
    pid = server.process.pid
    return {
        "machine": _machine_cpu_seconds(),
        "api server": sum(_cpu_seconds(p) for p in [pid, *_descendants(pid)]),
        "PostgreSQL": sum(
            _cpu_seconds(int(stat.parent.name), ended_children=True)
            for stat in Path("/proc").glob("[0-9]*/stat")
            if _command(stat) == "postgres"
        ),
        "clients": time.process_time(),
    }


@asynccontextmanager
async def _session(url: str) -> AsyncIterator[ClientSession]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as http,
        streamable_http_client(f"{url}/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def _mcp_rate(url: str, bodies: _Bodies, orders: int, sessions: int) -> float:
    """Orders per second placed by `sessions` MCP sessions at once (opened before timing)."""
    share = [orders // sessions + (1 if i < orders % sessions else 0) for i in range(sessions)]

    async def work(session: ClientSession, count: int) -> None:
        for _ in range(count):
            result = await session.call_tool(
                "place_order", {**bodies.next(), "order_key": uuid.uuid4().hex}
            )
            if result.is_error:
                raise RuntimeError(f"place_order: {result.content!r}"[:300])

    async with AsyncExitStack() as stack:
        opened = [await stack.enter_async_context(_session(url)) for _ in range(sessions)]
        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for session, count in zip(opened, share, strict=True):
                group.start_soon(work, session, count)
        return orders / (time.perf_counter() - started)


STEADY_RATE = 50  # orders/s sent to python -m api while the Orders page is clicked
PAGER_CLICKS = 20  # per phase: with fewer, one slow click decided the p95
WARM_UP_SECONDS = 3.0  # of intake before the first phase


def measure_clicks_under_intake(section: Section, url: str, *, phases: int) -> None:
    """The Orders page's pager, click to settled in Chromium (p95), with a steady 50 orders/s
    sent to `python -m api` on the same database, beside the same with no intake running;
    quiet and loaded phases alternate."""
    from playwright.sync_api import sync_playwright

    if section.kind != "postgresql":
        return
    db = Database(url)
    bodies = _Bodies(_catalogue(db), seed=17)
    snapshot = Snapshot.take(db)
    samples: dict[str, list[float]] = defaultdict(list)
    sent: list[int] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-api-clicks-") as folder:
            api = start_api_server(url, Path(folder) / "api.log", {"INTAKE_API_TOKENS": TOKEN},
                                   workers=WORKERS)  # fmt: skip
            dashboard = start_server(url, Path(folder) / "streamlit.log")
            try:
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(
                        executable_path=CHROMIUM, headless=True,
                        args=[*CHROMIUM_FLAGS, *clicks.AWAKE],
                    )  # fmt: skip
                    try:
                        page = clicks._tab(browser, dashboard.url)
                        page.locator(GRID).first.wait_for()
                        # The API's workers open their connections on their first orders:
                        # the loaded phases measure a steady stream, not its start.
                        with _steady(api, bodies, []):
                            time.sleep(WARM_UP_SECONDS)
                        for phase in range(2 * phases + 1):
                            loaded = phase % 2 == 1
                            with _steady(api, bodies, sent) if loaded else nullcontext():
                                times = _pager(page, PAGER_CLICKS)
                            if phase:  # the first quiet phase warms up
                                samples["loaded" if loaded else "quiet"] += times
                    finally:
                        browser.close()
            finally:
                stop_server(dashboard)
                stop_server(api)
    finally:
        snapshot.restore(db)
        db.dispose()
    p95 = {name: _p95(values) for name, values in samples.items()}
    section.add(
        Row(
            "api_clicks.pager_p95_under_intake",
            f"Orders page pager p95, {STEADY_RATE} orders/s to python -m api",
            p95["loaded"],
            "ms",
            [Floor("no_intake", "same clicks, no intake running", p95["quiet"])],
            clicks.TARGET,
        )
    )
    section.notes.append(
        f"Pager clicks under intake: {len(samples['loaded'])} clicks with and "
        f"{len(samples['quiet'])} without, alternating phases of {PAGER_CLICKS}; medians "
        f"{statistics.median(samples['loaded']):.0f} and {statistics.median(samples['quiet']):.0f}"
        f" ms; {len(sent)} orders sent during the loaded phases."
    )


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(len(ordered) * 0.95) - 1)]


def _pager(page: Any, count: int) -> list[float]:
    """Click to settled, where settled is the other page shown and no run going on.

    Not the floor's signal (the script state seen changing): while orders arrive, the page
    re-runs whole every 10 s to show them, and a click landing in such a run changes no
    state — the run it asks for follows the one going on (seen as clicks "starting no
    re-run" before). The page number is what the person waits for, in both phases alike.
    """
    times = []
    for n in range(count):
        back = page.get_by_role("button", name="Previous page").first
        # Forward and back in turn; forward whenever there is no way back (page 1).
        forward = n % 2 == 0 or not back.is_enabled()
        button = page.get_by_role("button", name="Next page").first if forward else back
        before = page.evaluate(clicks.PAGE_NUMBER)
        wanted = before + 1 if forward else before - 1
        settled = (
            f"() => ({clicks.PAGE_NUMBER})() === {wanted} && document.querySelector('{clicks.APP}')"
            ".getAttribute('data-test-script-state') === 'notRunning'"
        )
        started = time.perf_counter()
        # While orders arrive the page shows a toast for each, over the pager's corner: the
        # click is sent to the button itself (in both phases alike), not through the toast.
        button.dispatch_event("click")
        try:
            page.wait_for_function(settled, timeout=clicks.TIMEOUT, polling=5)
        except PlaywrightTimeout:
            clicks.keep_for_later(page, f"pager-{n}")
            raise
        times.append((time.perf_counter() - started) * 1000)
        page.wait_for_timeout(clicks.PAUSE)
    return times


@contextmanager
def _steady(server: Server, bodies: _Bodies, sent: list[int]) -> Iterator[None]:
    """Orders posted at STEADY_RATE a second, on schedule, by 4 threads, until the block ends."""
    stop = threading.Event()
    errors: list[BaseException] = []
    threads = 4
    poster = _Poster(server, bodies)

    def work(offset: int) -> None:
        state: dict[str, Any] = {}
        due = time.monotonic() + offset / STEADY_RATE
        while not stop.is_set():
            stop.wait(max(0.0, due - time.monotonic()))
            if stop.is_set():
                return
            try:
                poster.post(state)
                sent.append(1)
            except BaseException as exc:  # reported after the phase
                errors.append(exc)
                return
            due += threads / STEADY_RATE

    running = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(threads)]
    for thread in running:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in running:
            thread.join()
    if errors:
        raise errors[0]
