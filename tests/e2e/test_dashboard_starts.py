"""The dashboard starts from `streamlit run app.py` and shows the Orders page."""

import urllib.request

from tests.e2e.conftest import wait_for_app


def test_the_server_answers_its_health_check(server):
    with urllib.request.urlopen(server.url + "/healthz", timeout=5) as response:
        assert response.status == 200


def test_the_orders_page_opens_by_default_with_its_three_tabs(page, server, artifacts):
    page.goto(server.url)
    wait_for_app(page)
    for name in ("Pending Orders", "Current Orders", "All Orders"):
        page.get_by_role("tab", name=name).wait_for()
    page.get_by_text("No orders yet.").wait_for()
    page.get_by_role("button", name="Load sample data").wait_for()
    page.screenshot(path=artifacts / "orders-empty.png", full_page=True)
