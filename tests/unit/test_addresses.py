"""Shipping addresses a carrier takes: the country's states and its postal-code format."""

from __future__ import annotations

import pytest

from domain.addresses import hints, normalise_postal_code, normalise_state
from domain.inputs import InvalidInput, ShippingIn, parse

ADDRESS = {"street": "1 Main St", "city": "Portland", "state": "OR", "zip": "97205"}


@pytest.mark.parametrize(
    ("country", "given", "stored"),
    [
        ("US", "OR", "OR"),
        ("US", "or", "OR"),
        ("US", "Oregon", "OR"),
        ("US", "  oregon ", "OR"),
        ("US", "US-OR", "OR"),
        ("US", "District of Columbia", "DC"),
        ("CA", "Québec", "QC"),
        ("CA", "quebec", "QC"),
        ("CA", "on", "ON"),
        ("DE", "Bayern", "BY"),
        ("AU", "New South Wales", "NSW"),
        ("GB", "England", "ENG"),
    ],
)
def test_a_state_is_stored_as_its_subdivision_code(country, given, stored):
    assert normalise_state(country, given) == stored


@pytest.mark.parametrize(
    ("country", "given"),
    [("US", "Oregonia"), ("US", "ON"), ("US", "Ontario"), ("CA", "Oregon"), ("DE", "XX")],
)
def test_a_state_that_is_not_the_countrys_is_refused_with_an_example(country, given):
    with pytest.raises(ValueError, match="is not a state or province of .*e\\.g\\."):
        normalise_state(country, given)


def test_a_country_without_subdivisions_takes_any_name_up_to_100_characters():
    assert normalise_state("VA", "Città del Vaticano") == "Città del Vaticano"
    assert normalise_state("VA", "x" * 100) == "x" * 100
    with pytest.raises(ValueError, match="at most 100"):
        normalise_state("VA", "x" * 101)
    with pytest.raises(ValueError, match="required"):
        normalise_state("VA", "  ")


@pytest.mark.parametrize(
    ("country", "given", "stored"),
    [
        ("US", "97205", "97205"),
        ("US", "97205-1234", "97205-1234"),
        ("US", "97205 1234", "97205-1234"),
        ("US", "972051234", "97205-1234"),
        ("US", "05401", "05401"),
        ("CA", "K1A 0B1", "K1A 0B1"),
        ("CA", "k1a0b1", "K1A 0B1"),
        ("CA", " m5v  3l9 ", "M5V 3L9"),
        ("GB", "SW1A 1AA", "SW1A 1AA"),
        ("GB", "sw1a1aa", "SW1A 1AA"),
        ("GB", "m1  1ae", "M1 1AE"),
        ("GB", "B33 8TH", "B33 8TH"),
        ("GB", "cr2 6xh", "CR2 6XH"),
        ("GB", "DN55 1PT", "DN55 1PT"),
        ("GB", "W1A 0AX", "W1A 0AX"),
        ("DE", "10115", "10115"),
        ("FR", "75001", "75001"),
        ("AU", "2000", "2000"),
        ("NL", "1234ab", "1234 AB"),
        ("NL", "1012 AB", "1012 AB"),
        ("JP", "100-0001", "100-0001"),
        ("SG", "018956", "018956"),
    ],
)
def test_a_postal_code_in_the_countrys_format_is_stored_as_the_country_writes_it(
    country, given, stored
):
    assert normalise_postal_code(country, given) == stored


