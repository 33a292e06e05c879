"""The opened customer on the Customers page: how to reach them, their orders, editing them
and merging a duplicate into them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from db.database import Database
from domain.money import format_money
from domain.order import OrderError
from domain.settings import BusinessSettings
from queries import contacts as contact_reads
from queries.contacts import ContactHistory, ContactSummary
from services import contacts
from ui.auth import current_actor
from ui.display import explain, local, money_column, plural, units
from ui.flash import flash
from ui.format import literal

SELECTED = "customers.selected_id"
CHANNELS = {"email": "E-mail", "sms": "SMS"}
LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "E-mail",
    "phone": "Phone",
    "preferred_channel": "Notify them by",
}


def done(message: str) -> None:
    flash(message)
    st.rerun()


def render(db: Database, contact_id: int, settings: BusinessSettings) -> None:
    history = contact_reads.contact_history(db, contact_id=contact_id)
    if history is None:
        st.session_state[SELECTED] = None
        return
    person = history.contact
    with st.container(border=True):
        title, close = st.columns([5, 1], vertical_alignment="center")
        title.subheader(f"{literal(person.name)} · {person.customer_code}", anchor=False)
        if close.button("Close", key="customers.close", icon=":material/close:"):
            st.session_state[SELECTED] = None
            st.rerun()
        _summary(history, settings)
        orders_tab, edit_tab, merge_tab = st.tabs(["Orders", "Edit", "Merge a duplicate"])
        with orders_tab:
            _order_history(history, settings)
        with edit_tab:
            _edit_form(db, person, settings)
        with merge_tab:
            _merge_form(db, person)


def _summary(history: ContactHistory, settings: BusinessSettings) -> None:
    person = history.contact
    reach = f"{person.email} · {person.phone or 'no phone'} · prefers "
    reach += CHANNELS[person.preferred_channel]
    if person.sms_opt_out:
        reach += " · opted out of SMS"
    st.caption(literal(reach))
    if history.merged_from:
        st.caption(f"Merged into this customer: {literal(', '.join(history.merged_from))}")
    metrics = st.columns(3)
    metrics[0].metric("Orders", f"{person.order_count:,}")
    value = format_money(person.lifetime_value_cents, settings.currency)
    metrics[1].metric("Lifetime value", value)
    last = local(person.last_order_at, settings.zone)
    metrics[2].metric("Last order", last.strftime("%Y-%m-%d") if last else "—")


def _order_history(history: ContactHistory, settings: BusinessSettings) -> None:
    currency, zone = settings.currency, settings.zone
    if not history.orders:
        st.info("No orders yet.")
        return
    orders = history.orders
    st.dataframe(
        pd.DataFrame(
            {
                "number": [f"./?order={o.number}" for o in orders],
                "date": [local(o.created_at, zone) for o in orders],
                "status": [o.status.label for o in orders],
                "payment": [o.payment_status.label for o in orders],
                "items": [o.items_summary for o in orders],
                "total": [units(o.total_cents) for o in orders],
            }
        ),
        hide_index=True,
        key="customers.history",
        column_config={
            "number": st.column_config.LinkColumn(
                "Order #", display_text=r"order=(.*)$", width="small"
            ),
            "date": st.column_config.DatetimeColumn(
                f"Placed ({settings.timezone})", format="YYYY-MM-DD HH:mm"
            ),
            "status": st.column_config.TextColumn("Status", width="small"),
            "payment": st.column_config.TextColumn("Payment", width="small"),
            "items": st.column_config.TextColumn("Items", width="large"),
            "total": money_column("Total", currency, width="small"),
        },
    )
    if len(orders) >= contact_reads.HISTORY_LIMIT:
        st.caption(f"The latest {contact_reads.HISTORY_LIMIT} orders.")


def _edit_form(db: Database, person: ContactSummary, settings: BusinessSettings) -> None:
    key = f"customers.edit.{person.id}"
    with st.form(key, border=False):
        left, right = st.columns(2)
        first = left.text_input("First name", person.first_name, key=f"{key}.first_name")
        last = right.text_input("Last name", person.last_name, key=f"{key}.last_name")
        email = left.text_input("E-mail", person.email, key=f"{key}.email")
        phone = right.text_input(
            "Phone",
            person.phone or "",
            key=f"{key}.phone",
            help=f"Any format; stored as E.164. Without a country code it is read as "
            f"a {settings.default_country} number.",
        )
        channel = left.radio(
            "Notify them by",
            list(CHANNELS),
            index=list(CHANNELS).index(person.preferred_channel),
            format_func=CHANNELS.__getitem__,
            horizontal=True,
            key=f"{key}.channel",
        )
        opt_out = right.checkbox(
            "Opted out of SMS (replied STOP)", person.sms_opt_out, key=f"{key}.opt_out"
        )
        saved = st.form_submit_button("Save changes", type="primary", key="customers.save")
    st.caption("Their open orders (Pending and In Progress) take the new details too.")
    if saved:
        values = {
            "first_name": first,
            "last_name": last,
            "email": email,
            "phone": phone,
            "preferred_channel": channel,
            "sms_opt_out": opt_out,
        }
        try:
            result = contacts.edit_contact(
                db, contact_id=person.id, changes=values, actor=current_actor()
            )
        except OrderError as exc:
            st.error(explain(exc, LABELS))
        else:
            also = result.open_orders_updated
            more = f" and {plural(also, 'open order')}" if also else ""
            done(f"Saved {result.customer_code}{more}.")


def _merge_form(db: Database, person: ContactSummary) -> None:
    st.markdown(
        f"Fold a duplicate record of the same person into **{person.customer_code}**. The "
        "duplicate's orders move here, each with a note on its timeline; the duplicate is "
        "kept, marked as merged, so nothing is lost."
    )
    search = st.text_input(
        "Find the duplicate",
        placeholder="Name, e-mail, phone or customer ID",
        key="customers.merge_search",
    )
    if search.strip():
        found = contact_reads.search_contacts(db, search=search, page_size=20).rows
    else:
        found = contact_reads.possible_duplicates(db, contact_id=person.id)
    candidates = {c.id: c for c in found if c.id != person.id}
    if not candidates:
        hint = "No match." if search.strip() else "No likely duplicates (same name or phone)."
        st.caption(f"{hint} Search by name, e-mail, phone or customer ID.")
        return
    if not search.strip():
        st.caption("Likely duplicates: same name or same phone.")
    chosen = st.selectbox(
        "Duplicate to merge",
        list(candidates),
        index=None,
        placeholder="Choose the duplicate",
        format_func=lambda i: _describe(candidates[i]),
        key="customers.merge_choice",
    )
    if chosen is not None:
        _merge_button(db, person, candidates[chosen])


def _merge_button(db: Database, person: ContactSummary, duplicate: ContactSummary) -> None:
    sure = st.checkbox(
        f"{duplicate.customer_code} and {person.customer_code} are the same person",
        key="customers.merge_confirm",
    )
    label = f"Merge {duplicate.customer_code} into {person.customer_code}"
    if st.button(label, type="primary", disabled=not sure, key="customers.merge"):
        try:
            result = contacts.merge_contacts(
                db, keep_id=person.id, merge_id=duplicate.id, actor=current_actor()
            )
        except OrderError as exc:
            st.error(str(exc))
        else:
            moved = plural(result.orders_moved, "order")
            done(f"Merged {result.merged} into {result.kept}: {moved} moved.")


def _describe(contact: ContactSummary) -> str:
    orders = plural(contact.order_count, "order")
    return f"{contact.customer_code} · {contact.name} · {contact.email} · {orders}"
