"""The first screen in a real browser, in dry-run: ten rows of orders, one line of setup
notice, no request beyond this server, the truth about messages, and a phone's sidebar."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from db.database import Database
from db.seed import main as seed
from db.seed import seed_orders
from notify.dispatch import Dispatcher
from notify.providers import build_providers
from services import orders
from tests.builders import order_data
from tests.e2e.conftest import (
    CHECKBOX_WIDTH,
    GRID,
    ROW_HEIGHT,
    browser_tab,
    click_cell,
    click_next_step,
    click_number,
    column_x,
    open_order,
    start_server,
    stop_server,
    wait_for_app,
)
from tests.fakes.notify import provider_secrets

ORDERS_TABLE = "[data-testid='stDataFrame']"


@pytest.fixture(scope="module")
def dry_run_shop(tmp_path_factory):
    """A server with no provider credentials (blank counts as unset) and 60 orders, the
    newest with its "received" message already dispatched — in dry-run."""
    folder = tmp_path_factory.mktemp("first-screen")
    database_url = f"sqlite:///{folder / 'orders.db'}"
    seed(["--database-url", database_url])
    db = Database(database_url)
    try:
        seed_orders(db, 60, seed=5)
        for n in range(14):  # a full first page of Pending orders
            customer = {**order_data()["customer"], "email": f"c{n}@example.com"}
            orders.create_order(db, order=order_data(customer=customer), actor="e2e")
        newest = orders.create_order(db, order=order_data(), actor="e2e")
        Dispatcher(db, build_providers(lambda name: None)).run_once()
    finally:
        db.dispose()
    blank = dict.fromkeys(provider_secrets("http://127.0.0.1:9"), "")
    running = start_server(database_url, folder / "streamlit.log", env=blank)
    yield running, newest.number
    stop_server(running)


def outside_requests(page, server_url: str) -> list[str]:
    """Refuse, and remember, every request to a host other than this server's."""
    ours = urlparse(server_url).netloc
    tried: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if urlparse(url).scheme in ("http", "https", "ws", "wss") and urlparse(url).netloc != ours:
            tried.append(url)
            request_route.abort("namenotresolved")
        else:
            request_route.continue_()

    page.route("**/*", route)
    return tried


