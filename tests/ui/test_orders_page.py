from streamlit.testing.v1 import AppTest

from services import orders
from tests.builders import add_catalogue, order_data
from tests.ui.conftest import open_page


def run_page() -> AppTest:
    return open_page("orders").run()


def test_the_orders_page_runs_on_its_own_and_shows_empty_counts(page_db):
    at = run_page()
    assert not at.exception
    assert [t.label for t in at.tabs] == [
        "Pending Orders (0)",
        "Current Orders (0)",
        "All Orders (0)",
    ]


def test_the_tab_counts_come_from_the_database(page_db):
    add_catalogue(page_db)
    first = orders.create_order(page_db, order=order_data(), actor="t")
    orders.create_order(page_db, order=order_data(), actor="t")
    orders.confirm_order(page_db, order_id=first.order_id, expected_version=None, actor="t")
    at = run_page()
    assert [t.label for t in at.tabs] == [
        "Pending Orders (1)",
        "Current Orders (1)",
        "All Orders (2)",
    ]
