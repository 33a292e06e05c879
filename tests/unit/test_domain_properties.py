"""Properties of the order's rules and its money, over inputs hypothesis makes up.

The expected behaviour is written out here again from DESIGN.md §2–3 — not read from the
domain's own tables — so a slip in those tables shows up as a counterexample.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.inputs import MAX_MONEY_CENTS
from domain.money import (
    MAX_QUANTITY,
    Pricing,
    format_money,
    parse_money,
    price_line,
    shipping_for,
    totals_of,
)
from domain.order import (
    TERMINAL,
    Action,
    ActionInput,
    OrderError,
    OrderStatus,
    PaymentStatus,
    allowed_actions,
    allowed_payment_targets,
    check_action,
    check_payment,
)

P, IP, S, D, C = (
    OrderStatus.PENDING,
    OrderStatus.IN_PROGRESS,
    OrderStatus.SHIPPED,
    OrderStatus.COMPLETED,
    OrderStatus.CANCELLED,
)
# DESIGN.md §2: action → (from, to, needs)
SPEC: dict[Action, tuple[set[OrderStatus], OrderStatus, str]] = {
    Action.CONFIRM: ({P}, IP, ""),
    Action.MARK_IN_PROGRESS: ({S}, IP, "reason"),
    Action.MARK_SHIPPED: ({IP}, S, "tracking"),
    Action.COMPLETE: ({S}, D, ""),
    Action.CANCEL: ({P, IP}, C, "reason"),
}
PAYMENTS = {
    PaymentStatus.PENDING: {PaymentStatus.PAID, PaymentStatus.FAILED},
    PaymentStatus.FAILED: {PaymentStatus.PAID, PaymentStatus.PENDING},
    PaymentStatus.PAID: {PaymentStatus.REFUNDED},
    PaymentStatus.REFUNDED: set(),
}

texts = st.sampled_from(["", "  ", "\t", "Returned to sender", "UPS", "1Z999"])
inputs = st.builds(ActionInput, reason=texts, carrier=texts, tracking_number=texts)
steps = st.one_of(
    st.tuples(st.just("action"), st.sampled_from(list(Action)), inputs, st.booleans()),
    st.tuples(st.just("payment"), st.sampled_from(list(PaymentStatus))),
)


def expected_target(
    action: Action, status: OrderStatus, payment: PaymentStatus, given: ActionInput
) -> OrderStatus | None:
    sources, target, needs = SPEC[action]
    if status not in sources:
        return None
    if needs == "reason" and not given.reason.strip():
        return None
    if needs == "tracking":
        if not (given.carrier.strip() and given.tracking_number.strip()):
            return None
        if payment is not PaymentStatus.PAID and not given.ship_unpaid:
            return None
    return target


@given(st.lists(steps, max_size=30))
def test_random_sequences_of_actions_never_reach_an_illegal_state(sequence):
    status, payment = OrderStatus.PENDING, PaymentStatus.PENDING
    for step in sequence:
        if step[0] == "action":
            _, action, typed, override = step
            typed = ActionInput(typed.reason, typed.carrier, typed.tracking_number, override)
            wanted = expected_target(action, status, payment, typed)
            try:
                reached = check_action(action, status, payment, typed)
            except OrderError:
                assert wanted is None, f"{action} from {status} should have worked"
                continue
            assert reached == wanted, f"{action} from {status} reached {reached}"
            assert status not in TERMINAL, "a finished order changed"
            status = reached
        else:
            before, target = payment, step[1]
            try:
                payment = check_payment(before, target)
            except OrderError:
                assert target not in PAYMENTS[before]
            else:
                assert target in PAYMENTS[before]
        assert set(allowed_actions(status)) == {a for a, spec in SPEC.items() if status in spec[0]}
        assert set(allowed_payment_targets(payment)) == PAYMENTS[payment]


@given(st.sampled_from(list(Action)), st.sampled_from(sorted(TERMINAL)), inputs)
def test_a_finished_order_accepts_no_action(action, status, typed):
    with pytest.raises(OrderError):
        check_action(action, status, PaymentStatus.PAID, typed)


# ---- money ----

prices = st.integers(min_value=0, max_value=MAX_MONEY_CENTS)
quantities = st.integers(min_value=1, max_value=MAX_QUANTITY)
rates = st.integers(min_value=0, max_value=10_000)
pricings = st.builds(
    Pricing,
    tax_rate_bp=rates,
    shipping_fee_cents=st.integers(min_value=0, max_value=100_000),
    free_shipping_over_cents=st.none() | st.integers(min_value=0, max_value=MAX_MONEY_CENTS),
)


def half_up(cents: Decimal) -> int:
    return int(cents.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@given(st.lists(st.tuples(prices, quantities), min_size=1, max_size=20), pricings)
def test_totals_are_always_the_lines_plus_tax_plus_shipping(lines, pricing):
    priced = [price_line(price, qty, pricing.tax_rate_bp) for price, qty in lines]
    totals = totals_of(priced, pricing)

    subtotal = sum(price * qty for price, qty in lines)
    tax = sum(half_up(Decimal(p * q) * pricing.tax_rate_bp / 10_000) for p, q in lines)
    free = pricing.free_shipping_over_cents is not None and (
        subtotal >= pricing.free_shipping_over_cents
    )
    shipping = 0 if free else pricing.shipping_fee_cents
    assert (totals.subtotal_cents, totals.tax_cents, totals.shipping_cents) == (
        subtotal,
        tax,
        shipping,
    )
    assert totals.total_cents == subtotal + tax + shipping
    assert totals.total_cents == sum(line.total_cents for line in priced) + shipping
    assert all(0 <= line.tax_cents <= line.subtotal_cents for line in priced)
    assert shipping_for(subtotal, pricing) == shipping


@given(st.integers(min_value=0, max_value=10**12))
def test_amounts_survive_being_shown_and_typed_back(cents):
    assert parse_money(format_money(cents, "USD")) == cents