def rows_in_first_screen(page) -> int:
    """Whole table rows (header left out) in the window without scrolling: the grid's rows
    below its top and above both its own bottom and the window's."""
    box = page.locator(ORDERS_TABLE).first.bounding_box()
    assert box is not None
    bottom = min(box["y"] + box["height"], page.viewport_size["height"])
    return int((bottom - box["y"]) // 35) - 1


def test_at_1440_by_900_the_first_screen_shows_ten_rows_and_needs_no_internet(
    browser, dry_run_shop, artifacts
):
    server, _ = dry_run_shop
    with browser_tab(browser, 1440, 900) as page:
        tried = outside_requests(page, server.url)
        page.goto(server.url)
        wait_for_app(page)
        page.locator(ORDERS_TABLE).first.wait_for()
        page.wait_for_timeout(1500)  # icons, fonts and the table's canvas
        page.screenshot(path=artifacts / "first-screen-1440x900.png")

        notice = page.locator(".st-key-setup_notice")
        assert notice.is_visible()
        assert "Open local mode" in notice.inner_text() and "dry run" in notice.inner_text()
        assert page.get_by_role("link", name="What to configure").is_visible()
        assert page.locator("[data-testid='stAlert']").count() == 0  # no banners
        assert rows_in_first_screen(page) >= 10
        favicon = page.evaluate("document.querySelector(\"link[rel='shortcut icon']\").href")
        assert favicon.startswith("data:image/svg+xml")
        assert tried == []


def test_in_dry_run_the_order_says_dry_run_and_never_sent(browser, dry_run_shop, artifacts):
    server, number = dry_run_shop
    with browser_tab(browser, 1440, 900) as page:
        page.goto(f"{server.url}/?order={number}")
        wait_for_app(page)
        details = page.locator(".st-key-orders-details")
        details.get_by_text("not sent — dry run").wait_for()
        details.scroll_into_view_if_needed()
        messages = details.get_by_text("Notifications", exact=True).locator("xpath=../../..")
        messages.scroll_into_view_if_needed()
        page.screenshot(path=artifacts / "order-dry-run.png", full_page=True)
        text = details.inner_text()
        assert "dry run" in text
        assert "· sent" not in text and "· **sent**" not in text

        page.get_by_role("button", name="Confirm Order").click()  # the order tells it too
        banner = details.locator("[data-testid='stAlert']").filter(has_text="confirmed")
        banner.first.wait_for()
        said = banner.first.inner_text()
        page.screenshot(path=artifacts / "order-dry-run-confirmed.png")
        assert "(dry run: not sent)" in said and "will be" not in said


@pytest.mark.parametrize("opener", ["next step", "number", "customer"])
def test_an_orders_text_in_the_table_opens_it_at_once_with_its_buttons_in_view(
    browser, dry_run_shop, artifacts, opener
):
    """An order's number, customer, items, total, date and next step are buttons in the grid:
    they send their click at once, and select nothing."""
    server, _ = dry_run_shop
    with browser_tab(browser, 1440, 900) as page:
        page.goto(server.url)
        wait_for_app(page)
        page.locator(ORDERS_TABLE).first.wait_for()
        page.wait_for_timeout(1000)  # the table's canvas
        first = page.evaluate("document.getElementById('glide-cell-1-1').innerText")
        assert page.evaluate("document.getElementById('glide-cell-8-1').innerText") == (
            "Next: Confirm Order"
        )
        if opener == "number":
            click_number(page, 1)
        elif opener == "customer":
            click_cell(page, 1, CHECKBOX_WIDTH + 130)
        else:
            click_next_step(page, 1)
        details = page.locator(".st-key-orders-details")
        details.locator("h3").filter(has_text=first).wait_for()
        page.screenshot(path=artifacts / f"order-opened-by-{opener.replace(' ', '-')}.png")
        confirm = details.get_by_role("button", name="Confirm Order")
        for element in (details.locator("h3").first, confirm):
            box = element.bounding_box()
            assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 900
        assert page.url.endswith(f"?order={first}")
        # A button, not a cell: the grid selected nothing (a clicked cell stays selected). Its
        # accessible table, which says what is selected, must be there to say so.
        page.locator("#glide-cell-1-1").wait_for(state="attached")
        assert not selected_cells(page)


def selected_cells(page) -> list[str]:
    """The ids of the grid's selected cells, as its accessible table says."""
    selected = page.evaluate(
        "[...document.querySelectorAll('[aria-selected=true]')].map(e => e.id)"
    )
    return [name for name in selected if name.startswith("glide-cell-")]


def test_after_sorting_by_a_column_a_clicked_number_opens_the_order_shown_on_its_row(
    browser, dry_run_shop
):
    """The grid sorts on the page, not on the server: a button reports the row of the frame
    it was drawn from, which the page turns into that order."""
    server, _ = dry_run_shop
    with browser_tab(browser, 1440, 900) as page:
        page.goto(server.url)
        wait_for_app(page)
        grid = page.locator(GRID).first
        grid.wait_for()
        page.wait_for_timeout(1000)  # the table's canvas
        first = page.evaluate("document.getElementById('glide-cell-1-0').innerText")
        box = grid.bounding_box()
        page.mouse.click(box["x"] + column_x(box, "Total"), box["y"] + ROW_HEIGHT / 2)
        page.wait_for_function(f"document.getElementById('glide-cell-1-0').innerText !== '{first}'")
        shown = page.evaluate("document.getElementById('glide-cell-1-0').innerText")
        click_number(page, 0)
        details = page.locator(".st-key-orders-details")
        details.locator("h3").first.wait_for()
        assert details.locator("h3").first.inner_text().strip() == shown


def elements_received(page) -> list[str]:
    """Record the kinds of element the server sends from now on (Streamlit's ForwardMsg
    deltas, read with its own protobuf classes)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    kinds: list[str] = []

    def read(frame) -> None:
        message = ForwardMsg()
        message.ParseFromString(frame if isinstance(frame, bytes) else frame.encode())
        if message.WhichOneof("type") == "delta":
            delta = message.delta
            if delta.WhichOneof("type") == "new_element":
                kinds.append(delta.new_element.WhichOneof("type"))

    page.on("websocket", lambda socket: socket.on("framereceived", read))
    return kinds


def test_a_clicked_cell_opens_its_order_without_the_table_being_sent_again(browser, dry_run_shop):
    """A Status label is no button: the grid's selection opens its order."""
    server, _ = dry_run_shop
    with browser_tab(browser, 1440, 900) as page:
        kinds = elements_received(page)
        page.goto(server.url)
        wait_for_app(page)
        page.locator(ORDERS_TABLE).first.wait_for()
        page.wait_for_timeout(1000)  # the table's canvas
        assert "dataframe" in kinds  # the page as first drawn
        kinds.clear()
        open_order(page, 0, column_x(page.locator(GRID).first.bounding_box(), "Status"))
        number = page.locator(".st-key-orders-details h3").first.inner_text().strip()
        assert "glide-cell-5-0" in selected_cells(page)  # the grid's selection opened it
        assert page.url.endswith(f"?order={number}")
        page.wait_for_selector(
            '[data-testid="stApp"][data-test-script-state="notRunning"]', state="attached"
        )
        assert "heading" in kinds  # the order, drawn
        assert "dataframe" not in kinds and "metric" not in kinds  # the table and counts, not


def sidebar_open(sidebar) -> bool:
    """Whether the sidebar is on screen (closed, it slides out to the left)."""
    return sidebar.evaluate("e => e.getBoundingClientRect().right") > 50


def test_on_a_phone_choosing_a_page_closes_the_sidebar(browser, dry_run_shop, artifacts):
    server, _ = dry_run_shop
    with browser_tab(
        browser,
        390,
        844,
        is_mobile=True,
        has_touch=True,
        user_agent=(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
        ),
    ) as phone:
        phone.goto(server.url)
        wait_for_app(phone)
        sidebar = phone.locator("[data-testid='stSidebar']")
        phone.locator("[data-testid='stExpandSidebarButton']").click()
        sidebar.get_by_role("link", name="Notifications").wait_for()
        phone.wait_for_timeout(500)
        assert sidebar_open(sidebar)

        sidebar.get_by_role("link", name="Notifications").click()

        phone.get_by_role("heading", name="Notifications").first.wait_for()
        wait_for_app(phone)
        phone.wait_for_timeout(500)
        phone.screenshot(path=artifacts / "phone-after-choosing-a-page.png")
        assert not sidebar_open(sidebar)
