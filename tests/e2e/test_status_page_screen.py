"""The customer's order page at phone width in headless Chromium: a screenshot to look at.

The page is the route's own HTML (one request, no JavaScript), so it is fetched with
Starlette's TestClient and shown to Chromium as is; test-artifacts/status-page-390.png.
"""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import bootstrap
from api import status_page
from db.database import Database
from db.migrate import upgrade
from notify.links import OrderLinks
from tests.builders import add_catalogue
from tests.e2e.conftest import browser_tab
from tests.integration.test_status_page import shipped_order

pytestmark = pytest.mark.e2e


def test_the_status_page_reads_well_on_a_phone(browser, artifacts, tmp_path, monkeypatch):
    db = Database(f"sqlite:///{tmp_path / 'orders.db'}")
    upgrade(db)
    add_catalogue(db)
    links = OrderLinks("https://shop.example", "screenshot-secret")
    monkeypatch.setattr(bootstrap, "database", lambda url=None: db)
    monkeypatch.setattr(bootstrap, "order_links", lambda *_: links)
    items = [{"sku": "TEA-001", "quantity": 2}, {"sku": "MUG-001", "quantity": 1}]
    order_id = shipped_order(db, items=items)
    status_page.reset_limits()
    response = TestClient(Starlette(routes=status_page.ROUTES)).get(
        "/o/" + links.token_for(order_id)
    )
    assert response.status_code == 200
    db.dispose()

    with browser_tab(browser, 390, 844, device_scale_factor=2, java_script_enabled=False) as tab:
        tab.set_content(response.text)
        assert tab.locator("h1").inner_text() == "Order ORD-10001"
        # Nothing wider than the phone: no sideways scrolling.
        assert tab.evaluate("document.documentElement.scrollWidth") <= 390
        tab.screenshot(path=str(artifacts / "status-page-390.png"), full_page=True)
