"""Reports: how the shop is doing over a period, in charts with their tables."""

from datetime import date, datetime, timedelta

import streamlit as st

from queries.orders import business_settings
from queries.reports import report
from ui import report_charts
from ui.auth import require_staff
from ui.resources import database

PERIODS = {
    "7": "Last 7 days",
    "30": "Last 30 days",
    "90": "Last 90 days",
    "365": "Last 12 months",
    "year": "This year so far",
    "custom": "Custom range",
}

require_staff()  # before anything reads data
db = database()
settings = business_settings(db)
currency = settings.currency
today = datetime.now(settings.zone).date()

st.title("Reports")


def chosen_period() -> tuple[date, date] | None:
    left, right = st.columns([1, 2], vertical_alignment="bottom")
    period = left.selectbox(
        "Period", list(PERIODS), index=1, format_func=PERIODS.__getitem__, key="reports.period"
    )
    if period == "year":
        return date(today.year, 1, 1), today
    if period != "custom":
        return today - timedelta(days=int(period) - 1), today
    picked = right.date_input(
        "From – to",
        value=(today - timedelta(days=29), today),
        max_value=today,
        key="reports.range",
    )
    if not isinstance(picked, tuple) or len(picked) != 2:
        st.info("Pick the last day of the range too.")
        return None
    return picked[0], picked[1]


period = chosen_period()
if period is not None:
    start, end = period
    data = report(db, date_from=start, date_to=end)
    st.caption(
        f"{data.date_from:%d %b %Y} – {data.date_to:%d %b %Y}, days in {data.timezone}. "
        "Revenue counts order totals with tax and shipping, leaving out cancelled and "
        "refunded orders."
    )
    if data.orders == 0:
        st.info(
            "No orders were placed in this period. Choose a longer one — or, on a new "
            "shop, load sample data with `python -m db.seed --orders 500`.",
            icon=":material/insights:",
        )
    else:
        report_charts.headline(data, currency)
        report_charts.days_charts(data, currency)
        report_charts.mix_charts(data)
        left, right = st.columns(2, gap="large")
        with left:
            if data.top_products:
                report_charts.products_chart(data, currency)
        with right:
            if data.shipping.shipped:
                report_charts.shipping_chart(data)
            else:
                st.markdown("**Time from placed to shipped**")
                st.caption("None of these orders has shipped yet.")
