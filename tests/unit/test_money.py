from decimal import Decimal

import pytest

from domain.money import (
    Pricing,
    format_money,
    parse_money,
    price_line,
    shipping_for,
    tax_on,
    totals_of,
)


@pytest.mark.parametrize(
    ("amount", "rate_bp", "expected"),
    [
        (1000, 825, 83),  # 82.5 cents: exactly half a cent rounds up
        (1000, 815, 82),  # 81.5 → 82
        (1000, 805, 81),  # 80.5 → 81
        (1250, 825, 103),  # 103.125 → 103
        (1, 5000, 1),  # 0.5 → 1
        (1, 4999, 0),  # 0.4999 → 0
        (0, 825, 0),
        (999_999_99, 1, 10000),  # 9,999.9999 → 10,000
        (2400, 825, 198),
    ],
)
def test_tax_is_rounded_half_up_to_the_cent(amount, rate_bp, expected):
    assert tax_on(amount, rate_bp) == expected


def test_tax_is_computed_per_line_and_summed():
    # Per line: 83 + 83 = 166; on the sum it would be 165.
    lines = [price_line(1000, 1, 825), price_line(1000, 1, 825)]
    totals = totals_of(lines, Pricing(tax_rate_bp=825))
    assert totals.tax_cents == 166
    assert tax_on(2000, 825) == 165


def test_a_line_multiplies_price_by_quantity():
    line = price_line(1999, 3, 825)
    assert (line.subtotal_cents, line.tax_cents, line.total_cents) == (5997, 495, 6492)


def test_totals_add_subtotal_tax_and_shipping():
    totals = totals_of([price_line(1200, 2, 825)], Pricing(825, 500))
    assert (totals.subtotal_cents, totals.tax_cents, totals.shipping_cents) == (2400, 198, 500)
    assert totals.total_cents == 3098


@pytest.mark.parametrize(("subtotal", "expected"), [(7499, 500), (7500, 0), (10000, 0)])
def test_shipping_is_free_at_or_over_the_threshold(subtotal, expected):
    assert shipping_for(subtotal, Pricing(0, 500, 7500)) == expected


def test_without_a_threshold_shipping_is_always_charged():
    assert shipping_for(10**9, Pricing(0, 500, None)) == 500


def test_money_is_never_a_float():
    totals = totals_of([price_line(333, 3, 333)], Pricing(333, 1))
    assert all(
        isinstance(v, int) for v in (totals.subtotal_cents, totals.tax_cents, totals.total_cents)
    )


@pytest.mark.parametrize(
    ("cents", "currency", "text"),
    [
        (309800, "USD", "$3,098.00"),
        (5, "USD", "$0.05"),
        (-150, "EUR", "-€1.50"),
        (100, "CHF", "1.00 CHF"),
    ],
)
def test_money_is_formatted_for_people(cents, currency, text):
    assert format_money(cents, currency) == text


@pytest.mark.parametrize(("text", "cents"), [("12.5", 1250), ("$1,234.56", 123456), ("0", 0)])
def test_typed_amounts_become_cents(text, cents):
    assert parse_money(text) == cents


@pytest.mark.parametrize("text", ["abc", "1.234", "-5", "NaN", ""])
def test_typed_amounts_that_are_not_money_are_refused(text):
    with pytest.raises(ValueError):
        parse_money(text)


def test_decimal_arithmetic_has_no_binary_surprises():
    assert Decimal(tax_on(10, 5000)) == Decimal(5)
