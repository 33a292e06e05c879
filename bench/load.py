"""Load: intake clients and dashboard sessions at once against `streamlit run app.py`.

    python -m bench.load --database-url postgresql://… [--clients 20 --seconds 60 --sessions 5]

Each intake client keeps one connection to the server (127.0.0.1 only) and posts orders as
fast as answers come back, each with a fresh Idempotency-Key; one request in twenty is
invalid on purpose (an unknown SKU: a 422 is the right answer) and one in twenty retries an
earlier request (a replay: the same order, not a new one). Meanwhile each dashboard
session, a headless Chromium page, reloads the Orders page and switches its tabs. The run
is bounded by `--seconds`; afterwards the orders in the database are counted against the
accepted (201) answers. Prints requests/s, answers by status, latency percentiles, and
whether anything was lost or doubled.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import random
import statistics
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
from bench.intake import TOKEN, _Bodies, _catalogue
from db.database import Database
from db.migrate import upgrade
from db.models import Order
from domain.enums import Source

INVALID_EVERY = 20  # one request in twenty carries an unknown SKU
RETRY_EVERY = 20  # one in twenty repeats an earlier request (same key, same body)


@dataclass
class Tally:
    """What the clients saw; appended to from several threads under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)  # order numbers in 201 answers
    surprises: list[str] = field(default_factory=list)  # answers that were not the right one

    def record(self, status: int, seconds: float, number: str = "", surprise: str = "") -> None:
        with self.lock:
            self.statuses[status] += 1
            self.latencies.append(seconds)
            if number:
                self.accepted.add(number)
            if surprise:
                self.surprises.append(surprise)


@dataclass
class Sessions:
    runs: int = 0
    render_seconds: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class LoadReport:
    seconds: float
    tally: Tally
    sessions: Sessions
    new_rows: int

    @property
    def requests_per_second(self) -> float:
        return sum(self.tally.statuses.values()) / self.seconds

    @property
    def lost_or_doubled(self) -> int:
        return abs(self.new_rows - len(self.tally.accepted))

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.tally.statuses.items() if status == 0 or status >= 500)


def run_load(
    database_url: str, *, clients: int, seconds: float, sessions: int, folder: Path
) -> LoadReport:
    """Start a server on `database_url`, load it, stop it, and count what it stored."""
    from tests.e2e.conftest import start_server, stop_server

    db = Database(database_url)
    try:
        upgrade(db)
        bodies = _Bodies(_catalogue(db), seed=7)
        before = _assistant_orders(db)
        server = start_server(database_url, folder / "streamlit.log", {"INTAKE_API_TOKENS": TOKEN})
        try:
            tally, seen, elapsed = _drive(server.url, bodies, clients, sessions, seconds)
        finally:
            stop_server(server)
        return LoadReport(elapsed, tally, seen, _assistant_orders(db) - before)
    finally:
        db.dispose()


def _assistant_orders(db: Database) -> int:
    with db.reading() as session:
        query = select(func.count()).select_from(Order).where(Order.source == Source.ASSISTANT)
        return session.scalar(query) or 0


def _drive(
    url: str, bodies: _Bodies, clients: int, sessions: int, seconds: float
) -> tuple[Tally, Sessions, float]:
    tally, seen = Tally(), Sessions()
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(target=_client, args=(url, bodies, tally, deadline, n))
        for n in range(clients)
    ]
    if sessions:
        # A thread of its own: its event loop must not meet one the caller may be running
        # (pytest's sync Playwright fixtures run theirs on the main thread).
        threads.append(
            threading.Thread(target=asyncio.run, args=(_dashboards(url, sessions, deadline, seen),))
        )
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, seen, time.monotonic() - started


# ---- intake clients ----


def _client(url: str, bodies: _Bodies, tally: Tally, deadline: float, seed: int) -> None:
    where = urlsplit(url)
    chance = random.Random(seed)
    sent: list[tuple[str, dict[str, Any], str]] = []  # (key, body, number) of accepted ones
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    while time.monotonic() < deadline:
        kind = chance.randrange(INVALID_EVERY + RETRY_EVERY)
        if kind == 0:
            key, body, expected = uuid.uuid4().hex, _invalid(bodies.next()), "422"
        elif kind == 1 and sent:
            key, body, expected = chance.choice(sent)  # a retry: must replay that order
        else:
            key, body, expected = uuid.uuid4().hex, bodies.next(), "201"
        try:
            status, seconds, answer = _post(connection, key, body)
        except (OSError, http.client.HTTPException) as exc:
            tally.record(0, 0.0, surprise=f"connection: {exc.__class__.__name__}")
            connection.close()
            connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
            continue
        number = answer.get("number", "") if status == 201 else ""
        if expected == "201" and status == 201:
            sent.append((key, body, number))
        surprise = "" if _as_expected(expected, status, number) else f"{status} for {expected}"
        tally.record(status, seconds, number, surprise)
    connection.close()


