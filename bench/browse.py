"""The server's memory while a person browses: `streamlit run app.py` driven by Chromium.

The resident set of the server process and any children (VmRSS from /proc) is sampled
every 100 ms: first idle after start-up (the floor), then while a headless Chromium opens
the Orders page, switches tabs, searches, pages forward and opens an order.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.measure import Floor, Row, Section, Target
from tests.e2e.conftest import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    open_order,
    start_server,
    stop_server,
)

RSS_TARGET = Target("at_most", 400, "MB")
STEP_TIMEOUT = 300_000  # ms: a slow page on a million rows must not fail the run


class RssSampler:
    """Samples a process tree's resident memory in a thread until stopped."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        self.pid = pid
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def take_peak(self) -> float:
        """The peak since the last call, in MB."""
        peak, self.peak = self.peak, tree_rss_kb(self.pid)
        return peak / 1024

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 1024

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_kb(self.pid))
            self._stop.wait(self.every)


def tree_rss_kb(pid: int) -> int:
    """VmRSS of a process and all its descendants, in kB (0 once it is gone)."""
    total = 0
    for member in [pid, *_descendants(pid)]:
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *_descendants(child)]
    return found


def measure(section: Section, url: str) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-browse-") as folder:
        server = start_server(url, Path(folder) / "streamlit.log")
        sampler = RssSampler(server.process.pid).start()
        try:
            time.sleep(2)
            idle = sampler.take_peak()
            browse(server.url)
            peak = sampler.stop()
        finally:
            sampler.stop()
            stop_server(server)
    section.add(
        Row(
            "server_rss_browsing",
            "Server peak RSS while browsing",
            peak,
            "MB",
            [Floor("idle", "server idle after start", idle)],
            RSS_TARGET,
        )
    )


def browse(url: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(STEP_TIMEOUT)
            page.goto(url)
            _settle(page)
            page.locator("[data-testid='stDataFrameResizable']").first.wait_for()
            for tab in ("Current Orders", "All Orders"):
                page.get_by_role("tab", name=tab).click()
                _settle(page)
            search = page.get_by_role("textbox", name="Search")
            search.fill("ada lovelace")
            search.press("Enter")
            _settle(page)
            search.fill("")
            search.press("Enter")
            _settle(page)
            page.get_by_role("button", name="Next page").first.click()
            _settle(page)
            open_order(page, 0)
            _settle(page)
        finally:
            browser.close()


def _settle(page: Any) -> None:
    """Wait for the script run a click started, then for the page to be idle again."""
    page.wait_for_timeout(500)
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
        timeout=STEP_TIMEOUT,
    )
