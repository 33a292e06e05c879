"""The Orders page at a shop owner's speed, in Chromium: open by any cell, act on many."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from db.database import Database
from db.models import Order
from domain.order import OrderStatus
from services import orders
from tests.builders import order_data
from tests.e2e import test_notification_delivery as delivery
from tests.e2e.conftest import (
    GRID,
    browser_tab,
    click_cell,
    click_row,
    type_into_cell,
    wait_for_app,
)
from tests.fakes.provider_server import SENDGRID_PATH

pytestmark = pytest.mark.e2e

delivering_server = delivery.delivering_server  # a served app whose e-mail goes to a fake
wait_for = delivery.wait_for
VIEWPORTS = {"laptop": (1440, 900, False), "phone": (390, 844, True)}


def open_orders(page, url: str, tab: str = "") -> None:
    """The Orders page, on `tab` when given (the page opens on Pending Orders)."""
    page.goto(url)
    wait_for_app(page)
    if tab:
        page.get_by_role("tab", name=tab).click()
        settle(page)
    page.locator(GRID).first.wait_for()
    page.wait_for_timeout(500)


def settle(page) -> None:
    wait_for_app(page)
    page.wait_for_timeout(500)


def in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"]
        and box["y"] + box["height"] <= size["height"]
    )


def place(db: Database, count: int, email: str) -> list:
    """`count` new pending orders, the newest first in the Pending tab."""
    return [
        orders.create_order(
            db, order=order_data(customer__email=f"{email}{i}@example.com"), actor="t"
        )
        for i in range(count)
    ]


def tick(page, count: int):
    """Tick the first `count` rows; the bulk bar, once it says so."""
    for index in range(count):
        click_row(page, index)
        settle(page)
    bar = page.locator(".st-key-orders-bulk")
    bar.get_by_text(f"{count} selected").wait_for()
    return bar


def press(page, button, summary: str, shot: Path) -> None:
    """Press a bulk action's button: its summary shows and the bar goes (nothing is ticked)."""
    button.click()
    page.get_by_text(summary).first.wait_for()
    settle(page)
    page.screenshot(path=shot)
    assert not page.locator(".st-key-orders-bulk").count(), "the bulk bar stayed"


@pytest.fixture
def served(delivering_server):
    """A served app whose e-mail goes to a fake, the fake, and the app's database."""
    server, fake = delivering_server
    db = Database(server.database_url)
    yield server, fake, db
    db.dispose()


@pytest.fixture(scope="module")
def pending_orders(server):
    db = Database(server.database_url)
    for index in range(4):
        data = order_data(customer__email=f"cell{index}@example.com")
        orders.create_order(db, order=data, actor="seed")
    yield
    db.dispose()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_a_click_on_any_cell_opens_the_order_with_header_and_buttons_in_view(
    browser, server, pending_orders, artifacts, viewport
):
    width, height, mobile = VIEWPORTS[viewport]
    with browser_tab(browser, width, height, is_mobile=mobile) as page:
        open_orders(page, server.url)
        page.screenshot(path=artifacts / f"open-{viewport}-1-table.png")
        page.mouse.wheel(0, 300)  # as a person would, scrolled down to the table
        settle(page)
        click_cell(page, 1, x=150)  # a cell right of "Order #"
        box = page.locator(".st-key-orders-details")
        header = box.locator("h3").first
        header.wait_for()
        settle(page)
        number = header.inner_text().strip()
        assert re.fullmatch(r"ORD-\d+", number)
        actions = box.locator(".st-key-orders-actions")
        confirm = actions.get_by_role("button", name="Confirm Order")
        assert in_viewport(page, header), "the order's number is off screen"
        assert in_viewport(page, confirm), "the order's first action is off screen"
        page.screenshot(path=artifacts / f"open-{viewport}-2-order.png")

        confirm.click()
        page.get_by_text(re.compile(f"{number} confirmed")).first.wait_for()
        settle(page)
        # Still open, and it says so; behind it the counts and the table have followed.
        assert header.inner_text().strip() == number
        assert "In Progress" in box.inner_text()
        page.screenshot(path=artifacts / f"open-{viewport}-3-confirmed.png")
        page.keyboard.press("Escape")
        box.wait_for(state="detached")
        settle(page)
        page.screenshot(path=artifacts / f"open-{viewport}-4-closed.png")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_three_ticked_orders_are_confirmed_at_once_and_three_emails_go_out(
    browser, served, artifacts, viewport
):
    server, fake, db = served
    placed = place(db, 3, "bulk")
    received = wait_for(lambda: len(fake.requests) >= 3)
    assert received, f"the received e-mails did not go out:\n{server.log()}"
    before = len(fake.requests)

    width, height, mobile = VIEWPORTS[viewport]
    with browser_tab(browser, width, height, is_mobile=mobile) as page:
        open_orders(page, server.url)
        bar = tick(page, 3)
        page.screenshot(path=artifacts / f"bulk-{viewport}-1-selected.png")
        press(
            page,
            bar.get_by_role("button", name="Confirm Order"),
            "3 confirmed.",
            artifacts / f"bulk-{viewport}-2-confirmed.png",
        )

    with db.reading() as session:
        statuses = session.scalars(
            select(Order.status).where(Order.id.in_([c.order_id for c in placed]))
        ).all()
    assert sorted(statuses) == [OrderStatus.IN_PROGRESS] * 3

    def confirmations():
        return [r for r in fake.requests[before:] if "confirmed" in r.json["subject"]]

    assert wait_for(lambda: len(confirmations()) >= 3), server.log()
    page_wait = wait_for(lambda: False, timeout=2.0)  # anything more would arrive by now
    assert not page_wait
    sent = fake.requests[before:]
    assert [r.path for r in sent] == [SENDGRID_PATH] * 3
    assert sorted(r.json["subject"] for r in sent) == sorted(
        f"Order {c.number} confirmed" for c in placed
    )


