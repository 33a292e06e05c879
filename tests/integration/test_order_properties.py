"""Properties of the write services and of order intake, on SQLite and PostgreSQL.

Random sequences of staff actions on one order never leave it in a state the rules forbid,
and its totals always add up from its lines; invalid intake payloads never store anything;
any storable text round-trips exactly. Few examples per run: each one is real transactions.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from db.models import (
    Contact,
    IdempotencyKey,
    Notification,
    Order,
    OrderEvent,
    OrderItem,
)
from domain.inputs import BIDI_CONTROLS, LINE_BREAKS, InvalidInput, OrderIn, is_invisible, parse
from domain.money import MAX_LINES, MAX_QUANTITY
from domain.order import TERMINAL, OrderError, OrderStatus, PaymentStatus
from queries.orders import order_details
from services import orders
from services.intake import place_order
from tests.builders import PRODUCTS, VALID_ORDER, add_catalogue, order_data
from tests.conftest import empty

ON_THE_DATABASE = settings(
    max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ACTIVE_SKUS = [sku for sku, _name, _price, active in PRODUCTS if active]

# ---- staff actions on one order ----

reasons = st.sampled_from(["", "Customer asked", "Parcel came back"])
steps = st.one_of(
    st.tuples(st.just("confirm")),
    st.tuples(st.just("back_in_progress"), reasons),
    st.tuples(st.just("ship"), st.sampled_from(["", "UPS"]), st.booleans()),
    st.tuples(st.just("complete")),
    st.tuples(st.just("cancel"), reasons, st.booleans()),
    st.tuples(st.just("payment"), st.sampled_from(list(PaymentStatus))),
    st.tuples(
        st.just("edit"),
        st.lists(
            st.tuples(st.sampled_from(ACTIVE_SKUS), st.integers(1, 50)), min_size=1, max_size=3
        ),
    ),
    st.tuples(st.just("note"), st.sampled_from(["", "Called the customer"])),
    st.tuples(st.just("stale_confirm")),
)


def apply(db, order_id: int, version: int, step: tuple) -> None:
    kind, *args = step
    common = {"order_id": order_id, "expected_version": version, "actor": "prop"}
    if kind == "confirm":
        orders.confirm_order(db, **common)
    elif kind == "back_in_progress":
        orders.mark_in_progress(db, **common, reason=args[0])
    elif kind == "ship":
        orders.mark_shipped(
            db, **common, carrier=args[0], tracking_number="1Z9", ship_unpaid=args[1]
        )
    elif kind == "complete":
        orders.complete_order(db, **common)
    elif kind == "cancel":
        orders.cancel_order(db, **common, reason=args[0], refund=args[1])
    elif kind == "payment":
        orders.set_payment_status(db, **common, payment=args[0])
    elif kind == "edit":
        items = [{"sku": sku, "quantity": qty} for sku, qty in args[0]]
        orders.edit_order(db, **common, changes=order_data(items=items))
    elif kind == "note":
        orders.add_note(db, order_id=order_id, actor="prop", text=args[0])
    elif kind == "stale_confirm":
        orders.confirm_order(db, **{**common, "expected_version": version - 1})


def snapshot(db, order_id: int) -> dict[str, Any]:
    d = order_details(db, order_id=order_id)
    with db.reading() as session:
        notices = session.execute(
            select(Notification.event_id, Notification.channel).where(
                Notification.order_id == order_id
            )
        ).all()
    return {"details": d, "notices": notices}


def assert_legal(before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    d = after["details"]
    assert d.subtotal_cents == sum(i.subtotal_cents for i in d.items)
    assert d.tax_cents == sum(i.tax_cents for i in d.items)
    assert d.total_cents == d.subtotal_cents + d.tax_cents + d.shipping_cents
    assert all(i.subtotal_cents == i.unit_price_cents * i.quantity for i in d.items)
    assert all(1 <= i.quantity <= MAX_QUANTITY for i in d.items)
    if d.status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED):
        assert d.carrier and d.tracking_number
    if d.status is OrderStatus.CANCELLED:
        assert d.cancel_reason
    if d.payment_status is PaymentStatus.REFUNDED:
        assert any(e.to_value == "refunded" for e in d.events)
    assert len(after["notices"]) == len(set(after["notices"])), "a message went twice"
    if before is None:
        return
    b = before["details"]
    if b.status in TERMINAL:
        assert d.status is b.status, "a finished order changed status"
    assert d.version >= b.version
    assert len(d.events) >= len(b.events)


@ON_THE_DATABASE
@given(st.lists(steps, min_size=1, max_size=10))
def test_random_staff_actions_never_reach_an_illegal_state(db, sequence):
    empty(db)
    add_catalogue(db)
    order_id = orders.create_order(db, order=order_data(), actor="prop").order_id
    state = snapshot(db, order_id)
    assert_legal(None, state)
    for step in sequence:
        try:
            apply(db, order_id, state["details"].version, step)
        except OrderError:
            unchanged = snapshot(db, order_id)
            assert unchanged == state, f"a refused {step[0]} still changed the order"
            continue
        assert step[0] != "stale_confirm", "a stale version was accepted"
        after = snapshot(db, order_id)
        assert_legal(state, after)
        state = after


# ---- intake validation ----


def _set(payload: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    node = changed
    for part in path[:-1]:
        node = node[part]
    if value is _DROP:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return changed


_DROP = object()
_paths = st.sampled_from(
    [
        ("customer", "first_name"),
        ("customer", "last_name"),
        ("customer", "email"),
        ("shipping", "street"),
        ("shipping", "city"),
        ("shipping", "state"),
        ("shipping", "zip"),
        ("items", 0, "sku"),
    ]
)
_bad_quantities = st.one_of(
    st.integers(max_value=0),
    st.integers(min_value=MAX_QUANTITY + 1),
    st.sampled_from(["two", 1.5, None, [], {}]),
)
_unknown_skus = st.text(min_size=1, max_size=64).filter(
    lambda s: s.strip() and s.strip() not in ACTIVE_SKUS
)
# No whitespace (categories Z and C), so stripping cannot bring it back under a limit.
_long = st.text(st.characters(exclude_categories=("Z", "C")), min_size=255, max_size=400)
_corruptions = st.one_of(
    st.tuples(_paths, st.just(_DROP)),  # a required field missing
    st.tuples(_paths, st.sampled_from(["", "   ", None, 42, ["x"], {"x": 1}])),
    st.tuples(_paths, _long),  # over every field's limit
    st.tuples(_paths, st.text(max_size=20).map(lambda s: s + "\x00")),  # unstorable
    st.tuples(st.just(("items", 0, "quantity")), _bad_quantities),
    st.tuples(st.just(("items", 0, "sku")), _unknown_skus | st.just("OLD-001")),
    st.tuples(st.just(("items",)), st.just([]) | st.just([{"sku": "TEA-001"}] * (MAX_LINES + 1))),
    st.tuples(st.just(("customer", "email")), st.text(max_size=40).filter(lambda s: "@" not in s)),
    st.tuples(st.just(("customer", "phone")), st.sampled_from(["12", "not a phone", "+1"])),
    st.tuples(st.just(("shipping", "country")), st.sampled_from(["USA", "1", "U"])),
    st.tuples(
        st.sampled_from([("surprise",), ("customer", "admin"), ("items", 0, "price")]), st.just(1)
    ),  # noqa: E501
    st.tuples(st.sampled_from([("customer",), ("shipping",), ("items",)]), st.just("text")),
)
invalid_payloads = _corruptions.map(lambda c: _set(VALID_ORDER, c[0], c[1]))


@given(invalid_payloads)
def test_invalid_payloads_never_pass_validation(payload):
    try:
        parse(OrderIn, payload)
    except InvalidInput as refused:
        assert refused.errors and all(e.field and e.message for e in refused.errors)
    else:
        # Only an unknown or inactive SKU gets past the shape: the catalogue refuses it.
        assert payload["items"][0]["sku"] not in ACTIVE_SKUS


def stored_rows(db) -> dict[str, int]:
    with db.reading() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Order, OrderItem, OrderEvent, Contact, Notification, IdempotencyKey)
        }


@ON_THE_DATABASE
@given(invalid_payloads)
def test_invalid_payloads_never_store_anything(db, payload):
    empty(db)
    add_catalogue(db)
    before = stored_rows(db)
    try:
        place_order(db, scope="prop", key=uuid.uuid4().hex, payload=payload)
    except InvalidInput:
        pass
    else:
        raise AssertionError(f"accepted {payload!r}")
    assert stored_rows(db) == before


storable = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
    min_size=1,
    max_size=100,
).filter(str.strip)

# A name or address line: one line, no control or text-direction characters, something visible.
one_line = st.text(
    alphabet=st.characters(
        exclude_categories=("Cs", "Cc", "Zl", "Zp"),
        exclude_characters="".join(BIDI_CONTROLS | LINE_BREAKS),
    ),
    min_size=1,
    max_size=100,
).filter(lambda text: not all(map(is_invisible, text.strip())))


@ON_THE_DATABASE
@given(first=one_line, city=one_line, note=storable)
def test_any_storable_text_round_trips_exactly(db, first, city, note):
    empty(db)
    add_catalogue(db)
    payload = order_data(customer__first_name=first, shipping__city=city, note=note)
    placed = place_order(db, scope="prop", key=uuid.uuid4().hex, payload=payload)
    with db.reading() as session:
        order_id = session.scalar(select(Order.id).where(Order.number == placed.number))
    d = order_details(db, order_id=order_id)
    accepted = parse(OrderIn, payload)  # what validation made of it (whitespace trimmed)
    wanted = (accepted.customer.first_name, accepted.shipping.city, accepted.note)
    assert (d.first_name, d.city, d.customer_note) == wanted
