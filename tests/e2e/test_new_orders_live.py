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


def an_order_arrives(page, shop_db, first_name: str):
    """An assistant's order placed now; the locator of the message that announces it."""
    data = order_data(customer__first_name=first_name, customer__email=f"{first_name}@example.com")
    placed = orders.create_order(shop_db, order=data, actor="assistant", source=Source.ASSISTANT)
    return page.get_by_text(f"New order {placed.number} from {first_name}")


def at_work(page, announced, step, seconds: float = 14) -> int:
    """`step(n)` every 1.5 s for longer than the new-order check's 10 s, the order never
    announced meanwhile; how many steps were taken."""
    deadline = time.monotonic() + seconds
    steps = 0
    while time.monotonic() < deadline:
        step(steps)
        page.wait_for_timeout(1500)
        steps += 1
        assert announced.count() == 0, "the page re-ran for the new order while staff worked"
    return steps


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
    announced = an_order_arrives(page, shop_db, "Marie")

    # At work: page turns, each re-running the table alone; the check finds the order, and
    # waits.
    def turn(n: int) -> None:
        label = "Next page" if n % 2 == 0 else "Previous page"
        page.get_by_role("button", name=label).first.click()

    at_work(page, announced, turn)
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


def test_a_new_order_waits_while_staff_fill_in_the_add_order_form(page, server, shop_db):
    page.goto(server.url)
    wait_for_app(page)
    page.get_by_role("button", name="+ Add Order").click()
    dialog = page.get_by_role("dialog")
    field = dialog.get_by_label("First Name")
    field.wait_for()
    announced = an_order_arrives(page, shop_db, "Pierre")

    # At work in the form: a field filled in and left, each a run of the dialog alone.
    def enter(n: int) -> None:
        field.fill(f"Grace {n}")
        field.press("Tab")

    entries = at_work(page, announced, enter)
    assert field.input_value() == f"Grace {entries - 1}"

    # A pause: the order is announced, and the form keeps what was typed.
    announced.first.wait_for(timeout=30_000)
    assert dialog.get_by_label("First Name").input_value() == f"Grace {entries - 1}"