def test_two_ticked_orders_are_cancelled_with_one_reason_from_the_bars_popover(
    browser, served, artifacts
):
    server, _fake, db = served
    placed = place(db, 2, "cancel")
    with browser_tab(browser, 1440, 900) as page:
        open_orders(page, server.url)
        bar = tick(page, 2)  # newest first: the two just placed
        bar.get_by_role("button", name="Cancel Order").click()
        popover = page.locator("[data-testid='stPopoverBody']")
        popover.get_by_label("Reason (for all of them)").fill("Out of stock")
        press(
            page,
            popover.get_by_role("button", name="Cancel Order (2)"),
            "2 cancelled.",
            artifacts / "bulk-laptop-3-cancelled.png",
        )

    for change in placed:
        with db.reading() as session:
            order = session.get(Order, change.order_id)
            assert order is not None
            assert (order.status, order.cancel_reason) == (
                OrderStatus.CANCELLED,
                "Out of stock",
            )


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_three_ticked_orders_are_shipped_with_one_carrier_and_a_tracking_number_typed_for_each(
    browser, served, artifacts, viewport
):
    from playwright.sync_api import expect

    server, fake, db = served
    placed = place(db, 3, "ship")
    for change in placed:  # only orders in progress can ship
        orders.confirm_order(db, order_id=change.order_id, expected_version=None, actor="t")
    typed: dict[str, str] = {}  # order number → the tracking number typed on its row
    width, height, mobile = VIEWPORTS[viewport]
    with browser_tab(browser, width, height, is_mobile=mobile) as page:
        open_orders(page, server.url, tab="Current Orders")
        bar = tick(page, 3)  # newest first: the three just placed
        bar.get_by_role("button", name="Mark Shipped").click()
        popover = page.locator("[data-testid='stPopoverBody']")
        popover.get_by_label("One carrier for all").click()
        page.get_by_role("option", name="DHL", exact=True).click()
        settle(page)
        editor = popover.locator(GRID)
        for row in range(3):  # the column shows the carrier each order will get
            expect(editor.locator(f"#glide-cell-1-{row}")).to_have_text("DHL")
        page.screenshot(path=artifacts / f"ship-{viewport}-1-carrier.png")

        for row in range(3):
            number = editor.locator(f"#glide-cell-0-{row}").inner_text()
            typed[number] = f"JD0146{row}{number[-4:]}"
            type_into_cell(page, editor, row, typed[number])
            settle(page)
        popover.get_by_text("Ship although 3 orders not paid").click()
        settle(page)
        page.screenshot(path=artifacts / f"ship-{viewport}-2-typed.png")

        press(
            page,
            popover.get_by_role("button", name="Mark Shipped (3)"),
            "3 marked shipped.",
            artifacts / f"ship-{viewport}-3-shipped.png",
        )

    assert sorted(typed) == sorted(c.number for c in placed)
    with db.reading() as session:
        shipped = session.execute(
            select(Order.number, Order.status, Order.carrier, Order.tracking_number).where(
                Order.id.in_([c.order_id for c in placed])
            )
        ).all()
    assert sorted(tuple(row) for row in shipped) == sorted(
        (number, OrderStatus.SHIPPED, "DHL", tracking) for number, tracking in typed.items()
    )

    def shipping_emails():
        return [r for r in fake.requests if "has shipped" in r.json["subject"]]

    assert wait_for(lambda: len(shipping_emails()) >= 3), server.log()
    for email in shipping_emails():
        number = email.json["subject"].split()[1]
        text = next(c["value"] for c in email.json["content"] if c["type"] == "text/plain")
        assert f"with DHL, tracking number {typed[number]}" in text
