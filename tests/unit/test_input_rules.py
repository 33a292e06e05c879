"""The input models are strict: what they accept is what gets stored, never a coerced guess."""

from __future__ import annotations

import pytest

from domain.inputs import CustomerIn, InvalidInput, ItemIn, ShippingIn, parse

ADDRESS = {"street": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"}
PERSON = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}


def refusal(model, data, field):
    with pytest.raises(InvalidInput) as refused:
        parse(model, data)
    message = refused.value.for_field(field)
    assert message, refused.value.errors
    return message


@pytest.mark.parametrize("quantity", [True, False, "3", 2.0, 2.5, None])
def test_a_quantity_must_be_a_json_integer(quantity):
    message = refusal(ItemIn, {"sku": "TEA-001", "quantity": quantity}, "quantity")
    assert "whole number" in message or "required" in message


def test_an_integer_quantity_is_accepted():
    assert parse(ItemIn, {"sku": "TEA-001", "quantity": 3}).quantity == 3


@pytest.mark.parametrize("country", ["XX", "ZZ", "EU", "UK", "QQ"])
def test_a_country_must_be_an_iso_3166_alpha_2_code(country):
    assert "ISO 3166" in refusal(ShippingIn, {**ADDRESS, "country": country}, "country")


# Each with an address of its own country (the state and ZIP code follow the country).
LOCAL = {
    "US": {"state": "IL", "zip": "62701"},
    "GB": {"state": "England", "zip": "SW1A 1AA"},
    "DE": {"state": "Berlin", "zip": "10115"},
}


@pytest.mark.parametrize(("given", "stored"), [("us", "US"), (" GB ", "GB"), ("de", "DE")])
def test_a_real_country_is_kept_in_upper_case(given, stored):
    address = {**ADDRESS, **LOCAL[stored], "country": given}
    assert parse(ShippingIn, address).country == stored


@pytest.mark.parametrize(
    "phone", ["+1 415 555 2671 ext. 12", "+1 (415) 555-2671 x12", "+14155552671;ext=12"]
)
def test_a_phone_extension_is_refused_not_dropped(phone):
    assert "extension" in refusal(CustomerIn, {**PERSON, "phone": phone}, "phone")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("\u200b", "visible text"),
        ("\ufeff\u2060\u200b\u200d", "visible text"),
        ("\u3164", "visible text"),
        ("Ada\x07", "control characters"),
        ("\x1b[2JAda", "control characters"),
        ("Ada\tLove", "control characters"),
        ("\u202eada", "text-direction"),
        ("Ada\u2067x\u2069", "text-direction"),
        ("Ada\nLove", "one line"),
        ("Ada\u2029Love", "one line"),
    ],
)
def test_a_name_must_be_visible_one_line_text_without_controls(name, problem):
    assert problem in refusal(CustomerIn, {**PERSON, "first_name": name}, "first_name")
    assert problem in refusal(ShippingIn, {**ADDRESS, "street": name}, "street")


@pytest.mark.parametrize("name", ["Zoë 👩\u200d👩\u200d👧", "القاهرة", "A\u200bda", "José-María"])
def test_names_in_any_script_with_some_visible_text_are_kept(name):
    assert parse(CustomerIn, {**PERSON, "first_name": name}).first_name == name
