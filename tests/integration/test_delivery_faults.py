"""Fault test: 1,000 status changes while the fake provider fails 30 % of requests at random.

Everything runs at once, as in the server: staff threads change orders, the after-commit
path sends each change's message immediately, and two dispatcher loops retry what failed.
Backoff is scaled down to milliseconds so the whole storm takes seconds, not hours.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from db.models import Notification
from domain.enums import NotificationStatus
from notify.delivery import DispatcherLoop, ImmediateDelivery
from notify.dispatch import Dispatcher, RetryPolicy
from services import orders
from tests.builders import add_catalogue, order_data
from tests.fakes.notify import (
    accepted_per_reference,
    providers_for,
    requests_per_reference,
)
from tests.fakes.provider_server import FakeProviderServer

ORDERS = 200  # × 5 status changes each = 1,000
ACTOR = "staff@example.com"
# 30 % failures: 25 attempts make giving up a 1-in-10^13 event per message.
FAST = RetryPolicy(max_attempts=25, base_seconds=0.005, cap_seconds=0.05)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_proxy")]


def customer(n: int) -> dict[str, str]:
    return {
        "first_name": f"C{n}",
        "last_name": "Test",
        "email": f"c{n}@example.com",
        "phone": f"+1415555{n:04d}",
        "preferred_channel": "sms" if n % 2 else "email",
    }


def five_status_changes(db, n: int) -> int:
    change = orders.create_order(db, order=order_data(customer=customer(n)), actor=ACTOR)
    order_id = change.order_id
    orders.confirm_order(db, order_id=order_id, expected_version=None, actor=ACTOR)
    ship = {"carrier": "UPS", "tracking_number": f"1Z{n}", "ship_unpaid": True}
    orders.mark_shipped(db, order_id=order_id, expected_version=None, actor=ACTOR, **ship)
    orders.mark_in_progress(
        db, order_id=order_id, expected_version=None, actor=ACTOR, reason="returned"
    )
    orders.mark_shipped(db, order_id=order_id, expected_version=None, actor=ACTOR, **ship)
    orders.complete_order(db, order_id=order_id, expected_version=None, actor=ACTOR)
    return 5


def dispatcher(db, url: str) -> Dispatcher:
    return Dispatcher(db, providers_for(url), policy=FAST, batch_size=20)


def wait_until_all_sent(db, timeout: float) -> Counter[NotificationStatus]:
    deadline = time.monotonic() + timeout
    while True:
        with db.reading() as session:
            statuses = Counter(session.scalars(select(Notification.status)))
        if set(statuses) == {NotificationStatus.SENT} or time.monotonic() > deadline:
            return statuses
        time.sleep(0.1)


def test_every_notification_is_sent_exactly_once_while_30_percent_of_requests_fail(db):
    add_catalogue(db)
    started = time.monotonic()
    with FakeProviderServer(failure_rate=0.3, seed=1042) as fake:
        immediate = ImmediateDelivery(dispatcher(db, fake.url), workers=2).start()
        loops = [DispatcherLoop(dispatcher(db, fake.url), interval=0.02).start() for _ in "ab"]
        try:
            with ThreadPoolExecutor(4) as staff:
                changes = sum(staff.map(lambda n: five_status_changes(db, n), range(ORDERS)))
            statuses = wait_until_all_sent(db, timeout=120)
        finally:
            immediate.stop()
            for loop in loops:
                loop.stop()
        answered = fake.answered
    elapsed = time.monotonic() - started

    assert changes == 1000
    assert statuses == Counter({NotificationStatus.SENT: ORDERS * 6})  # + "received" each
    with db.reading() as session:
        rows = {n.dedupe_key: n.attempts for n in session.scalars(select(Notification))}
    accepted = accepted_per_reference(fake)
    assert set(accepted) == set(rows)
    assert set(accepted.values()) == {1}, "a notification was accepted twice"
    assert requests_per_reference(fake) == Counter(rows)  # one request per claimed attempt
    failures = sum(1 for _, status in answered if status >= 500)
    assert 0.2 < failures / len(answered) < 0.4
    print(
        f"\nfault test ({db.kind}): {changes} changes, {len(rows)} notifications, "
        f"{len(answered)} requests, {failures} injected failures retried, "
        f"max attempts {max(rows.values())}, {elapsed:.1f} s"
    )
