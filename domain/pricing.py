"""An order priced from the catalogue: its lines, totals, item count and items summary.

The one pricing rule: the write services, the form's live quote and the sample-data
generator all call `price_order`, so what a customer is shown, what is stored and what the
seed makes cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.money import Pricing, price_line, totals_of

SUMMARY_LIMIT = 500  # orders.items_summary is a String(500)


@dataclass(frozen=True)
class ProductFacts:
    """What pricing needs of a catalogue product: the catalogue's price is the price."""

    id: int
    sku: str
    name: str
    unit_price_cents: int


@dataclass(frozen=True)
class PricedItem:
    product_id: int
    sku: str
    name: str
    unit_price_cents: int
    quantity: int
    subtotal_cents: int
    tax_cents: int
    total_cents: int


@dataclass(frozen=True)
class PricedOrder:
    items: tuple[PricedItem, ...]
    subtotal_cents: int
    tax_cents: int
    shipping_cents: int
    total_cents: int
    item_count: int
    items_summary: str  # "2× Earl Grey, 1× Stoneware Mug"


def merged_quantities(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Quantities per SKU, in the order each SKU first appears."""
    quantities: dict[str, int] = {}
    for sku, quantity in lines:
        quantities[sku] = quantities.get(sku, 0) + quantity
    return quantities


def price_order(lines: Iterable[tuple[ProductFacts, int]], pricing: Pricing) -> PricedOrder:
    """Price (product, quantity) lines, one line per SKU; an order of nothing costs nothing."""
    merged: dict[str, tuple[ProductFacts, int]] = {}
    for product, quantity in lines:
        held = merged.get(product.sku)
        merged[product.sku] = (product, quantity) if held is None else (held[0], held[1] + quantity)
    if not merged:
        return PricedOrder((), 0, 0, 0, 0, 0, "")
    priced = [
        (product, price_line(product.unit_price_cents, quantity, pricing.tax_rate_bp))
        for product, quantity in merged.values()
    ]
    totals = totals_of((line for _product, line in priced), pricing)
    items = tuple(
        PricedItem(
            product.id,
            product.sku,
            product.name,
            line.unit_price_cents,
            line.quantity,
            line.subtotal_cents,
            line.tax_cents,
            line.total_cents,
        )
        for product, line in priced
    )
    return PricedOrder(
        items,
        totals.subtotal_cents,
        totals.tax_cents,
        totals.shipping_cents,
        totals.total_cents,
        sum(item.quantity for item in items),
        summary_of(items),
    )


def summary_of(items: Iterable[PricedItem]) -> str:
    """The lines as "2× Earl Grey, 1× Stoneware Mug", cut to fit its column with "…"."""
    text = ", ".join(f"{item.quantity}× {item.name}" for item in items)
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "…"
