"""Click-to-settled in headless Chromium: the Orders page beside a bare Streamlit page.

The time from a click until the re-run it asked for has finished: the page's websocket seen
asking for a re-run, a run starting and the session no longer running, with the app's
`data-test-script-state` at `notRunning` (WIRE, below; the team's browser-floor tools,
click_timer.py, wait for that attribute to change, which a quick run never shows). The
floor is `bench/click_floor_app.py`, a page with a 50-row table re-run by its **Next page**
button. The dashboard, on the prepared database, is timed opening an order (a click on a
Status cell of the Pending tab, which opens it through the grid's selection, then one on
its next step under Actions and one on its number, buttons in the grid; each until the
order's header shows and the re-run has ended), confirming it there (Confirm Order, until
it says so) and paging (Next page, then Previous page, until the other page's number shows).
Each click on the dashboard follows one on the floor, so a busy machine slows both alike.
Orders confirmed are made pending again after."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from functools import partial
from pathlib import Path
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import select
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.SessionStatus_pb2 import SessionStatus

from bench.datasets import Snapshot
from bench.measure import Floor, Row, Section, Target
from config import ROOT
from db.database import Database
from db.models import Order
from domain.order import OrderStatus
from tests.e2e.conftest import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    free_port,
    next_step_at,
    number_at,
    start_server,
    status_at,
    stop_server,
)

TARGET = Target("ratio_at_most", 1.5)
FLOOR_APP = Path(__file__).with_name("click_floor_app.py")
APP = '[data-testid="stApp"]'
DETAILS = ".st-key-orders-details"
OPENED = f"() => !!document.querySelector('{DETAILS} h3')"  # the order's header shows
CONFIRMED = f"""() => [...document.querySelectorAll('{DETAILS} [data-testid="stAlertContainer"]')]
    .some(e => e.innerText.includes(' confirmed.'))"""  # the order says it was confirmed
SWALLOWED = 5_000  # ms without a request to re-run after a click: it was spent on focus
SWALLOWED_CLICKS: list[str] = []
CLICKS = 3  # times a click is tried before the page is taken to be stuck
# When the browser sent something to the server, and per kind of click how long after the
# click its request left: Streamlit's dataframe holds a selection back 150 ms before sending
# it (a debounce in its DataFrame component), a button sends at once.
SENT: list[float] = []
TO_SERVER: dict[str, list[float]] = defaultdict(list)
TIMEOUT = 60_000


def _field(message: Any, name: str) -> int:
    number: int = message.DESCRIPTOR.fields_by_name[name].number
    return number


# The protobuf field numbers WIRE reads, from Streamlit's own message classes.
NUMBERS = {
    "newSession": _field(ForwardMsg, "new_session"),
    "sessionStatus": _field(ForwardMsg, "session_status_changed"),
    "running": _field(SessionStatus, "script_is_running"),
    "rerun": _field(BackMsg, "rerun_script"),
    "auto": _field(ClientState, "is_auto_rerun"),
}
# A click's re-run, as the page's websocket tells it: the browser asks for a re-run (a BackMsg
# rerun_script that is not a fragment's timer, `run_every`), a run starts after that (a
# ForwardMsg new_session), and the session stops running (session_status_changed, not
# running) after the last run of its chain (a cell opens its order in a second run, after
# the table's; a change in the order re-runs its parts after its button's run). Not the
# app's `data-test-script-state` seen changing: it is React state, and a run over within one
# render (new session, running, finished, not running within a few ms: a page turn, Confirm
# Order, the floor's button) never shows "running" in the page at all. The bench took such
# a click for one that started no re-run and clicked again, which did a second thing: a
# second Previous page on page 1 (disabled) or a second Confirm Order (gone) waited a minute
# and the run died. WIRE reads the frames' top-level protobuf fields.
WIRE = (
    """(number => {
  const fields = bytes => { const out = {}; let i = 0;
    const varint = () => { let value = 0, shift = 0, byte;
      do { byte = bytes[i++]; value += (byte & 0x7f) * 2 ** shift; shift += 7; }
      while (byte & 0x80 && i < bytes.length);
      return value; };
    while (i < bytes.length) {
      const tag = varint(), field = Math.floor(tag / 8), wire = tag & 7;
      if (wire === 0) out[field] = varint();
      else if (wire === 2) { const n = varint(); out[field] = bytes.subarray(i, i + n); i += n; }
      else if (wire === 1) i += 8; else if (wire === 5) i += 4; else break; }
    return out; };
  const bytesOf = data => data instanceof ArrayBuffer ? new Uint8Array(data)
    : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : null;
  window.__click = {asked: null, started: null, ended: null};
  const Socket = window.WebSocket;
  window.WebSocket = class extends Socket {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', event => {
        const bytes = bytesOf(event.data), run = window.__click;
        if (!bytes || run.asked === null) return;
        const message = fields(bytes);
        if (message[number.newSession] !== undefined) {  // a run of the click's chain
          run.started = run.started ?? performance.now();
          run.ended = null;
        }
        const status = message[number.sessionStatus];
        if (status !== undefined && run.started !== null && !fields(status)[number.running])
          run.ended = performance.now();
      });
    }
    send(data) {
      const bytes = bytesOf(data);
      const rerun = bytes && fields(bytes)[number.rerun];
      if (rerun && !fields(rerun)[number.auto] && window.__click.asked === null)
        window.__click.asked = performance.now();
      return super.send(data);
    }
  };
})("""
    + json.dumps(NUMBERS)
    + ");"
)
WATCH = "() => { window.__click = {asked: null, started: null, ended: null}; }"
ASKED = "() => window.__click.asked !== null"
SETTLED = """() => window.__click.ended !== null && document.querySelector('[data-testid="stApp"]')
    .getAttribute('data-test-script-state') === 'notRunning'"""
# The page number the pager's caption shows ("1–50 of 9,950 orders · page 1 of 199").
PAGE_NUMBER = """() => {
    const shown = [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
        .map(e => e.innerText).find(t => / · page \\d+ of /.test(t));
    const found = shown && shown.match(/ · page (\\d+) of /);
    return found ? Number(found[1]) : null;
}"""
WARMUP = 2
# The two tabs take turns: the one not clicked must not be throttled or put to sleep.
AWAKE = [
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
]
PAUSE = 500  # ms between clicks, untimed


def measure(section: Section, url: str, *, rounds: int) -> None:
    if not Path(CHROMIUM).exists():
        section.notes.append(f"clicks: skipped, no Chromium at {CHROMIUM}")
        return
    samples = time_clicks(url, rounds=rounds)
    floors = sorted(samples.pop("floor"))
    floor = statistics.median(floors)
    section.notes.append(
        f"Click floor (bare Streamlit, Next page): p95 "
        f"{floors[max(0, round(len(floors) * 0.95) - 1)]:.0f} ms over {len(floors)} clicks"
    )
    labels = {
        "open": "Click to settled: open an order (its Status cell → its dialog)",
        "next_step": "Click to settled: open an order (its next step under Actions)",
        "number": "Click to settled: open an order (its number)",
        "confirm": "Click to settled: Confirm Order in the open order",
        "pager": "Click to settled: Next/Previous page",
    }
    for name, label in labels.items():
        values = sorted(samples[name])
        p95 = values[max(0, round(len(values) * 0.95) - 1)]
        section.add(
            Row(
                f"clicks.{name}",
                label,
                statistics.median(values),
                "ms",
                [Floor("bare_streamlit", "bare Streamlit: Next page, 50-row table", floor)],
                TARGET,
            )
        )
        section.notes.append(f"{label}: p95 {p95:.0f} ms over {len(values)} clicks")
    opened, floor_sent = TO_SERVER.get("open"), TO_SERVER.get("floor")
    if opened and floor_sent:
        held = statistics.median(opened) - statistics.median(floor_sent)
        rest = statistics.median(samples["open"]) - held
        section.notes.append(
            f"Opening an order: its request left the browser a median "
            f"{statistics.median(opened):.0f} ms after the click, the floor's button's "
            f"{statistics.median(floor_sent):.0f} ms: {held:.0f} ms is Streamlit's dataframe "
            f"holding the selection back (a 150 ms debounce in its DataFrame component). "
            f"Without it, open an order would be {rest:.0f} ms = {rest / floor:.2f}x the floor."
        )
    TO_SERVER.clear()
    SENT.clear()
    if SWALLOWED_CLICKS:
        counts = ", ".join(f"{n} × {name}" for name, n in Counter(SWALLOWED_CLICKS).items())
        section.notes.append(
            f"Clicks that asked for no re-run within {SWALLOWED / 1000:g} s, clicked again and "
            f"timed from the second click: {counts}"
        )
        SWALLOWED_CLICKS.clear()


def time_clicks(url: str, *, rounds: int) -> dict[str, list[float]]:
    """Milliseconds per click: the floor's, then each of the dashboard's, round by round."""
    from playwright.sync_api import sync_playwright

    db = Database(url)
    with db.reading() as session:
        pending = list(session.scalars(
            select(Order.id).where(Order.status == OrderStatus.PENDING)
            .order_by(Order.created_at.desc(), Order.id.desc()).limit(300)
        ))  # fmt: skip
    snapshot = Snapshot.take(db, pending)
    samples: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="bench-clicks-") as folder:
        floor_server = _start_floor(Path(folder) / "floor.log")
        server = start_server(url, Path(folder) / "streamlit.log")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_FLAGS, *AWAKE]
                )
                try:
                    floor = _tab(browser, floor_server[0])
                    page = _tab(browser, server.url)
                    page.locator("[data-testid='stDataFrameResizable']").first.wait_for()
                    page.wait_for_timeout(500)
                    for index in range(WARMUP + rounds):
                        try:
                            timed, floors = _round(floor, page, index)
                        except PlaywrightTimeout:
                            keep_for_later(page, f"round-{index}")
                            raise
                        if index >= WARMUP:
                            samples["floor"] += floors
                            for name, ms in timed.items():
                                samples[name].append(ms)
                finally:
                    browser.close()
        finally:
            stop_server(server)
            floor_server[1].terminate()
            floor_server[1].wait(timeout=10)
            snapshot.restore(db)
            db.dispose()
    return samples


def _round(floor: Any, page: Any, index: int) -> tuple[dict[str, float], list[float]]:
    """One click of each kind on the dashboard, each right after one on the floor."""
    timed: dict[str, float] = {}
    floors: list[float] = []
    next_page = floor.get_by_role("button", name="Next page")
    floors.append(_click(floor, next_page.click))
    # A click on the cell selected last time changes no selection and starts no re-run:
    # each round opens another row's order. The pointer rests on the cell first, as a
    # person's does: without it the grid often spent the first click after the pager on
    # focus (tests/e2e's open_order clicks again for that reason).
    x, y = status_at(page, index % 5)
    page.mouse.move(x, y)
    page.wait_for_timeout(200)
    timed["open"] = _click(page, lambda: page.mouse.click(x, y), OPENED, "open")
    details = page.locator(DETAILS)
    floors.append(_click(floor, next_page.click))
    confirm = details.get_by_role("button", name="Confirm Order")
    timed["confirm"] = _click(page, confirm.click, CONFIRMED, "confirm")
    details.get_by_role("button", name="Close").click()
    details.wait_for(state="detached", timeout=TIMEOUT)
    _settle(page)
    # The same order opened by its next step under Actions, then by its number: buttons in
    # the grid, which send at once and re-run only the opened order.
    for name, (x, y) in (
        ("next_step", next_step_at(page, index % 5)),
        ("number", number_at(page, index % 5)),
    ):
        page.mouse.move(x, y)
        page.wait_for_timeout(200)
        floors.append(_click(floor, next_page.click))
        timed[name] = _click(page, partial(page.mouse.click, x, y), OPENED, name)
        details.get_by_role("button", name="Close").click()
        details.wait_for(state="detached", timeout=TIMEOUT)
        _settle(page)
    label = "Next page" if index % 2 == 0 else "Previous page"
    wanted = page.evaluate(PAGE_NUMBER) + (1 if index % 2 == 0 else -1)
    floors.append(_click(floor, next_page.click))
    pager = page.get_by_role("button", name=label).first
    timed["pager"] = _click(page, pager.click, f"() => ({PAGE_NUMBER})() === {wanted}", "pager")
    return timed, floors


def keep_for_later(page: Any, name: str) -> None:
    """A click that timed out: a screenshot, the page's state and the opened order's text,
    for whoever looks."""
    kept = Path(tempfile.gettempdir()) / f"bench-clicks-{name}.png"
    page.screenshot(path=kept, full_page=True)
    state = page.locator(APP).get_attribute("data-test-script-state")
    opened = page.locator(DETAILS)
    said = opened.first.inner_text(timeout=1_000)[:300] if opened.count() else "no order open"
    print(f"clicks: {name} timed out; screenshot {kept}; the page is {state}, on page "
          f"{page.evaluate(PAGE_NUMBER)}; the order shows: {said!r}")  # fmt: skip


def _click(tab: Any, click: Any, until: str = "() => true", name: str = "floor") -> float:
    """Milliseconds from the click until the re-run it asked for has ended and the page shows
    what it did (`until`, a JavaScript predicate). A click that asks for no re-run within
    SWALLOWED ms (the grid spending it on focus) is clicked again, up to CLICKS times, timed
    from the last click, and counted in SWALLOWED_CLICKS. A click that did ask is never
    clicked again, however long its re-run takes: a second click would do a second thing."""
    tab.bring_to_front()
    for attempt in range(1, CLICKS + 1):
        tab.evaluate(WATCH)
        started = time.perf_counter()
        click()
        try:
            tab.wait_for_function(ASKED, timeout=SWALLOWED if attempt < CLICKS else TIMEOUT)
            break
        except PlaywrightTimeout:
            if attempt == CLICKS:
                raise
            SWALLOWED_CLICKS.append(name)
    tab.wait_for_function(f"() => ({SETTLED})() && ({until})()", timeout=TIMEOUT, polling=5)
    ended = time.perf_counter()
    elapsed = (ended - started) * 1000
    sent = [moment for moment in SENT if started <= moment <= ended]
    if sent:
        TO_SERVER[name].append((sent[0] - started) * 1000)
    # As a person pauses: a click right on the heels of a re-run's end may land on
    # elements that are being replaced (the order's Close then did not close it).
    tab.wait_for_timeout(PAUSE)
    return elapsed


def _note_sends(socket: Any) -> None:
    socket.on("framesent", lambda _frame: SENT.append(time.perf_counter()))


def _settle(tab: Any) -> None:
    tab.wait_for_selector(f'{APP}[data-test-script-state="notRunning"]', state="attached",
                          timeout=TIMEOUT)  # fmt: skip
    tab.wait_for_timeout(300)


def _tab(browser: Any, url: str) -> Any:
    tab = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    tab.add_init_script(WIRE)
    tab.on("websocket", _note_sends)
    tab.set_default_timeout(TIMEOUT)
    tab.goto(url)
    _settle(tab)
    return tab


def _start_floor(log_path: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(FLOOR_APP),
               "--server.headless=true", "--server.address=127.0.0.1", f"--server.port={port}",
               "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"]  # fmt: skip
    log = log_path.open("wb")
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log, env=os.environ.copy())
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return url, process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError(f"the click floor did not start:\n{log_path.read_text()}")
