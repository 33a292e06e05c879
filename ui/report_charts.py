"""The Reports page's pieces: the headline figures, and each chart with its table and CSV."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from domain.money import format_money
from domain.order import PAYMENT_COLOURS, STATUS_COLOURS, OrderStatus, PaymentStatus
from queries.reports import Report
from ui.display import csv_download, units


def _money(cents: int | None, currency: str) -> str:
    return "—" if cents is None else format_money(cents, currency)


def _hours_text(hours: float | None) -> str:
    if hours is None:
        return "—"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def headline(data: Report, currency: str) -> None:
    cells = st.columns(4)
    cells[0].metric("Orders placed", f"{data.orders:,}", border=True)
    cells[1].metric(
        "Revenue",
        _money(data.revenue_cents, currency),
        border=True,
        help="Order totals with tax and shipping, leaving out cancelled and refunded orders.",
    )
    cells[2].metric(
        "Average order",
        _money(data.average_order_cents, currency),
        border=True,
        help=f"Revenue divided by the {data.counted_orders:,} orders it counts.",
    )
    shipping = data.shipping
    cells[3].metric(
        "Placed to shipped (median)",
        _hours_text(shipping.median_hours),
        border=True,
        help=f"Over {shipping.shipped:,} shipped orders; "
        f"the average is {_hours_text(shipping.average_hours)}.",
    )


def _block(title: str, chart: alt.Chart, frame: pd.DataFrame, name: str) -> None:
    """A chart, and its numbers as a table and a CSV file."""
    st.markdown(f"**{title}**")
    st.altair_chart(chart, key=f"reports.{name}.chart")
    with st.expander("Table and CSV", icon=":material/table:", key=f"reports.{name}.table_box"):
        st.dataframe(frame, hide_index=True, key=f"reports.{name}.table")
        csv_download(frame, file_name=f"{name}.csv", key=f"reports.{name}.csv")


def _money_axis(currency: str, title: str = "Revenue") -> alt.Axis:
    return alt.Axis(format=",.0f", title=f"{title} ({currency})")


def _count_axis(title: str = "Orders") -> alt.Axis:
    # Orders come whole: no 0.5 ticks.
    return alt.Axis(format="d", tickMinStep=1, title=title)


def days_charts(data: Report, currency: str) -> None:
    frame = pd.DataFrame(
        {
            "Date": [d.day for d in data.days],
            "Orders": [d.orders for d in data.days],
            "Revenue": [units(d.revenue_cents) for d in data.days],
        }
    )
    plotted = frame.assign(Date=pd.to_datetime(frame["Date"]))
    x = alt.X("Date:T", title=None, axis=alt.Axis(format="%b %d"))
    tooltip = [
        alt.Tooltip("Date:T", format="%a %Y-%m-%d"),
        "Orders:Q",
        alt.Tooltip("Revenue:Q", format=",.2f"),
    ]
    left, right = st.columns(2, gap="large")
    with left:
        chart = (
            alt.Chart(plotted)
            .mark_bar(color="#2563eb")
            .encode(x=x, y=alt.Y("Orders:Q", axis=_count_axis()), tooltip=tooltip)
        )
        _block("Orders per day", chart.properties(height=260), frame, "orders-per-day")
    with right:
        chart = (
            alt.Chart(plotted)
            .mark_bar(color="#16a34a")
            .encode(x=x, y=alt.Y("Revenue:Q", axis=_money_axis(currency)), tooltip=tooltip)
        )
        _block("Revenue per day", chart.properties(height=260), frame, "revenue-per-day")


def _mix_chart(frame: pd.DataFrame, colours: dict[str, str]) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("Orders:Q", axis=_count_axis()),
            y=alt.Y("Label:N", title=None, sort=list(colours)),
            color=alt.Color(
                "Label:N",
                scale=alt.Scale(domain=list(colours), range=list(colours.values())),
                legend=None,
            ),
            tooltip=["Label:N", "Orders:Q", alt.Tooltip("Total:Q", format=",.2f")],
        )
        .properties(height=alt.Step(34))
    )


def _mix_frame(shares: list, label: dict[str, str], total_orders: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Label": [label[s.key] for s in shares],
            "Orders": [s.orders for s in shares],
            "Share %": [round(100 * s.orders / total_orders, 1) for s in shares],
            "Total": [units(s.total_cents) for s in shares],
        }
    )


def mix_charts(data: Report) -> None:
    statuses = {s.value: s.label for s in OrderStatus}
    payments = {p.value: p.label for p in PaymentStatus}
    mixes = [
        ("Status", data.statuses, statuses, STATUS_COLOURS),
        ("Payment", data.payments, payments, PAYMENT_COLOURS),
    ]
    for column, (name, shares, labels, colours) in zip(
        st.columns(2, gap="large"), mixes, strict=True
    ):
        frame = _mix_frame(shares, labels, data.orders)
        palette = {labels[key.value]: colour for key, colour in colours.items()}
        with column:
            _block(
                f"{name} mix",
                _mix_chart(frame, palette),
                frame.rename(columns={"Label": name}),
                f"{name.lower()}-mix",
            )


def products_chart(data: Report, currency: str) -> None:
    frame = pd.DataFrame(
        {
            "SKU": [p.sku for p in data.top_products],
            "Product": [p.name for p in data.top_products],
            "Quantity": [p.quantity for p in data.top_products],
            "Orders": [p.orders for p in data.top_products],
            "Sales": [units(p.sales_cents) for p in data.top_products],
        }
    )
    chart = (
        alt.Chart(frame)
        .mark_bar(color="#7c3aed")
        .encode(
            x=alt.X("Sales:Q", axis=_money_axis(currency, "Sales before tax")),
            y=alt.Y("Product:N", title=None, sort="-x", axis=alt.Axis(labelLimit=220)),
            tooltip=["SKU:N", "Product:N", "Quantity:Q", alt.Tooltip("Sales:Q", format=",.2f")],
        )
        .properties(height=alt.Step(26))
    )
    _block(f"Top {len(frame)} products", chart, frame, "top-products")


def shipping_chart(data: Report) -> None:
    buckets = data.shipping.buckets
    frame = pd.DataFrame(
        {"Placed to shipped": [b.label for b in buckets], "Orders": [b.orders for b in buckets]}
    )
    chart = (
        alt.Chart(frame)
        .mark_bar(color="#7c3aed")
        .encode(
            x=alt.X("Orders:Q", axis=_count_axis()),
            y=alt.Y("Placed to shipped:N", sort=[b.label for b in buckets], title=None),
            tooltip=["Placed to shipped:N", "Orders:Q"],
        )
        .properties(height=alt.Step(34))
    )
    _block("Time from placed to shipped", chart, frame, "time-to-ship")
