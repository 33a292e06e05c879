"""Products, Customers, Settings, Reports and the Orders table's layout in a real browser, with
screenshots to look at."""

from __future__ import annotations

import pytest

from db.database import Database
from db.seed import seed_orders
from domain.enums import Source
from services import orders
from tests.builders import order_data
from tests.e2e.conftest import browser_tab, wait_for_app

ORDER_COLUMNS = ["Order #", "Customer", "Items", "Total", "Status", "Payment", "Date", "Actions"]
ORDERS_TABLE = "[data-testid='stDataFrame']"
GRID_SCROLLER = f"{ORDERS_TABLE} .dvn-scroller"  # the one element that scrolls the grid

IMPORT_CSV = (
    "sku,name,category,price,active\n"
    "TEA-001,Earl Grey Loose Leaf 100 g,Tea,12.50,yes\n"
    "TEA-900,Rooibos 100 g,Tea,9.75,yes\n"
    "TEA-901,,Tea,9.75,yes\n"
    "TEA-902,Yerba Mate 500 g,Tea,twelve,yes\n"
)


@pytest.fixture(scope="module")
def shop(server):
    """The e2e server's database with a few hundred sample orders, so no page is empty,
    and one customer who ordered twice under two e-mail addresses."""
    db = Database(server.database_url)
    seed_orders(db, 400, seed=11)
    for email in ("ada@example.com", "ada.lovelace@oldmail.example"):
        customer = {**order_data()["customer"], "email": email}
        orders.create_order(db, order=order_data(customer=customer), actor="e2e")
    db.dispose()
    return server


def open_page(page, shop, path: str, heading: str) -> None:
    page.goto(f"{shop.url}/{path}")
    page.get_by_role("heading", name=heading).first.wait_for()
    settle(page)


def settle(page) -> None:
    """Wait for the run to finish and every lazily drawn widget to replace its skeleton."""
    wait_for_app(page)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=30_000
    )
    page.wait_for_timeout(700)  # charts and tables draw after they mount


def snap(page, path) -> None:
    """A screenshot of the whole page: Streamlit scrolls inside its main area, so grow the
    window to fit that area instead of relying on a full-page capture."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": min(max(height, 600), 4000)})
    page.wait_for_timeout(500)
    page.screenshot(path=path)


def assert_no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


def select_first_row(page, opened) -> None:
    """Tick the first row's checkbox (the selection column), not a cell. A click that lands
    while the grid is still settling is lost, so click again only once the rerun it would
    have caused is over and `opened` has still not appeared."""
    table = page.locator("[data-testid='stDataFrame']").first
    for _ in range(3):
        box = table.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + 18, box["y"] + 35 + 18)
        page.wait_for_timeout(1_000)
        settle(page)
        if opened.count() and opened.first.is_visible():
            return
    raise AssertionError("selecting the first row opened nothing")


def test_a_first_visit_straight_to_a_page_still_gets_the_dashboards_navigation(page, shop):
    # Runs first in this module, on a fresh server: nobody has opened "/" yet.
    open_page(page, shop, "products", "Products")
    assert page.get_by_text("Catalogue & Customers").is_visible()
    assert page.get_by_text("Insights & Setup").is_visible()


def test_the_products_page_lists_the_catalogue_and_opens_a_product_to_edit(page, shop, artifacts):
    open_page(page, shop, "products", "Products")
    assert page.get_by_text("Select a row to edit it").is_visible()
    snap(page, artifacts / "products.png")
    select_first_row(page, page.get_by_role("button", name="Save changes"))
    assert page.get_by_role("button", name="Deactivate").is_visible()
    assert_no_exception(page)
    snap(page, artifacts / "products-edit.png")


def test_the_products_import_previews_rows_and_their_errors(page, shop, artifacts, tmp_path):
    open_page(page, shop, "products", "Products")
    page.get_by_role("tab", name="Import / export").click()
    upload = tmp_path / "catalogue.csv"
    upload.write_text(IMPORT_CSV)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(upload)
    page.get_by_text("Rows with errors").wait_for()
    settle(page)
    page.get_by_role("button", name="Import 2 products, skip 2 rows with errors").wait_for()
    assert_no_exception(page)
    snap(page, artifacts / "products-import.png")


def test_the_customers_page_shows_a_customers_orders_and_lifetime_value(page, shop, artifacts):
    open_page(page, shop, "customers", "Customers")
    snap(page, artifacts / "customers.png")
    select_first_row(page, page.get_by_role("tab", name="Merge a duplicate"))
    assert_no_exception(page)
    snap(page, artifacts / "customers-detail.png")


def test_the_customers_page_offers_a_likely_duplicate_to_merge(page, shop, artifacts):
    open_page(page, shop, "customers", "Customers")
    page.get_by_placeholder("Name, e-mail, phone or customer ID").first.fill("lovelace")
    page.keyboard.press("Enter")
    settle(page)
    merge_tab = page.get_by_role("tab", name="Merge a duplicate")
    select_first_row(page, merge_tab)
    merge_tab.click()
    page.get_by_text("Likely duplicates: same name or same phone.").wait_for()
    chooser = page.locator("[data-testid='stSelectbox']").filter(has_text="Duplicate to merge")
    chooser.locator("input").click()
    page.keyboard.type("oldmail")
    page.keyboard.press("Enter")
    page.get_by_text("are the same person").wait_for()
    settle(page)
    assert_no_exception(page)
    snap(page, artifacts / "customers-merge.png")


def test_the_settings_page_shows_the_form_and_what_is_configured(page, shop, artifacts):
    open_page(page, shop, "settings", "Settings")
    page.get_by_role("button", name="Save settings").wait_for()
    assert page.get_by_text("Dry-run").first.is_visible()
    assert page.get_by_text("does not survive a reboot").is_visible()
    assert_no_exception(page)
    snap(page, artifacts / "settings.png")


def test_the_reports_page_draws_its_charts(page, shop, artifacts):
    open_page(page, shop, "reports", "Reports")
    page.get_by_text("Orders per day").wait_for()
    page.locator("[data-testid='stVegaLiteChart']").nth(5).wait_for()
    assert_no_exception(page)
    snap(page, artifacts / "reports.png")


def test_the_reports_page_reads_on_a_phone(browser, shop, artifacts):
    with browser_tab(browser, 390, 844) as phone:
        open_page(phone, shop, "reports", "Reports")
        phone.get_by_text("Orders per day").wait_for()
        assert_no_exception(phone)
        snap(phone, artifacts / "reports-phone.png")


# ---- the Orders table's layout ----


@pytest.fixture(scope="module")
def flagged(shop):
    """Two identical large orders from the assistant: on Pending they carry review flags, so
    the Actions column holds its longest text."""
    db = Database(shop.database_url)
    for _ in range(2):
        data = order_data(items=[{"sku": "TEA-001", "quantity": 25}])
        orders.create_order(db, order=data, actor="assistant", source=Source.ASSISTANT)
    db.dispose()
    return shop


def hidden_to_the_right(page) -> int:
    """How many pixels of the orders table need a sideways scroll to be seen. The grid is a
    canvas inside one scrolling element; that element's widths tell."""
    return page.evaluate(
        """(scroller) => {
            const grid = document.querySelector(scroller);
            return grid.scrollWidth - grid.clientWidth;
        }""",
        GRID_SCROLLER,
    )


