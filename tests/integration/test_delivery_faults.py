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
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from db.models import Notification, OrderEvent
from domain.enums import NotificationStatus
from notify.delivery import DispatcherLoop, ImmediateDelivery
from notify.dispatch import Dispatcher, RetryPolicy
from services import orders
from tests.builders import add_catalogue, order_data
from tests.fakes.notify import (
    FakeClock,
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


class DropsTheDatabaseAfterSending:
    """A provider whose request goes through, after which the database connection is gone.

    The provider has accepted the message (202), but the `sent` update cannot be written:
    the pools' connections are dropped and new ones are refused, as in a database restart.
    """

    def __init__(self, provider, engines) -> None:
        self.provider = provider
        self.engines = engines
        self.dbapi = engines[0].dialect.loaded_dbapi

    def send(self, message):
        receipt = self.provider.send(message)
        for engine in self.engines:
            event.listen(engine, "do_connect", self.refuse)
            engine.dispose()
        return receipt

    def refuse(self, *_args, **_kwargs):
        raise self.dbapi.OperationalError("connection refused (test outage)")

    def restore(self) -> None:
        for engine in self.engines:
            event.remove(engine, "do_connect", self.refuse)


def test_a_message_accepted_before_the_database_dropped_is_never_sent_again(db):
    """The lease of a row whose send may have reached the provider runs out: it is uncertain."""
    add_catalogue(db)
    with FakeProviderServer() as fake:
        change = orders.create_order(db, order=order_data(customer=customer(2)), actor=ACTOR)
        clock = FakeClock()
        providers = providers_for(fake.url)
        dropping = DropsTheDatabaseAfterSending(providers["email"], db.engines)
        crashing = Dispatcher(db, {**providers, "email": dropping}, clock=clock, lease_seconds=60)
        try:
            with pytest.raises(OperationalError):
                crashing.run_once()
        finally:
            dropping.restore()
        with db.reading() as session:
            assert session.scalars(select(Notification.status)).all() == ["sending"]

        clock.advance(61)
        later = Dispatcher(db, providers_for(fake.url), clock=clock, lease_seconds=60)
        later.run_once()
        clock.advance(86_400)
        later.run_once()

        assert len(fake.requests) == 1
        assert list(accepted_per_reference(fake).values()) == [1]
    with db.reading() as session:
        row = session.scalars(select(Notification)).one()
        notes = session.scalars(
            select(OrderEvent.detail).where(
                OrderEvent.order_id == change.order_id, OrderEvent.kind == "notification"
            )
        ).all()
    assert row.status == NotificationStatus.UNCERTAIN
    assert row.lease_until is None
    assert any("not resent automatically" in note for note in notes)
