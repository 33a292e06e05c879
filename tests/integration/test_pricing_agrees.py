"""The seed's order, the form's quote and a placed order price any cart alike, on both databases.

All three price with domain.pricing.price_order; this checks that what each of them stores
or shows — summary, item count, lines and totals — is the same for the same cart and
settings. Few examples per run: each one seeds, quotes and places a real order.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from db.models import Order, OrderItem, Product
from db.seed import _OrderMaker, seed_orders
from db.settings import store_settings
from domain.settings import BusinessSettings
from queries.orders import quote_order
from services.orders import create_order
from tests.builders import PRODUCTS, add_catalogue, order_data
from tests.conftest import empty

ON_THE_DATABASE = settings(
    max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Names long enough that a few lines overflow the 500-character items summary.
LONG_PRODUCTS = [
    (f"LONG-0{i}", f"{i} " + "Hand-thrown stoneware teapot " * 6, 4321) for i in (1, 2, 3)
]
SKUS = [sku for sku, _name, _price, active in PRODUCTS if active] + [p[0] for p in LONG_PRODUCTS]

carts = st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 50)), min_size=1, max_size=8)
business_settings = st.builds(
    BusinessSettings,
    tax_rate_bp=st.integers(0, 10_000),
    shipping_fee_cents=st.integers(0, 2_000),
    free_shipping_over_cents=st.none() | st.integers(0, 60_000),
)
LONG_CART = [("LONG-01", 1), ("TEA-001", 2), ("LONG-02", 3), ("LONG-01", 4), ("LONG-03", 5)]


@ON_THE_DATABASE
@given(cart=carts, chosen=business_settings)
@example(cart=LONG_CART, chosen=BusinessSettings(tax_rate_bp=825, free_shipping_over_cents=7500))
def test_the_seed_the_quote_and_a_placed_order_price_a_cart_alike(db, cart, chosen):
    empty(db)
    _stock(db, chosen)

    seeded = _seeded(db, cart, chosen)
    placed = _placed(db, cart)
    quote = quote_order(db, quantities=_merged(cart))

    assert seeded == placed
    assert _figures_of(quote) == placed["figures"]
    assert [_line_of(item) for item in quote.lines] == placed["lines"]
    assert len(placed["figures"]["items_summary"]) <= 500


def _stock(db, chosen: BusinessSettings) -> None:
    add_catalogue(db)
    with db.writing() as session:
        for sku, name, price in LONG_PRODUCTS:
            session.add(Product(sku=sku, name=name, price_cents=price))
        store_settings(session, chosen)
        session.commit()


def _seeded(db, cart: list[tuple[str, int]], chosen: BusinessSettings) -> dict[str, Any]:
    """The one order the seed makes when its random cart is this one."""

    def this_cart(maker: _OrderMaker) -> list[tuple[Any, int]]:
        by_sku = {product.sku: product for product in maker.products}
        return [(by_sku[sku], quantity) for sku, quantity in cart]

    with patch.object(_OrderMaker, "cart", this_cart):
        seed_orders(db, 1, pricing=chosen.pricing)
    with db.reading() as session:
        order_id = session.scalars(select(Order.id)).one()
    return _stored(db, order_id)


def _placed(db, cart: list[tuple[str, int]]) -> dict[str, Any]:
    items = [{"sku": sku, "quantity": quantity} for sku, quantity in cart]
    change = create_order(db, order=order_data(items=items), actor="prop")
    return _stored(db, change.order_id)


def _merged(cart: list[tuple[str, int]]) -> dict[str, int]:
    """The form's cart: one quantity per SKU, in the order first added."""
    quantities: dict[str, int] = {}
    for sku, quantity in cart:
        quantities[sku] = quantities.get(sku, 0) + quantity
    return quantities


FIGURES = (
    "items_summary",
    "item_count",
    "subtotal_cents",
    "tax_cents",
    "shipping_cents",
    "total_cents",
    "tax_rate_bp",
)
LINE = ("sku", "name", "unit_price_cents", "quantity", "subtotal_cents", "tax_cents", "total_cents")


def _figures_of(thing: Any) -> dict[str, Any]:
    return {name: getattr(thing, name) for name in FIGURES}


def _line_of(item: Any) -> tuple[Any, ...]:
    return tuple(getattr(item, name) for name in LINE)


def _stored(db, order_id: int) -> dict[str, Any]:
    with db.reading() as session:
        order = session.get_one(Order, order_id)
        lines = session.scalars(
            select(OrderItem).where(OrderItem.order_id == order_id).order_by(OrderItem.id)
        )
        return {"figures": _figures_of(order), "lines": [_line_of(item) for item in lines]}