def headers_in_view(page) -> list[str]:
    # The grid mirrors the columns it draws in an accessible table: only those in view.
    headers = page.locator(f"{ORDERS_TABLE} [role=columnheader]")
    headers.first.wait_for(state="attached")
    return headers.all_text_contents()


def first_row_in_view(page) -> list[str]:
    row = page.locator(f"{ORDERS_TABLE} [role=row]").nth(1)
    return row.locator("[role=gridcell]").all_text_contents()


def cut_button_labels(page) -> list[str]:
    """Labels of the buttons on screen that do not fit their button (drawn cut, "Previous …")."""
    return page.evaluate(
        """() => [...document.querySelectorAll("[data-testid='stButton'] button")]
            .filter(button => button.offsetParent !== null)
            .filter(button => [button, ...button.querySelectorAll("*")]
                .some(part => part.scrollWidth > part.clientWidth + 1))
            .map(button => button.textContent)"""
    )


@pytest.mark.parametrize("width", [1400, 1280])
def test_every_column_of_the_orders_table_is_in_view_with_the_sidebar_open(
    browser, flagged, artifacts, width
):
    with browser_tab(browser, width, 900) as page:
        open_page(page, flagged, "", "Orders")
        assert page.locator("[data-testid='stSidebar']").is_visible()
        table = page.locator(ORDERS_TABLE).first.bounding_box()
        assert table is not None and table["x"] + table["width"] <= width
        assert hidden_to_the_right(page) <= 0
        assert headers_in_view(page) == ORDER_COLUMNS
        assert first_row_in_view(page)[-1].startswith("⚑ possible duplicate")
        page.get_by_role("button", name="Previous page").first.wait_for()
        assert cut_button_labels(page) == []
        assert_no_exception(page)
        snap(page, artifacts / f"orders-table-{width}.png")


def test_the_orders_table_reads_on_a_wide_screen(browser, flagged, artifacts):
    with browser_tab(browser, 1920, 1080) as page:
        open_page(page, flagged, "", "Orders")
        assert hidden_to_the_right(page) <= 0
        assert headers_in_view(page) == ORDER_COLUMNS
        snap(page, artifacts / "orders-table-1920.png")


def test_on_a_phone_the_orders_table_scrolls_sideways_with_the_order_number_pinned(
    browser, flagged, artifacts
):
    with browser_tab(browser, 390, 844) as phone:
        open_page(phone, flagged, "", "Orders")
        assert hidden_to_the_right(phone) > 0
        phone.evaluate(
            """(scroller) => {
                const grid = document.querySelector(scroller);
                grid.scrollLeft = grid.scrollWidth;
            }""",
            GRID_SCROLLER,
        )
        phone.wait_for_timeout(500)
        in_view = headers_in_view(phone)
        assert in_view[0] == "Order #" and in_view[-1] == "Actions"
        assert "Customer" not in in_view
        scrolled = artifacts / "orders-table-phone-scrolled.png"
        phone.locator(ORDERS_TABLE).first.screenshot(path=scrolled)
        snap(phone, artifacts / "orders-table-phone.png")
