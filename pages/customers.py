"""Customers: who buys, how to reach them, what they have ordered — and merging duplicates."""

import pandas as pd
import streamlit as st

from queries import contacts as contact_reads
from queries.orders import business_settings
from ui import contact_panel
from ui.auth import require_staff
from ui.display import local, money_column, selected_id, units
from ui.flash import show_flashes
from ui.format import literal
from ui.resources import database

PAGE_SIZE = 50
SORTS = {
    contact_reads.ContactSort.NAME: "Name",
    contact_reads.ContactSort.VALUE: "Lifetime value",
    contact_reads.ContactSort.RECENT: "Most recent order",
}

require_staff()  # before anything reads data
db = database()
settings = business_settings(db)
currency, zone = settings.currency, settings.zone
st.session_state.setdefault(contact_panel.SELECTED, None)

st.title("Customers")
st.caption(
    "Everyone who has ordered, with how they want to hear from you. Lifetime value adds up "
    "their orders' totals, leaving out cancelled and refunded ones."
)
show_flashes(banners=True)


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
    return contact_panel.CHANNELS[contact.preferred_channel]


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
    return selected_id(event.selection.rows, frame, contact_panel.SELECTED)


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


selected = contact_table()
if selected is not None:
    contact_panel.render(db, selected, settings)
