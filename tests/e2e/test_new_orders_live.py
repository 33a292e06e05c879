"""New orders show without a reload, and wait while someone is at work on the page."""

from __future__ import annotations

import time

import pytest

from db.database import Database
from domain.enums import Source
from services import orders
from tests.builders import order_data
from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e

SEEDED = 60  # more than a page, so that the pager has somewhere to go


@pytest.fixture(scope="module")
def shop_db(server):
    db = Database(server.database_url)
    for index in range(SEEDED):
        data = order_data(customer__email=f"regular{index}@example.com")
        orders.create_order(db, order=data, actor="seed")
    yield db
    db.dispose()


def pending_count(page) -> str:
    metric = page.locator(".st-key-orders-counts [data-testid='stMetric']").first
    return metric.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_a_new_order_waits_while_staff_page_through_and_shows_once_they_pause(
    page, server, shop_db, artifacts
):
    page.goto(server.url)
    wait_for_app(page)
    page.locator("[data-testid='stDataFrameResizable']").first.wait_for()
    assert pending_count(page) == f"{SEEDED}"
    data = order_data(customer__first_name="Marie", customer__email="marie@example.com")
    placed = orders.create_order(shop_db, order=data, actor="assistant", source=Source.ASSISTANT)
    announced = page.get_by_text(f"New order {placed.number} from Marie")

    # At work: a page turn every 1.5 s for longer than the new-order check's 10 s. Each turn
    # re-runs the table alone; the check finds the order, and waits.
    deadline = time.monotonic() + 14
    turns = 0
    while time.monotonic() < deadline:
        label = "Next page" if turns % 2 == 0 else "Previous page"
        page.get_by_role("button", name=label).first.click()
        page.wait_for_timeout(1500)
        turns += 1
        assert announced.count() == 0, "the page re-ran for the new order under a click"
    assert pending_count(page) == f"{SEEDED}"

    # A pause: the first check after it shows the order, with its message and the counts.
    announced.first.wait_for(timeout=30_000)
    page.wait_for_function(
        "n => document.querySelector(\".st-key-orders-counts [data-testid='stMetricValue']\")"
        "?.innerText.trim() === n",
        arg=f"{SEEDED + 1}",
        timeout=10_000,
    )
    page.screenshot(path=artifacts / "new-order-after-a-pause.png")
