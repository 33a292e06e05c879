"""Every allowed and every refused transition, generated from the one table of rules."""

import itertools
from datetime import UTC, datetime

import pytest

from domain.enums import EventKind, Template
from domain.order import (
    ACTIONS,
    PAYMENT_TRANSITIONS,
    Action,
    ActionInput,
    Happened,
    InvalidPaymentTransition,
    InvalidTransition,
    NotEditable,
    OrderStatus,
    PaymentRequired,
    PaymentStatus,
    ReasonRequired,
    TrackingRequired,
    allowed_actions,
    change_payment,
    check_action,
    check_editable,
    check_payment,
    take_action,
)

COMPLETE_INPUT = ActionInput(
    reason="returned by carrier", carrier="UPS", tracking_number="1Z999", ship_unpaid=True
)
PAIRS = list(itertools.product(Action, OrderStatus))


@pytest.mark.parametrize(
    ("action", "status"), [(a, s) for a, s in PAIRS if s in ACTIONS[a].sources]
)
def test_an_allowed_action_leads_to_its_target(action, status):
    assert (
        check_action(action, status, PaymentStatus.PAID, COMPLETE_INPUT) is ACTIONS[action].target
    )
    assert action in allowed_actions(status)


@pytest.mark.parametrize(
    ("action", "status"), [(a, s) for a, s in PAIRS if s not in ACTIONS[a].sources]
)
def test_a_refused_action_names_the_action_and_the_status(action, status):
    with pytest.raises(InvalidTransition) as refused:
        check_action(action, status, PaymentStatus.PAID, COMPLETE_INPUT)
    assert action.label in str(refused.value) and status.label in str(refused.value)
    assert action not in allowed_actions(status)


def test_terminal_statuses_allow_nothing():
    assert allowed_actions(OrderStatus.COMPLETED) == []
    assert allowed_actions(OrderStatus.CANCELLED) == []


def test_the_labels_are_the_ones_staff_know():
    assert [a.label for a in Action] == [
        "Confirm Order",
        "Mark In Progress",
        "Mark Shipped",
        "Complete Order",
        "Cancel Order",
    ]


@pytest.mark.parametrize("action", [a for a in Action if ACTIONS[a].needs_reason])
def test_an_action_that_needs_a_reason_refuses_a_blank_one(action):
    status = next(iter(ACTIONS[action].sources))
    with pytest.raises(ReasonRequired):
        check_action(action, status, PaymentStatus.PAID, ActionInput(reason="   "))


@pytest.mark.parametrize(
    "given",
    [
        ActionInput(carrier="UPS"),
        ActionInput(tracking_number="1Z"),
        ActionInput(carrier=" ", tracking_number=" "),
    ],
)
def test_shipping_needs_a_carrier_and_a_tracking_number(given):
    with pytest.raises(TrackingRequired):
        check_action(Action.MARK_SHIPPED, OrderStatus.IN_PROGRESS, PaymentStatus.PAID, given)


@pytest.mark.parametrize("payment", [p for p in PaymentStatus if p is not PaymentStatus.PAID])
def test_shipping_an_unpaid_order_needs_an_explicit_override(payment):
    given = ActionInput(carrier="UPS", tracking_number="1Z")
    with pytest.raises(PaymentRequired):
        check_action(Action.MARK_SHIPPED, OrderStatus.IN_PROGRESS, payment, given)
    overridden = ActionInput(carrier="UPS", tracking_number="1Z", ship_unpaid=True)
    assert (
        check_action(Action.MARK_SHIPPED, OrderStatus.IN_PROGRESS, payment, overridden)
        is OrderStatus.SHIPPED
    )


PAYMENT_PAIRS = list(itertools.product(PaymentStatus, PaymentStatus))


@pytest.mark.parametrize(("current", "target"), PAYMENT_PAIRS)
def test_payment_moves_only_along_the_table(current, target):
    if target in PAYMENT_TRANSITIONS[current]:
        assert check_payment(current, target) is target
    else:
        with pytest.raises(InvalidPaymentTransition):
            check_payment(current, target)


@pytest.mark.parametrize("status", list(OrderStatus))
def test_only_pending_and_in_progress_orders_are_editable(status):
    if status in (OrderStatus.PENDING, OrderStatus.IN_PROGRESS):
        check_editable(status)
    else:
        with pytest.raises(NotEditable):
            check_editable(status)


# ---- what a change does ------------------------------------------------------------------

AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_cancelling_a_paid_order_with_a_refund_records_both_changes_and_says_so():
    outcome = take_action(
        Action.CANCEL,
        OrderStatus.PENDING,
        PaymentStatus.PAID,
        ActionInput(reason=" out of stock "),
        at=AT,
        refund=True,
    )
    assert [(e.kind, e.before, e.after) for e in outcome.events] == [
        (EventKind.STATUS, OrderStatus.PENDING, OrderStatus.CANCELLED),
        (EventKind.PAYMENT, PaymentStatus.PAID, PaymentStatus.REFUNDED),
    ]
    assert outcome.changes == {
        "status": OrderStatus.CANCELLED,
        "cancelled_at": AT,
        "cancel_reason": "out of stock",
        "payment_status": PaymentStatus.REFUNDED,
    }
    assert (outcome.template, outcome.refunded, outcome.reason) == (
        Template.CANCELLED,
        True,
        "out of stock",
    )


def test_a_refund_is_only_offered_for_a_paid_order():
    outcome = take_action(
        Action.CANCEL,
        OrderStatus.PENDING,
        PaymentStatus.PENDING,
        ActionInput(reason="changed mind"),
        at=AT,
        refund=True,
    )
    assert len(outcome.events) == 1 and "payment_status" not in outcome.changes


def test_shipping_unpaid_records_the_override_with_the_tracking_details():
    given = ActionInput(carrier=" UPS ", tracking_number="1Z9 ", ship_unpaid=True)
    outcome = take_action(
        Action.MARK_SHIPPED, OrderStatus.IN_PROGRESS, PaymentStatus.PENDING, given, at=AT
    )
    (event,) = outcome.events
    assert event.detail == "UPS, tracking 1Z9 (shipped with payment Pending, override confirmed)"
    assert outcome.changes["tracking_url"] is None and outcome.changes["shipped_at"] == AT


def test_a_payment_failure_tells_the_customer_and_a_payment_does_not():
    failed = change_payment(PaymentStatus.PENDING, PaymentStatus.FAILED)
    paid = change_payment(PaymentStatus.PENDING, PaymentStatus.PAID)
    assert failed.template is Template.PAYMENT_FAILED and paid.template is None
    assert paid.events == (Happened(EventKind.PAYMENT, PaymentStatus.PENDING, PaymentStatus.PAID),)
