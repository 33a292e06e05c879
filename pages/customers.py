"""Customers: who buys, how to reach them, what they have ordered — and merging duplicates."""

import pandas as pd
import streamlit as st

from domain.money import format_money
from domain.order import OrderError
from queries import contacts as contact_reads
from queries.orders import business_settings
from services import contacts
from ui.auth import current_actor, require_staff
from ui.display import explain, local, money_column, plural, selected_id, units
from ui.flash import flash, show_flashes
from ui.format import literal
from ui.resources import database

PAGE_SIZE = 50
SORTS = {
    contact_reads.ContactSort.NAME: "Name",
    contact_reads.ContactSort.VALUE: "Lifetime value",
    contact_reads.ContactSort.RECENT: "Most recent order",
}
CHANNELS = {"email": "E-mail", "sms": "SMS"}
LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "E-mail",
    "phone": "Phone",
    "preferred_channel": "Notify them by",
}

require_staff()  # before anything reads data
db = database()
settings = business_settings(db)
currency, zone = settings.currency, settings.zone
st.session_state.setdefault("customers.selected_id", None)

st.title("Customers")
st.caption(
    "Everyone who has ordered, with how they want to hear from you. Lifetime value adds up "
    "their orders' totals, leaving out cancelled and refunded ones."
)
show_flashes(banners=True)


def _done(message: str) -> None:
    flash(message)
    st.rerun()


def contact_frame(rows: list[contact_reads.ContactSummary]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [r.id for r in rows],
            "code": [r.customer_code for r in rows],
            "name": [r.name for r in rows],
            "email": [r.email for r in rows],
            "phone": [r.phone or "" for r in rows],
            "channel": [reach_by(r) for r in rows],
            "orders": [r.order_count for r in rows],
            "value": [units(r.lifetime_value_cents) for r in rows],
            "last_order": [local(r.last_order_at, zone) for r in rows],
        }
    )


def reach_by(contact: contact_reads.ContactSummary) -> str:
    if contact.sms_opt_out:
        return "E-mail · no SMS"
    return CHANNELS[contact.preferred_channel]


def first_page() -> None:
    st.session_state["customers.page"] = 1


def contact_table() -> int | None:
    search_col, sort_col = st.columns([3, 1], vertical_alignment="bottom")
    search = search_col.text_input(
        "Search",
        placeholder="Name, e-mail, phone or customer ID",
        key="customers.search",
        icon=":material/search:",
        on_change=first_page,
    )
    sort = sort_col.selectbox(
        "Sort by",
        list(SORTS),
        format_func=SORTS.__getitem__,
        key="customers.sort",
        on_change=first_page,
    )
    page_number = st.session_state.get("customers.page", 1)
    page = contact_reads.search_contacts(
        db, search=search, sort=sort, page=page_number, page_size=PAGE_SIZE
    )
    if not page.rows:
        if search:
            st.info(f"No customer matches “{literal(search)}”.", icon=":material/person_search:")
        else:
            st.info(
                "No customers yet. A customer is added with their first order — from the "
                "assistant, or with **+ Add Order** on the Orders page.",
                icon=":material/group:",
            )
        return None
    frame = contact_frame(page.rows)
    event = st.dataframe(
        frame,
        key="customers.table",
        placeholder="—",
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        column_config={
            "id": None,
            "code": st.column_config.TextColumn("Customer ID", width=95),
            "name": st.column_config.TextColumn("Name", width=120),
            "email": st.column_config.TextColumn("E-mail", width=190),
            "phone": st.column_config.TextColumn("Phone", width=110),
            "channel": st.column_config.TextColumn(
                "Prefers", width=95, help="“no SMS”: they replied STOP, so they get e-mail"
            ),
            "orders": st.column_config.NumberColumn("Orders", width=60),
            "value": money_column("Lifetime value", currency, width=100),
            "last_order": st.column_config.DateColumn("Last order", format="YYYY-MM-DD", width=95),
        },
    )
    pager(page)
    return selected_id(event.selection.rows, frame, "customers.selected_id")


def pager(page: contact_reads.ContactPage) -> None:
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.caption(f"{page.total:,} customers. Select a row to see their orders, edit or merge.")
    if page.pages > 1:
        # The search may have left fewer pages than the one the widget remembers.
        st.session_state["customers.page"] = page.page
        right.number_input(
            f"Page (of {page.pages})",
            min_value=1,
            max_value=page.pages,
            step=1,
            key="customers.page",
        )


def details(contact_id: int) -> None:
    history = contact_reads.contact_history(db, contact_id=contact_id)
    if history is None:
        st.session_state["customers.selected_id"] = None
        return
    person = history.contact
    with st.container(border=True):
        title, close = st.columns([5, 1], vertical_alignment="center")
        title.subheader(f"{literal(person.name)} · {person.customer_code}", anchor=False)
        if close.button("Close", key="customers.close", icon=":material/close:"):
            st.session_state["customers.selected_id"] = None
            st.rerun()
        reach = f"{person.email} · {person.phone or 'no phone'} · prefers "
        reach += CHANNELS[person.preferred_channel]
        if person.sms_opt_out:
            reach += " · opted out of SMS"
        st.caption(literal(reach))
        if history.merged_from:
            st.caption(f"Merged into this customer: {literal(', '.join(history.merged_from))}")
        metrics = st.columns(3)
        metrics[0].metric("Orders", f"{person.order_count:,}")
        metrics[1].metric("Lifetime value", format_money(person.lifetime_value_cents, currency))
        last = local(person.last_order_at, zone)
        metrics[2].metric("Last order", last.strftime("%Y-%m-%d") if last else "—")
        orders_tab, edit_tab, merge_tab = st.tabs(["Orders", "Edit", "Merge a duplicate"])
        with orders_tab:
            order_history(history)
        with edit_tab:
            edit_form(person)
        with merge_tab:
            merge_form(person)


def order_history(history: contact_reads.ContactHistory) -> None:
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


def edit_form(person: contact_reads.ContactSummary) -> None:
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
            _done(f"Saved {result.customer_code}{more}.")


def merge_form(person: contact_reads.ContactSummary) -> None:
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
        format_func=lambda i: describe(candidates[i]),
        key="customers.merge_choice",
    )
    if chosen is None:
        return
    duplicate = candidates[chosen]
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
            _done(f"Merged {result.merged} into {result.kept}: {moved} moved.")


def describe(contact: contact_reads.ContactSummary) -> str:
    orders = plural(contact.order_count, "order")
    return f"{contact.customer_code} · {contact.name} · {contact.email} · {orders}"


selected = contact_table()
if selected is not None:
    details(selected)
