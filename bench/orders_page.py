"""The Orders page re-run in AppTest, beside the page floor and the bare SQL of its list query.

Each view is opened as staff would reach it — a tab, then the page's own paging buttons
(or, where the page has no "Last page" button, its page number in session state), then a
search typed into its search box — and re-run as it is, which is what every click on the
page costs. Floors, measured in the same rounds: the page's layout rendering a prebuilt
50-row frame (bench/floor_page.py, the issue's page floor), and the page's own list query
sent again through the driver.

AppTest compiles the script afresh on every run (each run gets a new ScriptCache), which a
server does once: for the Orders page that compiling costs more than the page's own work.
So here every run shares one cache, as `streamlit run` does.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit.testing.v1.local_script_runner as local_script_runner
from sqlalchemy import func, select
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import AppTest

from bench.measure import Floor, Row, Section, Target, medians
from bench.sql import Driver, captured, list_query
from config import ROOT
from db.database import Database
from db.models import Order
from queries.orders import Tab

PAGE = ROOT / "pages" / "orders.py"
FLOOR_PAGE = Path(__file__).with_name("floor_page.py")
TAB_LABELS = {Tab.PENDING: "Pending Orders", Tab.CURRENT: "Current Orders", Tab.ALL: "All Orders"}
TIMEOUT = 300  # seconds per script run: a naive query over a million rows may take a while
PAGE_TARGET = Target("ratio_at_most", 2.0)
SEARCH_TARGET = Target("ratio_at_most", 3.0)


@dataclass(frozen=True)
class View:
    key: str  # e.g. "all.page1"
    label: str
    tab: Tab
    deep: bool = False
    search: str = ""


def views(db: Database) -> list[View]:
    found = []
    for tab in Tab:
        name = TAB_LABELS[tab].split()[0]
        found.append(View(f"{tab.value}.page1", f"Orders page · {name} · page 1", tab))
        found.append(View(f"{tab.value}.deep", f"Orders page · {name} · last page", tab, True))
    name, number = _search_terms(db)
    found.append(View("all.search_name", f"Orders page · All · search “{name}”", Tab.ALL,
                      search=name))  # fmt: skip
    found.append(View("all.search_number", f"Orders page · All · search “{number}”", Tab.ALL,
                      search=number))  # fmt: skip
    return found


def _search_terms(db: Database) -> tuple[str, str]:
    """A customer's full name and an order number from the middle of the table."""
    with db.reading() as session:
        middle = session.scalar(
            select(func.min(Order.id) + (func.max(Order.id) - func.min(Order.id)) / 2)
        )
        row = session.execute(
            select(Order.customer_first_name, Order.customer_last_name, Order.number)
            .where(Order.id >= middle)
            .order_by(Order.id)
            .limit(1)
        ).one()
    return f"{row.customer_first_name} {row.customer_last_name}".lower(), row.number


def compile_once() -> None:
    """Let every AppTest run reuse compiled scripts, as a running server does."""
    shared = ScriptCache()
    local_script_runner.ScriptCache = lambda: shared  # type: ignore[assignment,misc]


def measure(section: Section, db: Database, *, runs: int) -> None:
    os.environ["DATABASE_URL"] = db.url
    compile_once()
    floor = _floor()
    driver = Driver(db)
    try:
        for view in views(db):
            at, how = _open(view)
            with captured() as sql:
                _run(at)
            query = list_query(sql.statements)
            actions: dict[str, Any] = {"page": lambda at=at: _run(at), "floor": lambda: _run(floor)}
            if query is not None:
                actions["sql"] = driver.replay([query])
            times = medians(actions, runs=runs)
            section.add(
                Row(
                    f"orders_page.{view.key}",
                    view.label,
                    times["page"],
                    "ms",
                    [
                        Floor("page_floor", "page floor (prebuilt frame)", times["floor"]),
                        Floor(
                            "page_plus_sql_floor",
                            "page floor + list SQL",
                            times["floor"] + times.get("sql", 0.0),
                        ),  # fmt: skip
                        Floor("sql_floor", "list SQL", times.get("sql"), compared=False),
                        Floor(
                            "all_sql",
                            f"all its SQL, one run ({len(sql.seconds)} statements)",
                            sql.total_ms,
                            compared=False,
                        ),  # fmt: skip
                    ],
                    SEARCH_TARGET if view.search else PAGE_TARGET,
                )
            )
            if how:
                section.notes.append(f"{view.label}: {how}")
    finally:
        driver.close()


def _floor() -> AppTest:
    at = AppTest.from_file(str(FLOOR_PAGE), default_timeout=TIMEOUT)
    at.session_state["floor.tab"] = "All Orders"
    return _run(at)


def _open(view: View) -> tuple[AppTest, str]:
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT)
    at.session_state["orders.tab"] = TAB_LABELS[view.tab]
    _run(at)
    how = ""
    if view.deep:
        how = _go_to_last_page(at, view.tab)
    if view.search:
        at.text_input(key="orders.search").input(view.search)
        _run(at)
    if not at.dataframe:
        raise RuntimeError(f"{view.label}: the page shows no table")
    return at, how


def _go_to_last_page(at: AppTest, tab: Tab) -> str:
    """The page's own way to its last page: its button if it has one, else its page state."""
    buttons = [b for b in at.button if b.label == "Last page"]
    if buttons:
        buttons[0].click()
        _run(at)
        return ""
    pages = _pages(at)
    at.session_state["orders.page"] = {tab: pages}
    _run(at)
    if _pages(at, current=True) != pages:
        raise RuntimeError("could not reach the last page through orders.page")
    return f"no “Last page” button; reached page {pages:,} through the page's orders.page state"


PAGER = re.compile(r"page ([\d,]+) of ([\d,]+)")


def _pages(at: AppTest, *, current: bool = False) -> int:
    for caption in at.caption:
        found = PAGER.search(caption.value)
        if found:
            return int(found.group(1 if current else 2).replace(",", ""))
    raise RuntimeError("the page shows no pager caption")


def _run(at: AppTest) -> AppTest:
    at.run()
    if at.exception:
        raise RuntimeError(f"the script failed: {at.exception[0].message}")
    return at
