"""Review flags for Pending orders, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from db.models import Order, utc_now
from queries.review import (
    FIRST_ORDER,
    LARGE_LINE_QUANTITY,
    LARGE_QUANTITY,
    POSSIBLE_DUPLICATE,
    review_flags,
)
from services import orders
from tests.builders import add_catalogue, order_data


@pytest.fixture
def catalogue(db):
    return add_catalogue(db)


def new_order(db, *, hours_ago: float = 0, cancelled: bool = False, **changes) -> int:
    order_id = orders.create_order(db, order=order_data(**changes), actor="assistant").order_id
    with db.writing() as session:
        values = {"created_at": utc_now() - timedelta(hours=hours_ago)}
        if cancelled:
            values["status"] = "cancelled"
        session.execute(update(Order).where(Order.id == order_id).values(**values))
        session.commit()
    return order_id


def placed(db, *order_ids: int) -> dict[int, object]:
    """{id: when placed} for the orders, as the page passes its rows."""
    with db.reading() as session:
        found = session.execute(
            select(Order.id, Order.created_at).where(Order.id.in_(order_ids))
        ).all()
    return dict(found)


def items(*lines: tuple[str, int]) -> list[dict]:
    return [{"sku": sku, "quantity": quantity} for sku, quantity in lines]


def test_a_customers_first_order_is_flagged_and_their_next_is_not(db, catalogue):
    first = new_order(db, hours_ago=48)
    second = new_order(db, items=items(("MUG-001", 1)))
    flags = review_flags(db, placed(db, first, second))
    assert flags == {first: [FIRST_ORDER], second: []}


def test_of_two_orders_placed_at_the_same_moment_the_first_id_is_the_first_order(db, catalogue):
    first = new_order(db, items=items(("MUG-001", 1)))
    second = new_order(db, items=items(("TEA-001", 1)))
    with db.writing() as session:
        moment = session.scalar(select(Order.created_at).where(Order.id == first))
        session.execute(update(Order).where(Order.id == second).values(created_at=moment))
        session.commit()
    flags = review_flags(db, placed(db, first, second))
    assert flags == {first: [FIRST_ORDER], second: []}


def test_the_same_items_for_the_same_customer_within_a_day_are_possible_duplicates(db, catalogue):
    basket = items(("TEA-001", 2), ("MUG-001", 1))
    earlier = new_order(db, hours_ago=23, items=basket)
    later = new_order(db, items=list(reversed(basket)))
    flags = review_flags(db, placed(db, later))
    assert flags == {later: [POSSIBLE_DUPLICATE]}
    assert POSSIBLE_DUPLICATE in review_flags(db, placed(db, earlier))[earlier]


@pytest.mark.parametrize(
    ("case", "other"),
    [
        ("another quantity", {"items": items(("TEA-001", 3))}),
        ("another product too", {"items": items(("TEA-001", 2), ("MUG-001", 1))}),
        ("another customer", {"customer__email": "grace@example.com"}),
        ("more than a day apart", {"hours_ago": 25}),
        ("the other was cancelled", {"cancelled": True, "hours_ago": 1}),
    ],
)
def test_orders_that_differ_are_not_duplicates(db, catalogue, case, other):
    other = dict(other)
    new_order(db, hours_ago=other.pop("hours_ago", 2), **other)
    order_id = new_order(db)
    assert POSSIBLE_DUPLICATE not in review_flags(db, placed(db, order_id))[order_id]


@pytest.mark.parametrize(
    ("lines", "large"),
    [
        (items(("TEA-001", LARGE_LINE_QUANTITY - 1)), False),
        (items(("TEA-001", LARGE_LINE_QUANTITY)), True),
        # Each line small, but LARGE_ITEM_COUNT or more things in all.
        ([{"sku": sku, "quantity": 17} for sku in ("TEA-001", "MUG-001", "HALF-01")], True),
    ],
)
def test_unusually_large_quantities_are_flagged(db, catalogue, lines, large):
    order_id = new_order(db, items=lines)
    assert (LARGE_QUANTITY in review_flags(db, placed(db, order_id))[order_id]) is large


def test_unknown_ids_and_no_ids_have_no_flags(db, catalogue):
    assert review_flags(db, {}) == {}
    assert review_flags(db, {999: utc_now()}) == {999: []}


def test_a_page_of_fifty_orders_takes_one_query(db, catalogue):
    ids = [new_order(db, customer__email=f"c{i % 10}@example.com") for i in range(50)]
    when = placed(db, *ids)
    statements = []

    def count(_connection, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        flags = review_flags(db, when)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len([s for s in statements if s != "BEGIN"]) == 1  # SQLite says BEGIN itself
    assert sum(FIRST_ORDER in f for f in flags.values()) == 10
    assert sum(POSSIBLE_DUPLICATE in f for f in flags.values()) == 50
