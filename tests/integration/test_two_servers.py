"""Two servers on one PostgreSQL, as a growing shop deploys them: two `streamlit run app.py`,
or the dashboard beside `python -m api --workers 2` (the API without the dashboard)."""

from __future__ import annotations

import pytest

from bench.two_servers import run
from tests.integration.intake_support import own_database

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("api_workers", "orders", "clients"),
    [(0, 200, 4), (2, 120, 3)],
    ids=["two-dashboards", "dashboard-and-api-process"],
)
def test_two_servers_on_one_database_number_orders_uniquely_and_notify_each_customer_once(
    tmp_path, no_proxy, api_workers, orders, clients
):
    with own_database("postgresql", tmp_path, "two_servers") as db:
        outcome = run(
            db.url, tmp_path, orders_count=orders, clients_per_server=clients,
            api_workers=api_workers,
        )  # fmt: skip

    assert outcome.problems == []
    assert len(outcome.placed) == orders and outcome.orders_in_database == orders
    assert all(outcome.per_server), "each server took part of the load"
    assert outcome.retries == orders // 10  # every tenth order, retried through the other server
    # One "received" e-mail per order and one "confirmed" per order confirmed from outside,
    # each accepted by the provider exactly once.
    assert outcome.notifications == orders + outcome.confirmed
    assert sum(outcome.dispatched_per_server) >= 1, "the dispatcher loops delivered rows"
    if api_workers:
        api_log = (tmp_path / "api.log").read_text(errors="replace")
        assert api_log.count("notification delivery started") == api_workers, "each delivers"