@pytest.mark.parametrize(
    ("country", "given"),
    [
        ("US", "ABCDE"),
        ("US", "9720"),
        ("US", "972055"),
        ("US", "97205-12"),
        ("US", "97205-"),
        ("CA", "K1A 0B"),
        ("CA", "D1A 0B1"),  # Canada Post never uses D
        ("CA", "12345"),
        ("GB", "SW1A"),
        ("GB", "12345"),
        ("GB", "SW1A 1A"),
        ("DE", "1011"),
        ("DE", "1011A"),
        ("FR", "750011"),
        ("AU", "20000"),
        ("AU", "ABCD"),
        ("NL", "1234"),
        ("NL", "0123 AB"),
        ("NL", "1234 A1"),
    ],
)
def test_a_postal_code_in_another_format_is_refused_with_the_format_in_words(country, given):
    with pytest.raises(ValueError, match="is not a valid postal code for .*e\\.g\\."):
        normalise_postal_code(country, given)


def test_other_countries_take_any_postal_code_up_to_16_characters():
    assert normalise_postal_code("JP", "x" * 16) == "x" * 16
    with pytest.raises(ValueError, match="at most 16"):
        normalise_postal_code("JP", "x" * 17)
    with pytest.raises(ValueError, match="required"):
        normalise_postal_code("JP", " ")


def refusal(data, field, region="US"):
    with pytest.raises(InvalidInput) as refused:
        parse(ShippingIn, data, region=region)
    message = refused.value.for_field(field)
    assert message, refused.value.errors
    return message


def test_the_shipping_model_normalises_state_and_zip():
    shipping = parse(ShippingIn, {**ADDRESS, "state": "oregon", "zip": "97205 1234"})
    assert (shipping.state, shipping.zip) == ("OR", "97205-1234")


def test_the_shipping_model_refuses_a_made_up_zip_and_a_state_spelled_out_wrongly():
    assert "postal code for United States" in refusal({**ADDRESS, "zip": "ABCDE"}, "zip")
    assert "state or province of United States" in refusal({**ADDRESS, "state": "Oregn"}, "state")


def test_an_address_without_a_country_follows_the_shops_default_country():
    canadian = {**ADDRESS, "state": "Ontario", "zip": "m5v3l9"}
    shipping = parse(ShippingIn, canadian, region="CA")
    assert (shipping.country, shipping.state, shipping.zip) == (None, "ON", "M5V 3L9")
    assert "postal code for Canada" in refusal(ADDRESS, "zip", region="CA")


def test_the_given_country_decides_over_the_default():
    dutch = {**ADDRESS, "country": "nl", "state": "Noord-Holland", "zip": "1012ab"}
    shipping = parse(ShippingIn, dutch, region="US")
    assert (shipping.country, shipping.state, shipping.zip) == ("NL", "NH", "1012 AB")


def test_a_wrong_country_is_the_one_error_not_a_cascade_on_state_and_zip():
    with pytest.raises(InvalidInput) as refused:
        parse(ShippingIn, {**ADDRESS, "country": "XX"})
    assert [e.field for e in refused.value.errors] == ["country"]


def test_every_field_error_is_reported_at_once():
    with pytest.raises(InvalidInput) as refused:
        parse(ShippingIn, {**ADDRESS, "street": "", "state": "Oregonia", "zip": "ABCDE"})
    assert [e.field for e in refused.value.errors] == ["street", "state", "zip"]


def test_the_seeds_sample_addresses_pass_the_rules_unchanged():
    from db.seed import CITIES

    for _city, state, zip_code in CITIES:
        assert normalise_state("US", state) == state
        assert normalise_postal_code("US", zip_code) == zip_code


@pytest.mark.parametrize(
    ("country", "state", "postal"),
    [
        ("US", "Code or name: AK, Alaska", "97205 or 97205-1234"),
        ("CA", "Code or name: AB, Alberta", "K1A 0B1"),
        ("gb", "Code or name: ABC, Armagh City, Banbridge and Craigavon", "SW1A 1AA"),
        ("NL", "Code or name: AW, Aruba", "1012 AB"),
        ("JP", "Code or name: 01, Hokkaido", ""),  # no postal format kept: no example
        ("XX", "", ""),  # a country pycountry does not know
    ],
)
def test_the_forms_examples_are_the_countrys_own(country, state, postal):
    assert hints(country) == (state, postal)
