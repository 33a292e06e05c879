"""The Settings page in AppTest: saving settings, and the status that never shows a secret."""

from __future__ import annotations

from db.models import Order
from queries.orders import business_settings
from services import orders
from tests.builders import add_catalogue, order_data
from tests.ui.conftest import open_page


def run_page():
    at = open_page("settings").run()
    assert not at.exception
    return at


def texts(elements):
    return [element.value for element in elements]


def test_a_settings_change_shows_up_in_the_next_orders_totals(page_db):
    add_catalogue(page_db)
    at = run_page()
    at.text_input(key="settings.tax_rate").set_value("10")
    at.text_input(key="settings.shipping_fee").set_value("7.00")
    at.text_input(key="settings.free_shipping_over").set_value("100")
    at.button(key="settings.save").click().run()
    assert texts(at.toast) == ["Settings saved: tax rate, shipping fee, free shipping threshold."]
    assert any("pays $5.00 tax and $7.00 shipping — $62.00" in c for c in texts(at.caption))

    change = orders.create_order(page_db, order=order_data(), actor="t")  # 2× 12.00
    with page_db.reading() as session:
        order = session.get(Order, change.order_id)
    assert (order.subtotal_cents, order.tax_cents, order.shipping_cents) == (2400, 240, 700)
    assert (order.tax_rate_bp, order.total_cents) == (1000, 3340)


def test_which_events_notify_is_saved_from_the_checkboxes(page_db):
    at = run_page()
    at.checkbox(key="settings.notify.received").uncheck()
    at.checkbox(key="settings.notify.completed").uncheck()
    at.button(key="settings.save").click().run()
    events = business_settings(page_db).notify_events
    assert "received" not in events and "completed" not in events and "shipped" in events


def test_attaching_the_invoice_to_the_confirmation_is_off_until_ticked(page_db):
    at = run_page()
    box = at.checkbox(key="settings.attach_invoice")
    assert box.value is False and "invoice" in box.label.lower()
    box.check()
    at.button(key="settings.save").click().run()
    assert texts(at.toast) == ["Settings saved: invoice with the confirmation."]
    assert business_settings(page_db).attach_invoice_to_confirmation is True


def test_a_bad_value_is_explained_and_nothing_is_saved(page_db):
    at = run_page()
    at.text_input(key="settings.tax_rate").set_value("8.255")
    at.button(key="settings.save").click().run()
    assert texts(at.error) == ["Please check: **Tax rate** can have at most two decimal places."]
    assert business_settings(page_db).tax_rate_bp == 825


def test_the_status_shows_what_is_configured_but_never_a_secret(page_db, monkeypatch):
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.very-secret-key")
    monkeypatch.setenv("SENDGRID_FROM_EMAIL", "shop@example.com")
    monkeypatch.setenv("INTAKE_API_TOKENS", "token-one,token-two")
    at = run_page()
    shown = " ".join(texts(at.markdown) + texts(at.caption) + texts(at.code) + texts(at.warning))
    assert "SendGrid" in shown and "2 tokens" in shown
    assert "Messages are recorded on each order but not sent. To send through Twilio" in shown
    assert "very-secret" not in shown and "token-one" not in shown
    kind = "SQLite" if page_db.is_sqlite else "PostgreSQL"
    assert f":blue-badge[{kind}]" in shown
    sqlite_warning = any("does not survive a reboot" in w for w in texts(at.warning))
    assert sqlite_warning == page_db.is_sqlite


def test_without_status_link_settings_the_page_says_why_and_how(page_db, monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("ORDER_LINK_SECRET", "a-secret-never-shown")
    at = run_page()
    shown = " ".join(texts(at.markdown) + texts(at.caption))
    assert "**Order status links** &nbsp; :orange-badge[Off]" in shown
    assert "Messages carry no link to the customer's order page: `PUBLIC_BASE_URL` is not set" in (
        shown
    )
    assert "`public_base_url` and `order_link_secret` under `[app]`" in shown
    assert "a-secret-never-shown" not in shown


def test_with_status_link_settings_the_page_shows_where_links_lead(page_db, monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://orders.shop.example/")
    monkeypatch.setenv("ORDER_LINK_SECRET", "a-secret-never-shown")
    at = run_page()
    shown = " ".join(texts(at.markdown) + texts(at.caption))
    assert ":green-badge[:material/link: On]" in shown
    assert "`https://orders.shop.example/o/…`" in shown
    assert "a-secret-never-shown" not in shown
