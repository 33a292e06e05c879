"""Sign-in in a real browser: `streamlit run app.py` with DASHBOARD_PASSWORD set.

Nothing of the orders reaches the browser before sign-in, on the default page or on a page
opened straight from its URL; after sign-in the page asked for opens; sign-out closes it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from db.seed import main as seed
from services import orders
from tests.builders import order_data
from tests.e2e.conftest import Server, browser_tab, start_server, stop_server, wait_for_app

pytestmark = pytest.mark.e2e
PASSWORD = "e2e sign-in password"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from db.database import Database

    folder = tmp_path_factory.mktemp("sign-in")
    url = f"sqlite:///{folder / 'orders.db'}"
    seed(["--database-url", url])
    db = Database(url)
    orders.create_order(db, order=order_data(), actor="e2e")
    db.dispose()
    running = start_server(url, folder / "streamlit.log", {"DASHBOARD_PASSWORD": PASSWORD})
    yield running
    stop_server(running)


@pytest.fixture
def tab(browser, guarded):
    with browser_tab(browser, 1200, 900) as page:
        yield page


def sign_in(page, password: str = PASSWORD) -> None:
    page.get_by_role("textbox", name="Your name").fill("Erin Example")
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    wait_for_app(page)


def test_the_browser_gets_no_order_data_before_sign_in(tab, guarded, artifacts):
    tab.goto(guarded.url)
    wait_for_app(tab)
    tab.get_by_role("textbox", name="Password").wait_for()
    html = tab.content()
    assert "ORD-10001" not in html and "Lovelace" not in html
    sign_in(tab, "a guess")
    tab.get_by_text("That password is not right").wait_for()
    assert "ORD-10001" not in tab.content()
    tab.screenshot(path=artifacts / "sign-in-refused.png", full_page=True)


def test_signing_in_opens_the_orders_and_signing_out_closes_them(tab, guarded, artifacts):
    tab.goto(guarded.url)
    wait_for_app(tab)
    sign_in(tab)
    tab.get_by_role("tab", name="Pending Orders").wait_for()
    tab.get_by_text("Signed in as Erin Example").wait_for()
    tab.screenshot(path=artifacts / "signed-in.png", full_page=True)
    tab.get_by_role("button", name="Sign out").click()
    wait_for_app(tab)
    tab.get_by_role("textbox", name="Password").wait_for()
    assert "ORD-10001" not in tab.content()


def test_a_page_opened_from_its_url_asks_first_then_opens(tab, guarded):
    tab.goto(guarded.url + "/products")
    wait_for_app(tab)
    tab.get_by_role("textbox", name="Password").wait_for()
    assert "TEA-001" not in tab.content()
    sign_in(tab)
    tab.get_by_role("heading", name="Products").wait_for()
