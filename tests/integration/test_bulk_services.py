"""Bulk actions on SQLite and PostgreSQL: each order its own change, event and message."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db.models import Notification, OrderEvent
from domain.order import OrderStatus, PaymentStatus
from queries.orders import order_details
from services import bulk, orders
from services.bulk import MAX_BULK, Shipment, Target, TooManyOrders
from tests.builders import add_catalogue, order_data

ACTOR = "owner@example.com"


@pytest.fixture
def catalogue(db):
    return add_catalogue(db)


def placed(db, count: int) -> list[Target]:
    changes = [orders.create_order(db, order=order_data(), actor="t") for _ in range(count)]
    return [Target(c.order_id, c.number, c.version, c.status) for c in changes]


def rows_of(db, model, order_id: int) -> list:
    with db.reading() as session:
        return list(session.scalars(select(model).where(model.order_id == order_id)))


def test_bulk_confirm_changes_each_order_with_its_event_and_one_message(db, catalogue):
    targets = placed(db, 3)
    result = bulk.confirm_orders(db, targets, actor=ACTOR)
    assert result.done_ids == [t.order_id for t in targets]
    assert result.skipped == ()
    assert result.summary == "3 confirmed"
    for target in targets:
        assert order_details(db, order_id=target.order_id).status is OrderStatus.IN_PROGRESS
        events = rows_of(db, OrderEvent, target.order_id)
        assert [(e.kind, e.to_value, e.actor) for e in events][-1] == (
            "status",
            "in_progress",
            ACTOR,
        )
        templates = [n.template for n in rows_of(db, Notification, target.order_id)]
        assert templates.count("confirmed") == 1


def test_an_order_changed_by_someone_else_is_skipped_and_the_rest_go_on(db, catalogue):
    targets = placed(db, 3)
    stale = targets[1]
    orders.cancel_order(
        db, order_id=stale.order_id, expected_version=None, actor="colleague", reason="asked"
    )
    result = bulk.confirm_orders(db, targets, actor=ACTOR)
    assert result.done_ids == [targets[0].order_id, targets[2].order_id]
    assert [s.order_id for s in result.skipped] == [stale.order_id]
    assert result.summary == (
        f"2 confirmed · 1 skipped: {stale.number} was already cancelled by someone else"
    )
    assert order_details(db, order_id=stale.order_id).status is OrderStatus.CANCELLED
    confirmed = [n for n in rows_of(db, Notification, stale.order_id) if n.template == "confirmed"]
    assert confirmed == []


def test_an_action_not_allowed_for_an_order_is_skipped_with_the_rules_words(db, catalogue):
    targets = placed(db, 2)
    unchecked = [Target(t.order_id, t.number, None) for t in targets]
    result = bulk.complete_orders(db, unchecked, actor=ACTOR)
    assert result.done == ()
    assert len(result.skipped) == 2
    assert "not possible while the order is Pending" in result.skipped[0].reason
    assert result.summary.startswith("0 completed · 2 skipped: ORD-")
    # One sentence: each reason without its full stop (the page adds the one at the end).
    assert ".;" not in result.summary and not result.summary.endswith(".")


def test_more_than_the_cap_is_refused_before_anything_changes(db, catalogue):
    targets = placed(db, 1)
    too_many = targets * (MAX_BULK + 1)
    with pytest.raises(TooManyOrders, match="at most 200 orders; 201 were selected"):
        bulk.confirm_orders(db, too_many, actor=ACTOR)
    assert order_details(db, order_id=targets[0].order_id).status is OrderStatus.PENDING
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(OrderEvent)) == 1  # created


def test_exactly_the_cap_is_accepted(db, catalogue):
    targets = placed(db, 2)
    # The same orders repeated: the first pass confirms, the rest are skipped as stale.
    result = bulk.confirm_orders(db, (targets * MAX_BULK)[:MAX_BULK], actor=ACTOR)
    assert len(result.done) == 2 and len(result.skipped) == MAX_BULK - 2


def test_bulk_shipping_takes_each_orders_own_tracking_number(db, catalogue):
    targets = placed(db, 2)
    confirmed = bulk.confirm_orders(db, targets, actor=ACTOR).done
    now = [Target(c.order_id, c.number, c.version, c.status) for c in confirmed]
    shipments = {
        now[0].order_id: Shipment("UPS", "1Z-A"),
        now[1].order_id: Shipment("DHL", "JD-B"),
    }
    result = bulk.mark_shipped_orders(db, now, actor=ACTOR, shipments=shipments, ship_unpaid=True)
    assert result.summary == "2 marked shipped"
    first, second = (order_details(db, order_id=t.order_id) for t in now)
    assert (first.carrier, first.tracking_number) == ("UPS", "1Z-A")
    assert (second.carrier, second.tracking_number) == ("DHL", "JD-B")


def test_bulk_cancel_with_refund_refunds_the_paid_ones_only(db, catalogue):
    targets = placed(db, 2)
    paid = orders.set_payment_status(
        db, order_id=targets[0].order_id, expected_version=None, actor="t", payment="paid"
    )
    now = [Target(paid.order_id, paid.number, paid.version, paid.status), targets[1]]
    result = bulk.cancel_orders(db, now, actor=ACTOR, reason="Out of stock", refund=True)
    assert result.summary == "2 cancelled"
    first, second = (order_details(db, order_id=t.order_id) for t in now)
    assert (first.status, first.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.REFUNDED)
    assert (second.status, second.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.PENDING)


def test_bulk_mark_paid(db, catalogue):
    targets = placed(db, 2)
    result = bulk.mark_paid_orders(db, targets, actor=ACTOR)
    assert result.summary == "2 marked paid"
    assert all(
        order_details(db, order_id=t.order_id).payment_status is PaymentStatus.PAID for t in targets
    )
