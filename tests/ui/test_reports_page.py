"""The Reports page in AppTest: the numbers of the hand-computed fixture, and an empty period."""

from __future__ import annotations

from tests.report_fixture import build_report_fixture
from tests.ui.conftest import open_page


def run_page():
    at = open_page("reports").run()
    assert not at.exception
    return at


def table_with(at, *columns):
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def test_the_reports_match_the_hand_computed_fixture(page_db):
    fixture = build_report_fixture(page_db)
    at = run_page()
    at.selectbox(key="reports.period").set_value("custom").run()
    at.date_input(key="reports.range").set_value((fixture.day1, fixture.day3)).run()

    assert not at.exception
    assert {m.label: m.value for m in at.metric} == {
        "Orders placed": "4",
        "Revenue": "$86.45",
        "Average order": "$28.82",
        "Placed to shipped (median)": "40.0 h",
    }
    days = table_with(at, "Date", "Orders", "Revenue")
    assert days["Orders"].tolist() == [2, 0, 2]
    assert days["Revenue"].tolist() == [30.98, 0.0, 55.47]
    statuses = table_with(at, "Status")
    assert statuses.to_dict("records") == [
        {"Status": "Pending", "Orders": 1, "Share %": 25.0, "Total": 17.99},
        {"Status": "Shipped", "Orders": 1, "Share %": 25.0, "Total": 37.48},
        {"Status": "Completed", "Orders": 1, "Share %": 25.0, "Total": 30.98},
        {"Status": "Cancelled", "Orders": 1, "Share %": 25.0, "Total": 24.49},
    ]
    assert table_with(at, "Payment")["Payment"].tolist() == ["Pending", "Paid", "Refunded"]
    products = table_with(at, "SKU", "Sales")
    assert products[["SKU", "Quantity", "Sales"]].to_dict("records") == [
        {"SKU": "TEA-001", "Quantity": 3, "Sales": 36.0},
        {"SKU": "HALF-01", "Quantity": 3, "Sales": 30.0},
    ]
    shipping = table_with(at, "Placed to shipped")
    assert shipping["Orders"].tolist() == [0, 1, 1, 0, 0, 0]
    assert len(at.get("vega_lite_chart")) == 6
    assert len(at.get("download_button")) == 6


def test_a_period_without_orders_says_what_to_do(page_db):
    at = run_page()
    assert "No orders were placed in this period" in at.info[0].value
    assert not at.metric
