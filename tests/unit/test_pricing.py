"""price_order: the one rule for an order's lines, totals, item count and items summary.

The expected figures are worked out here from DESIGN.md §3 (tax per line, half-up), not
from domain.money, so a slip in either shows up.
"""

from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import Pricing
from domain.pricing import (
    SUMMARY_LIMIT,
    PricedItem,
    ProductFacts,
    merged_quantities,
    price_order,
)

TEA = ProductFacts(1, "TEA-001", "Earl Grey", 1200)
MUG = ProductFacts(2, "MUG-001", "Stoneware Mug", 1800)
HALF = ProductFacts(3, "HALF-01", "Half Cent Tea", 1000)  # 8.25 % of 10.00 is 82.5 cents


def test_an_order_is_priced_line_by_line_with_tax_rounded_half_up_on_each():
    priced = price_order([(HALF, 1), (TEA, 2)], Pricing(tax_rate_bp=825, shipping_fee_cents=500))

    assert priced.items == (
        PricedItem(3, "HALF-01", "Half Cent Tea", 1000, 1, 1000, 83, 1083),
        PricedItem(1, "TEA-001", "Earl Grey", 1200, 2, 2400, 198, 2598),
    )
    assert (priced.subtotal_cents, priced.tax_cents, priced.shipping_cents) == (3400, 281, 500)
    assert priced.total_cents == 3400 + 281 + 500
    assert priced.item_count == 3
    assert priced.items_summary == "1× Half Cent Tea, 2× Earl Grey"


def test_tax_on_two_lines_is_the_sum_of_each_lines_rounded_tax():
    priced = price_order([(HALF, 1), (ProductFacts(4, "HALF-02", "Other", 1000), 1)], Pricing(825))
    assert priced.tax_cents == 83 + 83  # on the 20.00 together it would be 165


def test_lines_of_one_sku_merge_into_one_in_the_order_first_seen():
    priced = price_order([(TEA, 2), (MUG, 1), (TEA, 3)], Pricing(825))

    assert [(item.sku, item.quantity) for item in priced.items] == [("TEA-001", 5), ("MUG-001", 1)]
    assert priced.items[0].subtotal_cents == 6000
    assert priced.items[0].tax_cents == 495
    assert priced.item_count == 6
    assert priced.items_summary == "5× Earl Grey, 1× Stoneware Mug"


def test_merged_quantities_keep_the_order_each_sku_first_appears_in():
    assert merged_quantities([("B", 1), ("A", 2), ("B", 3)]) == {"B": 4, "A": 2}
    assert list(merged_quantities([("B", 1), ("A", 2), ("B", 3)])) == ["B", "A"]


@pytest.mark.parametrize(
    ("over", "shipping"),
    [(None, 500), (2401, 500), (2400, 0), (0, 0)],
)
def test_shipping_is_the_fee_unless_the_subtotal_reaches_the_free_shipping_threshold(
    over, shipping
):
    priced = price_order([(TEA, 2)], Pricing(0, 500, over))
    assert priced.shipping_cents == shipping
    assert priced.total_cents == 2400 + shipping


def test_an_order_of_nothing_costs_nothing_not_even_shipping():
    priced = price_order([], Pricing(825, 500))
    assert (priced.items, priced.total_cents, priced.shipping_cents) == ((), 0, 0)
    assert (priced.item_count, priced.items_summary) == (0, "")


def test_a_summary_that_fits_its_column_is_kept_whole():
    name = "x" * (SUMMARY_LIMIT - len("1× "))
    summary = price_order([(ProductFacts(9, "LONG", name, 100), 1)], Pricing()).items_summary
    assert summary == f"1× {name}"
    assert len(summary) == SUMMARY_LIMIT


def test_a_summary_too_long_for_its_column_is_cut_to_fit_with_an_ellipsis():
    name = "y" * 200
    lines = [(ProductFacts(i, f"SKU-{i}", name, 100), 1) for i in range(3)]
    summary = price_order(lines, Pricing()).items_summary

    assert len(summary) == SUMMARY_LIMIT
    assert summary.endswith("…")
    assert summary[:-1] == ", ".join([f"1× {name}"] * 3)[: SUMMARY_LIMIT - 1]


def test_the_priced_order_cannot_be_changed_once_made():
    priced = price_order([(TEA, 1)], Pricing(825))
    with pytest.raises(dataclasses.FrozenInstanceError):
        priced.total_cents = 0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        priced.items[0].quantity = 2  # type: ignore[misc]


def half_up(cents: Decimal) -> int:
    return int(cents.quantize(Decimal(1), rounding=ROUND_HALF_UP))


catalogue = st.lists(
    st.builds(
        ProductFacts,
        id=st.integers(1, 10**6),
        sku=st.text("ABC-0123", min_size=1, max_size=6),
        name=st.text(min_size=1, max_size=120),
        unit_price_cents=st.integers(0, 10**7),
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda p: p.sku,
)
pricings = st.builds(
    Pricing,
    tax_rate_bp=st.integers(0, 10_000),
    shipping_fee_cents=st.integers(0, 10_000),
    free_shipping_over_cents=st.none() | st.integers(0, 10**8),
)


@given(
    catalogue.flatmap(
        lambda ps: st.lists(
            st.tuples(st.sampled_from(ps), st.integers(1, 50)), min_size=1, max_size=12
        )
    ),
    pricings,
)
def test_every_priced_order_adds_up_from_its_merged_lines(lines, pricing):
    priced = price_order(lines, pricing)

    quantities: dict[str, int] = {}
    for product, quantity in lines:
        quantities[product.sku] = quantities.get(product.sku, 0) + quantity
    assert [(item.sku, item.quantity) for item in priced.items] == list(quantities.items())
    for item in priced.items:
        assert item.subtotal_cents == item.unit_price_cents * item.quantity
        assert item.tax_cents == half_up(
            Decimal(item.subtotal_cents) * pricing.tax_rate_bp / 10_000
        )
        assert item.total_cents == item.subtotal_cents + item.tax_cents
    subtotal = sum(item.subtotal_cents for item in priced.items)
    free = (
        pricing.free_shipping_over_cents is not None
        and subtotal >= pricing.free_shipping_over_cents
    )
    assert priced.subtotal_cents == subtotal
    assert priced.tax_cents == sum(item.tax_cents for item in priced.items)
    assert priced.shipping_cents == (0 if free else pricing.shipping_fee_cents)
    assert priced.total_cents == priced.subtotal_cents + priced.tax_cents + priced.shipping_cents
    assert priced.item_count == sum(quantities.values())
    assert len(priced.items_summary) <= SUMMARY_LIMIT
