"""Two `streamlit run app.py` servers on one PostgreSQL, as a growing shop deploys them."""

from __future__ import annotations

import pytest

from bench.two_servers import run
from tests.integration.intake_support import own_database

pytestmark = pytest.mark.slow


def test_two_servers_on_one_database_number_orders_uniquely_and_notify_each_customer_once(
    tmp_path, no_proxy
):
    with own_database("postgresql", tmp_path, "two_servers") as db:
        outcome = run(db.url, tmp_path, orders_count=200, clients_per_server=4)

    assert outcome.problems == []
    assert len(outcome.placed) == 200 and outcome.orders_in_database == 200
    assert all(outcome.per_server), "each server took part of the load"
    assert outcome.retries == 20  # every tenth order, retried through the other server
    # One "received" e-mail per order and one "confirmed" per order confirmed from outside,
    # each accepted by the provider exactly once.
    assert outcome.notifications == 200 + outcome.confirmed
    assert sum(outcome.dispatched_per_server) >= 1, "the dispatcher loops delivered rows"
