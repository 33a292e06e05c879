"""A made-up ZIP code in the Add Order dialog, in Chromium: the words sit under the field."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import add_product, wait_for_app

pytestmark = pytest.mark.e2e


def test_an_invalid_zip_shows_its_error_under_the_zip_field(page, server, artifacts):
    page.goto(server.url)
    wait_for_app(page)
    page.get_by_role("button", name="+ Add Order").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("First Name").fill("Grace")
    dialog.get_by_label("Last Name").fill("Hopper")
    dialog.get_by_label("Email *").fill("grace.hopper@example.com")
    add_product(page, dialog, "Earl Grey")
    dialog.get_by_role("button", name="Next").click()
    dialog.get_by_text("3. Shipping").wait_for()
    dialog.get_by_label("Street Address").fill("9 Navy Yard")
    dialog.get_by_label("City").fill("Arlington")
    dialog.get_by_label("State").fill("Virginia")
    dialog.get_by_label("ZIP Code").fill("ABCDE")
    dialog.get_by_role("button", name="Create Order").click()

    error = dialog.locator(".st-key-orders-form-zip-error")
    error.wait_for()
    wait_for_app(page)
    assert "ZIP Code is not a valid postal code for United States" in error.inner_text()
    assert dialog.locator(".st-key-orders-form-state-error").count() == 0  # "Virginia" is VA
    field = dialog.get_by_label("ZIP Code").bounding_box()
    words = error.bounding_box()
    assert field and words
    # Right under the ZIP input, in its column: not beside another field, not in a toast.
    assert 0 <= words["y"] - (field["y"] + field["height"]) < 40
    assert words["x"] < field["x"] + field["width"] and field["x"] < words["x"] + words["width"]
    dialog.screenshot(path=artifacts / "add-order-invalid-zip.png")

    dialog.get_by_label("ZIP Code").fill("22202")
    dialog.get_by_role("button", name="Create Order").click()
    page.get_by_text(re.compile(r"ORD-\d+ added to Pending")).first.wait_for()
    assert dialog.locator(".st-key-orders-form-zip-error").count() == 0
