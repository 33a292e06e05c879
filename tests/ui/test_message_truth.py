"""What the Orders page says about customer messages is true: dry run, Settings, or no message."""

from __future__ import annotations

import pytest

from db.settings import store_settings
from domain.enums import Template
from domain.settings import BusinessSettings
from tests.builders import add_catalogue
from tests.ui.conftest import opened_order
from tests.ui.test_orders_page import button, place, run_page, select_row, texts


@pytest.fixture
def shop(page_db):
    add_catalogue(page_db)
    return page_db


def said_after(db, label: str, done: str) -> str:
    """Place an order, open it, press `label`; the confirmation in the order that says `done`."""
    place(db)
    at = select_row(run_page(), "pending", 0)
    button(at, label).click().run()
    [said] = [s.value for s in opened_order(at).success if f"ORD-10001 {done}" in s.value]
    return said


def test_in_dry_run_the_order_says_the_email_would_be_sent_and_is_not(shop, dry_run):
    said = said_after(shop, "Confirm Order", "confirmed")
    assert "would be e-mailed to ada@example.com (dry run: not sent)" in said
    assert "will be" not in said


def test_with_a_provider_the_order_says_the_email_will_be_sent(shop, configured):
    said = said_after(shop, "Confirm Order", "confirmed")
    assert "The customer will be e-mailed to ada@example.com." in said
    assert "dry run" not in said


def test_mark_paid_says_it_sends_no_message_not_that_settings_turned_it_off(shop, dry_run):
    said = said_after(shop, "Mark Paid", "payment marked Paid")
    assert "Marking an order paid sends no message." in said
    assert "Settings" not in said


def test_a_message_turned_off_in_settings_says_so(shop, dry_run):
    with shop.writing() as session:
        events = tuple(t for t in Template if t is not Template.CONFIRMED)
        store_settings(session, BusinessSettings(notify_events=events))
        session.commit()
    assert "turned off in Settings" in said_after(shop, "Confirm Order", "confirmed")


def test_a_dry_run_message_shows_on_the_order_as_not_sent(shop, dry_run):
    from notify.dispatch import Dispatcher
    from notify.providers import build_providers

    place(shop)
    Dispatcher(shop, build_providers(lambda name: None)).run_once()

    shown = texts(select_row(run_page(), "pending", 0))

    assert "Received · **not sent — dry run**" in shown
    assert "**sent**" not in shown
