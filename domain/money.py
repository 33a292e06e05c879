"""Money in integer cents. Tax is computed per line and rounded half-up, as an accountant would."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MAX_QUANTITY = 10_000
MAX_LINES = 100


@dataclass(frozen=True)
class Pricing:
    """The business's rates, snapshotted on each order when it is priced."""

    tax_rate_bp: int = 0  # basis points: 825 = 8.25 %
    shipping_fee_cents: int = 0
    free_shipping_over_cents: int | None = None  # a subtotal at or above this ships free


@dataclass(frozen=True)
class PricedLine:
    unit_price_cents: int
    quantity: int
    subtotal_cents: int
    tax_cents: int

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents + self.tax_cents


@dataclass(frozen=True)
class Totals:
    subtotal_cents: int
    tax_cents: int
    shipping_cents: int

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents + self.tax_cents + self.shipping_cents


def tax_on(amount_cents: int, rate_bp: int) -> int:
    exact = Decimal(amount_cents) * Decimal(rate_bp) / Decimal(10_000)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def price_line(unit_price_cents: int, quantity: int, rate_bp: int) -> PricedLine:
    subtotal = unit_price_cents * quantity
    return PricedLine(unit_price_cents, quantity, subtotal, tax_on(subtotal, rate_bp))


def shipping_for(subtotal_cents: int, pricing: Pricing) -> int:
    threshold = pricing.free_shipping_over_cents
    if threshold is not None and subtotal_cents >= threshold:
        return 0
    return pricing.shipping_fee_cents


def totals_of(lines: Iterable[PricedLine], pricing: Pricing) -> Totals:
    lines = list(lines)
    subtotal = sum(line.subtotal_cents for line in lines)
    tax = sum(line.tax_cents for line in lines)
    return Totals(subtotal, tax, shipping_for(subtotal, pricing))


def format_money(cents: int, currency: str = "USD") -> str:
    symbol = CURRENCY_SYMBOLS.get(currency, "")
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    amount = f"{whole:,}.{part:02d}"
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"


def to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def parse_money(text: str) -> int:
    """'12.5' or '$1,234.56' → cents; raises ValueError on anything else."""
    cleaned = text.strip().replace(",", "").lstrip("$€£")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount of money") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{text!r} is not an amount of money")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{text!r} has more than two decimal places")
    return int(value * 100)


CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$"}
