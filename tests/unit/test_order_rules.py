"""Every allowed and every refused transition, generated from the one table of rules."""

import itertools

import pytest

from domain.order import (
    ACTIONS,
    PAYMENT_TRANSITIONS,
    Action,
    ActionInput,
    InvalidPaymentTransition,
    InvalidTransition,
    NotEditable,
    OrderStatus,
    PaymentRequired,
    PaymentStatus,
    ReasonRequired,
    TrackingRequired,
    allowed_actions,
    check_action,
    check_editable,
    check_payment,
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
