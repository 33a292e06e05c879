"""Saving the business's settings, and the read-only status of what is configured."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bootstrap import configuration_status, parse_tokens
from db.database import Database
from db.models import Order
from db.settings import load_settings, settings_from, stored_settings
from domain.inputs import InvalidInput
from domain.settings import InvalidSetting, bp_to_percent, percent_to_bp
from queries.orders import business_settings
from services import orders
from services.settings import save_settings
from tests.builders import add_catalogue, order_data

FORM = {
    "business_name": "Tea & Co",
    "timezone": "Europe/London",
    "currency": "gbp",
    "default_country": "gb",
    "tax_rate_percent": "20",
    "shipping_fee": "3.95",
    "free_shipping_over": "",
    "sender_name": "Tea & Co",
    "reply_to_email": "Hello@Tea.example",
    "notify_events": ["shipped", "confirmed"],
}


def test_settings_typed_in_the_form_are_stored_and_used_by_the_next_order(db):
    add_catalogue(db)
    changes = save_settings(db, values=FORM, actor="owner")
    assert {"tax_rate_bp", "shipping_fee_cents", "currency"} <= set(changes)
    saved = business_settings(db)
    assert (saved.currency, saved.default_country, saved.tax_rate_bp) == ("GBP", "GB", 2000)
    assert saved.notify_events == ("confirmed", "shipped")  # in the templates' own order
    assert saved.reply_to_email == "Hello@tea.example"
    # The shop is in GB now; the customer's address stays in the US, said so.
    change = orders.create_order(
        db, order=order_data(shipping__country="US"), actor="owner"
    )  # 2× 12.00
    with db.reading() as session:
        order = session.get(Order, change.order_id)
    assert (order.tax_cents, order.shipping_cents, order.total_cents) == (480, 395, 3275)
    assert order.currency == "GBP"


def test_the_settings_read_inside_another_query_match_the_stored_ones(db):
    def inside_a_query():
        with db.reading() as session:
            return settings_from(session.scalar(select(stored_settings())) or {})

    with db.reading() as session:
        assert inside_a_query() == load_settings(session)  # none stored: the defaults
    save_settings(db, values=FORM, actor="owner")
    with db.reading() as session:
        assert inside_a_query() == load_settings(session)
    assert inside_a_query().notify_events == ("confirmed", "shipped")


def test_an_order_at_the_free_shipping_threshold_ships_free(db):
    add_catalogue(db)
    save_settings(db, values={**FORM, "free_shipping_over": "24.00"}, actor="owner")
    # The shop is in GB now; the customer's address stays in the US, said so.
    change = orders.create_order(db, order=order_data(shipping__country="US"), actor="owner")
    with db.reading() as session:
        assert session.get(Order, change.order_id).shipping_cents == 0


def test_attaching_the_invoice_to_the_confirmation_is_off_by_default_and_saved_when_asked(db):
    assert business_settings(db).attach_invoice_to_confirmation is False
    save_settings(db, values=FORM, actor="owner")
    assert business_settings(db).attach_invoice_to_confirmation is False  # the form's default
    changes = save_settings(
        db, values={**FORM, "attach_invoice_to_confirmation": True}, actor="owner"
    )
    assert changes == {"attach_invoice_to_confirmation": (False, True)}
    assert business_settings(db).attach_invoice_to_confirmation is True


def test_saving_the_same_settings_again_changes_nothing(db):
    save_settings(db, values=FORM, actor="owner")
    assert save_settings(db, values=FORM, actor="owner") == {}


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("tax_rate_percent", "eight", InvalidInput),
        ("tax_rate_percent", "101", InvalidInput),
        ("tax_rate_percent", "8.255", InvalidInput),
        ("shipping_fee", "-1", InvalidInput),
        ("reply_to_email", "not an address", InvalidInput),
        ("default_country", "GBR", InvalidInput),
        ("timezone", "Mars/Olympus", InvalidSetting),
        ("business_name", " ", InvalidSetting),
        ("currency", "POUND", InvalidSetting),
    ],
)
def test_a_bad_setting_is_refused_and_nothing_is_stored(db, field, value, error):
    with pytest.raises(error):
        save_settings(db, values={**FORM, field: value}, actor="owner")
    assert business_settings(db).business_name == "Product Orders"


def test_tax_rates_read_as_percentages_with_two_decimals():
    assert [percent_to_bp(t) for t in ("8.25", "8.25 %", "0", "100")] == [825, 825, 0, 10_000]
    assert [bp_to_percent(bp) for bp in (825, 2000, 0, 5)] == ["8.25", "20", "0", "0.05"]


def secrets(values):
    def lookup(name, section=None):
        return values.get((section, name)) or values.get((None, name))

    return lookup


def test_without_keys_both_channels_are_in_dry_run_and_no_tokens_are_present(db):
    status = configuration_status(db, secret_value=secrets({}))
    assert (status.email_live, status.sms_live, status.intake_tokens) == (False, False, 0)
    assert status.database_kind == db.kind


def test_configured_providers_and_tokens_are_reported_without_their_values(db):
    given = {
        ("notifications", "SENDGRID_API_KEY"): "SG.secret",
        ("notifications", "SENDGRID_FROM_EMAIL"): "shop@example.com",
        ("notifications", "TWILIO_ACCOUNT_SID"): "AC123",
        ("notifications", "TWILIO_AUTH_TOKEN"): "tw-secret",
        ("notifications", "TWILIO_MESSAGING_SERVICE_SID"): "MG123",
        ("intake", "tokens"): ["one", "two", ""],
    }
    status = configuration_status(db, secret_value=secrets(given))
    assert (status.email_live, status.sms_live, status.intake_tokens) == (True, True, 2)
    assert "secret" not in repr(status)


def test_twilio_without_a_sender_stays_in_dry_run(db):
    given = {
        ("notifications", "TWILIO_ACCOUNT_SID"): "AC123",
        ("notifications", "TWILIO_AUTH_TOKEN"): "tw-secret",
    }
    assert configuration_status(db, secret_value=secrets(given)).sms_live is False


def test_tokens_from_the_environment_are_read_from_a_separated_list():
    assert parse_tokens("a, b c") == ["a", "b", "c"]
    assert parse_tokens(" ") == []
    assert parse_tokens(None) == []
    assert parse_tokens(["one", " two ", ""]) == ["one", "two"]


def test_the_database_is_described_without_its_password():
    text = Database.describe_url("postgresql+psycopg2://shop:hunter2@db.example:5432/orders")
    assert "hunter2" not in text and "db.example" in text


def test_the_seller_address_and_tax_id_are_stored_for_documents(db):
    values = {**FORM, "seller_address": "  12 Tea Lane\nLondon  ", "tax_id": " GB123 "}
    changes = save_settings(db, values=values, actor="owner")
    assert {"seller_address", "tax_id"} <= set(changes)
    saved = business_settings(db)
    assert (saved.seller_address, saved.tax_id) == ("12 Tea Lane\nLondon", "GB123")
    with pytest.raises(InvalidInput):
        save_settings(db, values={**FORM, "tax_id": "x" * 51}, actor="owner")
