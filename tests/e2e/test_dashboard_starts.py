"""The dashboard starts from `streamlit run app.py` and shows the Orders page."""

import urllib.request

from tests.e2e.conftest import wait_for_app


def test_the_server_answers_its_health_check(server):
    with urllib.request.urlopen(server.url + "/healthz", timeout=5) as response:
        assert response.status == 200


def test_the_orders_page_opens_by_default_with_its_three_tabs(page, server, artifacts):
    page.goto(server.url)
    wait_for_app(page)
    page.get_by_role("tab", name="Pending Orders (0)").wait_for()
    assert page.get_by_role("tab", name="Current Orders (0)").is_visible()
    assert page.get_by_role("tab", name="All Orders (0)").is_visible()
    page.screenshot(path=artifacts / "orders-empty.png", full_page=True)