def _invalid(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "items": [{"sku": "NO-SUCH-SKU", "quantity": 1}]}


def _as_expected(expected: str, status: int, number: str) -> bool:
    if expected in ("201", "422"):
        return status == int(expected)
    return status == 201 and number == expected  # a replay names the first order


def _post(
    connection: http.client.HTTPConnection, key: str, body: dict[str, Any]
) -> tuple[int, float, dict[str, Any]]:
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Idempotency-Key": key,
        "Content-Type": "application/json",
    }
    started = time.perf_counter()
    connection.request("POST", "/api/v1/orders", body=json.dumps(body), headers=headers)
    response = connection.getresponse()
    raw = response.read()
    seconds = time.perf_counter() - started
    try:
        answer = json.loads(raw) if raw else {}
    except ValueError:
        answer = {}
    return response.status, seconds, answer


# ---- dashboard sessions ----

TABS = ["Pending Orders", "Current Orders", "All Orders"]


async def _dashboards(url: str, count: int, deadline: float, seen: Sessions) -> None:
    from playwright.async_api import async_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            await asyncio.gather(*(_session(browser, url, deadline, seen, n) for n in range(count)))
        finally:
            await browser.close()


async def _session(browser: Any, url: str, deadline: float, seen: Sessions, n: int) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(30_000)
    step = 0
    try:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            if step % 4 == 0:  # a fresh session now and then, tabs in between
                await page.goto(url)
            else:
                await page.get_by_role("tab", name=TABS[(step + n) % len(TABS)]).click()
            await _settled(page)
            seen.render_seconds.append(time.perf_counter() - started)
            seen.runs += 1
            trouble = await page.locator("[data-testid='stException']").count()
            if trouble:
                seen.problems.append(f"session {n}: an exception on the page")
            step += 1
    except Exception as exc:  # a timeout or a crash is a finding, not a reason to stop others
        seen.problems.append(f"session {n}: {exc.__class__.__name__}: {str(exc)[:200]}")
    finally:
        await context.close()


async def _settled(page: Any) -> None:
    await page.wait_for_selector("[data-testid='stApp']")
    await page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
    )
    await page.get_by_role("tab", name=TABS[0]).wait_for()


# ---- report ----


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def describe(report: LoadReport) -> str:
    tally, seen = report.tally, report.sessions
    ms = [s * 1000 for s in tally.latencies if s]
    by_status = sorted(tally.statuses.items())
    lines = [
        f"ran {report.seconds:.1f} s: {sum(tally.statuses.values()):,} requests, "
        f"{report.requests_per_second:.1f} requests/s",
        "answers by status: "
        + ", ".join(f"{status or 'no answer'}: {n:,}" for status, n in by_status),
        f"intake latency ms: p50 {percentile(ms, 0.5):.0f}, p95 {percentile(ms, 0.95):.0f}, "
        f"max {max(ms, default=0):.0f}, mean {statistics.fmean(ms) if ms else 0:.0f}",
        f"orders accepted (distinct 201 numbers): {len(tally.accepted):,}; "
        f"new rows in the database: {report.new_rows:,}; lost or doubled: {report.lost_or_doubled}",
        f"unexpected answers: {len(tally.surprises)} {Counter(tally.surprises).most_common(5)}",
    ]
    if seen.runs or seen.problems:
        render = [s * 1000 for s in seen.render_seconds]
        lines.append(
            f"dashboard: {seen.runs} page runs, render ms p50 {percentile(render, 0.5):.0f}, "
            f"p95 {percentile(render, 0.95):.0f}; problems: {seen.problems[:5] or 'none'}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load the intake API and the dashboard.")
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL or SQLite")
    parser.add_argument("--clients", type=int, default=20, help="concurrent intake clients")
    parser.add_argument("--seconds", type=float, default=60, help="how long to keep it up")
    parser.add_argument("--sessions", type=int, default=5, help="dashboard browser sessions")
    args = parser.parse_args(argv)
    url = config.normalise_database_url(args.database_url or config.database_url())
    print(
        f"database: {Database.describe_url(url)}  clients: {args.clients}  "
        f"sessions: {args.sessions}  seconds: {args.seconds:g}"
    )
    with tempfile.TemporaryDirectory() as folder:
        report = run_load(
            url,
            clients=args.clients,
            seconds=args.seconds,
            sessions=args.sessions,
            folder=Path(folder),
        )
    print(describe(report))
    healthy = not (report.server_errors or report.lost_or_doubled or report.tally.surprises)
    return 0 if healthy and not report.sessions.problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
