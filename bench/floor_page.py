"""The page floor: the Orders page's layout rendering a prebuilt 50-row frame, no database.

Run by AppTest beside pages/orders.py. It draws what the page draws — title, counts, tabs,
search and filters, the table with its column settings and row selection, pager, export
buttons, the live-refresh fragment — so the difference between the two is the cost of
getting the data, not of Streamlit drawing it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from domain.order import OrderStatus, PaymentStatus
from ui.display import ORDER_COLUMNS

TABS = ["Pending Orders", "Current Orders", "All Orders"]
ROWS = 50


@st.cache_resource(show_spinner=False)
def prebuilt() -> pd.DataFrame:
    statuses = list(OrderStatus)
    payments = list(PaymentStatus)
    return pd.DataFrame(
        {
            "Order #": [f"ORD-{1_010_000 - i}" for i in range(ROWS)],
            "Customer": [f"Ada Lovelace · ada.lovelace.{i}@example.com" for i in range(ROWS)],
            "Items": [f"{1 + i % 4} · 2× Earl Grey Loose Leaf 100 g, 1× Hand Grinder"
                      for i in range(ROWS)],
            "Total": [f"${40 + i}.{i % 100:02d}" for i in range(ROWS)],
            "Status": [[statuses[i % len(statuses)].label] for i in range(ROWS)],
            "Payment": [[payments[i % len(payments)].label] for i in range(ROWS)],
            "Date": [f"2026-11-{1 + i % 28:02d} 10:{i % 60:02d}" for i in range(ROWS)],
            "Actions": ["Next: Confirm Order" for _ in range(ROWS)],
        }
    )  # fmt: skip


title, add = st.columns([4, 1], vertical_alignment="bottom")
title.title("Orders", anchor=False)
add.button("+ Add Order", key="floor.add", type="primary", width="stretch")
st.warning("Customer messages are in dry-run mode (e-mail and SMS): recorded, **not sent**.")
with st.container(horizontal=True, gap="large", key="floor.counts"):
    for label, count in zip(TABS, (100_000, 180_000, 1_000_000), strict=True):
        st.metric(label, f"{count:,}", width="content")


def table(tab: int) -> None:
    text, sort = st.columns([3, 1])
    text.text_input("Search", key="floor.search", max_chars=200)
    sort.selectbox("Sort", ["Newest first", "Oldest first"], key="floor.sort")
    more = st.expander("Filters", icon=":material/filter_list:")
    status, payment, source, dates = more.columns(4)
    status.multiselect("Status", [s.label for s in OrderStatus], key=f"floor.status.{tab}")
    payment.multiselect("Payment", [p.label for p in PaymentStatus], key="floor.payment")
    source.multiselect("Source", ["AI assistant", "Manual"], key="floor.source")
    dates.date_input("Placed between", value=(), key="floor.dates",
                     max_value=date.today() + timedelta(days=1))  # fmt: skip
    st.dataframe(
        prebuilt(),
        key=f"floor.table.{tab}",
        on_select="rerun",
        selection_mode=["multi-row", "single-cell"],
        hide_index=True,
        column_config=ORDER_COLUMNS,
        width="stretch",
    )
    row = st.container(horizontal=True, vertical_alignment="center")
    row.caption("1–50 of 1,000,000 orders · page 1 of 20,000")
    buttons = row.container(horizontal=True, width="content", vertical_alignment="center")
    for label in ("First", "Previous", "Next", "Last"):
        at_start = label in ("First", "Previous")
        buttons.button(f"{label} page", key=f"floor.{label}.{tab}", disabled=at_start)
    with st.expander("Export this view", icon=":material/download:"):
        st.caption("Exactly the orders matching the tab and filters above.")
        for column, name in zip(st.columns(4), ("a", "b", "c", "d"), strict=True):
            column.download_button(
                name, data=lambda: b"", key=f"floor.export.{name}.{tab}", on_click="ignore"
            )


tabs = st.tabs(TABS, key="floor.tab", on_change="rerun")
for index, container in enumerate(tabs):
    if container.open is False:
        continue
    with container:
        table(index)


@st.fragment(run_every=timedelta(seconds=10))
def watch_for_new_orders() -> None:
    pass


watch_for_new_orders()
