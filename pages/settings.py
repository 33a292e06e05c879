"""Settings: the business's details, prices, notifications — and what is configured."""

from zoneinfo import available_timezones

import streamlit as st

from domain.enums import TEMPLATE_LABELS, TEMPLATES
from domain.money import CURRENCY_SYMBOLS, format_money, price_line, totals_of
from domain.order import OrderError
from domain.settings import BusinessSettings, InvalidSetting, bp_to_percent
from queries.orders import business_settings
from services.settings import save_settings
from ui.auth import current_actor, require_staff
from ui.configuration import show_configuration
from ui.display import explain
from ui.flash import flash, show_flashes
from ui.resources import database

FIELD_LABELS = {
    "business_name": "business name",
    "timezone": "time zone",
    "currency": "currency",
    "default_country": "country",
    "tax_rate_bp": "tax rate",
    "shipping_fee_cents": "shipping fee",
    "free_shipping_over_cents": "free shipping threshold",
    "sender_name": "sender name",
    "reply_to_email": "reply-to e-mail",
    "seller_address": "seller address",
    "tax_id": "tax ID",
    "notify_events": "notifications",
    "attach_invoice_to_confirmation": "invoice with the confirmation",
}
FORM_LABELS = {
    "business_name": "Business name",
    "timezone": "Time zone",
    "currency": "Currency",
    "default_country": "Country",
    "tax_rate_percent": "Tax rate",
    "shipping_fee": "Shipping fee",
    "free_shipping_over": "Free shipping from",
    "sender_name": "Sender name",
    "reply_to_email": "Reply-to e-mail",
    "seller_address": "Seller address",
    "tax_id": "Tax ID",
}
EXAMPLE_SUBTOTAL = 5_000

require_staff()  # before anything reads data
db = database()
current = business_settings(db)

st.title("Settings")
show_flashes(banners=True)


def money_text(cents: int | None) -> str:
    return "" if cents is None else f"{cents / 100:.2f}"


def business_section(values: dict[str, object]) -> None:
    st.subheader("Business")
    left, right = st.columns(2)
    values["business_name"] = left.text_input(
        "Business name",
        current.business_name,
        key="settings.business_name",
        help="Signs every e-mail and SMS to your customers.",
    )
    zones = sorted(available_timezones())
    values["timezone"] = right.selectbox(
        "Time zone",
        zones,
        index=zones.index(current.timezone) if current.timezone in zones else None,
        key="settings.timezone",
        help="Dates on every page, filters and the days of the reports use this zone.",
    )
    currencies = list(dict.fromkeys([*CURRENCY_SYMBOLS, current.currency]))
    values["currency"] = left.selectbox(
        "Currency",
        currencies,
        index=currencies.index(current.currency),
        accept_new_options=True,
        key="settings.currency",
        help="A three-letter code. Orders keep the currency they were placed in.",
    )
    values["default_country"] = right.text_input(
        "Country",
        current.default_country,
        max_chars=2,
        key="settings.default_country",
        help="Two letters, e.g. US. Phone numbers without a country code are read as "
        "numbers of this country, and addresses without a country are in it.",
    )
    values["seller_address"] = left.text_area(
        "Seller address",
        current.seller_address,
        max_chars=500,
        height=100,
        placeholder="Street\nCity, State ZIP\nCountry",
        key="settings.seller_address",
        help="On invoices as the seller's address, and on packing slips as the return address.",
    )
    values["tax_id"] = right.text_input(
        "Tax ID",
        current.tax_id,
        max_chars=50,
        key="settings.tax_id",
        help="Your VAT or tax registration number, printed on invoices. Leave empty if none.",
    )


def prices_section(values: dict[str, object]) -> None:
    st.subheader("Tax and shipping")
    st.caption("New orders use these; orders already placed keep the rates they were priced at.")
    tax, fee, free = st.columns(3)
    values["tax_rate_percent"] = tax.text_input(
        "Tax rate (%)", bp_to_percent(current.tax_rate_bp), key="settings.tax_rate"
    )
    values["shipping_fee"] = fee.text_input(
        f"Shipping fee ({current.currency})",
        money_text(current.shipping_fee_cents),
        key="settings.shipping_fee",
        help="A flat fee per order.",
    )
    values["free_shipping_over"] = free.text_input(
        f"Free shipping from ({current.currency})",
        money_text(current.free_shipping_over_cents),
        placeholder="never",
        key="settings.free_shipping_over",
        help="Orders whose subtotal reaches this amount ship free. Leave empty for never.",
    )
    st.caption(example(current))


def example(settings: BusinessSettings) -> str:
    line = price_line(EXAMPLE_SUBTOTAL, 1, settings.tax_rate_bp)
    totals = totals_of([line], settings.pricing)

    def money(cents: int) -> str:
        return format_money(cents, settings.currency)

    return (
        f"As saved: an order of {money(totals.subtotal_cents)} pays {money(totals.tax_cents)} "
        f"tax and {money(totals.shipping_cents)} shipping — {money(totals.total_cents)} in all."
    )


def notifications_section(values: dict[str, object]) -> None:
    st.subheader("Customer notifications")
    left, right = st.columns(2)
    values["sender_name"] = left.text_input(
        "Sender name",
        current.sender_name,
        placeholder=current.business_name,
        key="settings.sender_name",
        help="The name customers see as the sender of e-mails.",
    )
    values["reply_to_email"] = right.text_input(
        "Reply-to e-mail",
        current.reply_to_email,
        placeholder="e.g. hello@your-shop.example",
        key="settings.reply_to_email",
        help="Where customers' replies to e-mails go.",
    )
    st.markdown("**Tell the customer when their order is…**")
    columns = st.columns(2)
    chosen = []
    for index, template in enumerate(TEMPLATES):
        ticked = columns[index % 2].checkbox(
            TEMPLATE_LABELS[template],
            template in current.notify_events,
            key=f"settings.notify.{template}",
        )
        if ticked:
            chosen.append(template)
    values["notify_events"] = chosen
    values["attach_invoice_to_confirmation"] = st.checkbox(
        "Attach the invoice (PDF) to the order-confirmed e-mail",
        current.attach_invoice_to_confirmation,
        key="settings.attach_invoice",
        help="Confirming an order then issues its invoice number. Customers who get "
        "texts instead of e-mails get no invoice this way.",
    )


def settings_form() -> None:
    values: dict[str, object] = {}
    with st.form("settings.form"):
        business_section(values)
        prices_section(values)
        notifications_section(values)
        saved = st.form_submit_button("Save settings", type="primary", key="settings.save")
    if not saved:
        return
    try:
        changes = save_settings(db, values=values, actor=current_actor())
    except (OrderError, InvalidSetting) as exc:
        st.error(explain(exc, FORM_LABELS))
        return
    if changes:
        names = ", ".join(FIELD_LABELS.get(name, name) for name in changes)
        flash(f"Settings saved: {names}.")
    else:
        flash("Nothing to save: the settings are unchanged.")
    st.rerun()


form_column, status_column = st.columns([3, 2], gap="large")
with form_column:
    settings_form()
with status_column:
    show_configuration(db)
