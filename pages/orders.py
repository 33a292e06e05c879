"""Orders: review what the assistant placed, fulfil what is in flight, find anything."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from domain.enums import Source
from domain.order import CURRENT, OrderStatus, PaymentStatus
from queries.orders import (
    OrderFilter,
    Sort,
    Tab,
    business_settings,
    newest_order_id,
    order_details,
    orders_after,
    tab_counts,
)
from services.samples import load_sample_data
from ui import export_panel, order_detail, order_form, order_table
from ui.auth import current_actor, require_staff
from ui.flash import ICONS, flash, show_flashes
from ui.format import literal
from ui.fragments import fragment, quiet_for, touched
from ui.order_keys import COUNTS_FRAGMENT, DIALOG, NEWEST_ID, OPENED, SELECTED, TABLE_FRAGMENT
from ui.resources import database

TAB_LABELS = {Tab.PENDING: "Pending Orders", Tab.CURRENT: "Current Orders", Tab.ALL: "All Orders"}
TAB_STATUS_OPTIONS = {
    Tab.PENDING: [],
    Tab.CURRENT: sorted(CURRENT, key=list(OrderStatus).index),
    Tab.ALL: list(OrderStatus),
}
SORT_LABELS = {
    Sort.NEWEST: "Newest first",
    Sort.OLDEST: "Oldest first",
    Sort.TOTAL_HIGH: "Total, high to low",
    Sort.TOTAL_LOW: "Total, low to high",
}
LINKED = "orders.linked"  # the ?order= link last followed, so a re-run does not follow it again
SHOWN_UP_TO = "orders.shown_up_to"  # the newest order id a whole-page run read, for the watch
# The counts as the counts' fragment last read them: the table's total comes from them. A
# change re-runs the counts before the table (st.rerun(scope=[…]) runs them in that order).
COUNTS = "orders.tab_counts"
HOW_TO_OPEN = (
    "Click any cell of an order, or its next step under Actions, to open it · tick the boxes "
    "on the left to act on several orders at once"
)


def tab_of(status: OrderStatus) -> Tab:
    if status is OrderStatus.PENDING:
        return Tab.PENDING
    return Tab.CURRENT if status in CURRENT else Tab.ALL


require_staff()  # before anything reads data
db = database()
actor = current_actor()
with db.reading():  # the header's reads share one transaction (the counts are read below)
    settings = business_settings(db)
    newest = newest_order_id(db)
zone = settings.zone

st.session_state.setdefault(SELECTED, None)
st.session_state.setdefault(DIALOG, None)
st.session_state.setdefault(NEWEST_ID, newest)
touched()  # a run of the whole page (the watch's own counts too: see QUIET_SECONDS)

show_flashes()


# ---- deep link: ?order=ORD-10042 opens that order ----

linked = st.query_params.get("order")
if linked and linked != st.session_state.get(LINKED):
    st.session_state[LINKED] = linked
    found = order_details(db, number=linked)
    if found is None:
        st.warning(f"There is no order {literal(linked)}.")
    else:
        st.session_state[SELECTED] = found.id
        # Behind it, the tab that holds it: a completed order is under All Orders.
        st.session_state["orders.tab"] = TAB_LABELS[tab_of(found.status)]


# ---- header ----

title, add = st.columns([4, 1], vertical_alignment="bottom")
with title:
    st.title("Orders", anchor=False)
with add:
    st.button(
        "+ Add Order",
        key="orders.add",
        type="primary",
        on_click=order_form.open_add,
        width="stretch",
    )


@fragment(key=COUNTS_FRAGMENT)
def counts_bar() -> dict[Tab, int]:
    """The orders per tab. A change made in the opened order re-runs it with the table
    (ui.order_detail.perform), without the page."""
    per_tab = tab_counts(db)
    st.session_state[COUNTS] = per_tab  # for the table's total, which runs after this
    with st.container(horizontal=True, gap="medium", key="orders.counts"):
        for tab in Tab:
            st.metric(TAB_LABELS[tab], f"{per_tab[tab]:,}", width="content")
    return per_tab


# Dry run and open local mode: one line above every page (ui/setup_notice.py).
counts = counts_bar()

if counts[Tab.ALL] == 0:
    with st.container(border=True):
        st.markdown(
            "**No orders yet.** Orders the AI assistant places appear here as *Pending*. "
            "Add one by hand with **+ Add Order**, or load sample data to look around."
        )
        if st.button("Load sample data", key="orders.sample", icon=":material/dataset:"):
            with st.spinner("Adding a sample catalogue and 40 orders…"):
                added = load_sample_data(db, orders=40)
            st.session_state[NEWEST_ID] = newest_order_id(db)  # not announced one by one
            flash(f"Loaded {added} sample orders.")
            st.rerun()


# ---- filters ----


def filters_for(tab: Tab) -> tuple[OrderFilter, Sort]:
    with st.container(key=f"orders.filters.{tab.value}"):
        text, sort = st.columns([3, 1])
        # The placeholder and the choices say what these are: their labels stay for screen
        # readers only, which keeps ten rows of the table on a laptop's first screen.
        search = text.text_input(
            "Search",
            key="orders.search",
            placeholder="Search: order #, customer name, e-mail or phone",
            max_chars=200,
            label_visibility="collapsed",
        )
        chosen_sort = sort.selectbox(
            "Sort",
            list(Sort),
            format_func=SORT_LABELS.get,
            key="orders.sort",
            label_visibility="collapsed",
        )
        more = st.expander("Filters", icon=":material/filter_list:")
        columns = iter(more.columns(4 if TAB_STATUS_OPTIONS[tab] else 3))
        statuses: list[OrderStatus] = []
        if TAB_STATUS_OPTIONS[tab]:
            statuses = next(columns).multiselect(
                "Status",
                TAB_STATUS_OPTIONS[tab],
                format_func=lambda s: s.label,
                key=f"orders.status.{tab.value}",
                placeholder="Any status",
            )
        payments = next(columns).multiselect(
            "Payment",
            list(PaymentStatus),
            format_func=lambda p: p.label,
            key="orders.payment",
            placeholder="Any payment",
        )
        sources = next(columns).multiselect(
            "Source",
            [Source.ASSISTANT, Source.MANUAL],
            format_func=lambda s: "AI assistant" if s is Source.ASSISTANT else "Manual",
            key="orders.source",
            placeholder="Any source",
        )
        dates = next(columns).date_input(
            "Placed between",
            value=(),
            key="orders.dates",
            max_value=date.today() + timedelta(days=1),
            format="YYYY-MM-DD",
        )
    start, end = _date_range(dates)
    chosen = OrderFilter(
        text=search,
        statuses=tuple(statuses),
        payments=tuple(payments),
        sources=tuple(sources),
        date_from=start,
        date_to=end,
    )
    return chosen, chosen_sort


def _date_range(value: object) -> tuple[date | None, date | None]:
    if isinstance(value, date):
        return value, value
    if isinstance(value, tuple | list) and value:
        return value[0], value[-1]
    return None, None


# ---- one tab: filters → table → the opened order → export ----


def orders_tab(tab: Tab) -> None:
    st.caption(HOW_TO_OPEN)
    chosen, sort = filters_for(tab)
    orders_table(tab, chosen, sort)
    opened_order()
    export_panel.show(db, tab, chosen, settings, sort)


@fragment(key=TABLE_FRAGMENT)
def orders_table(tab: Tab, chosen: OrderFilter, sort: Sort) -> None:
    """The table and its pager re-run on their own: a click on the pager or a ticked row
    redraws only them. A change made in the opened order re-runs them with the counts
    (ui.order_detail.perform); a bulk action re-runs the whole page (its summary)."""
    order_table.show(
        db,
        tab,
        filters=chosen,
        sort=sort,
        zone=zone,
        counts=st.session_state.get(COUNTS),
        actor=actor,
    )


@fragment(key=OPENED)
def opened_order() -> None:
    """The selected order, in a dialog over the table; the URL follows it (?order=…).

    A fragment of its own beside the table's: a click on a cell or on an order's next step
    under Actions re-runs only this (`order_table`), so the order opens without the table
    being drawn again; run so, it checks the session before it reads the order
    (ui/fragments.py)."""
    selected = st.session_state[SELECTED]
    if selected is not None and not st.session_state[DIALOG]:
        details = order_detail.show_dialog(db, selected, actor, zone)
        if details is not None and st.query_params.get("order") != details.number:
            st.query_params["order"] = details.number
            st.session_state[LINKED] = details.number
    elif selected is None and "order" in st.query_params:
        del st.query_params["order"]
        st.session_state[LINKED] = None


tabs = st.tabs(list(TAB_LABELS.values()), key="orders.tab", on_change="rerun")
for container, tab in zip(tabs, Tab, strict=True):
    if container.open is False:
        continue
    with container:
        orders_tab(tab)


if st.session_state[DIALOG]:
    order_form.show(db, actor)


# ---- live: new orders appear without a reload ----


WATCH_EVERY = timedelta(seconds=10)
# No click for this long, and the person has paused. Shorter than WATCH_EVERY, so the
# whole-page run a check starts is long past when the next check looks.
QUIET_SECONDS = 5


@fragment(run_every=WATCH_EVERY)
def watch_for_new_orders() -> None:
    """New orders get a toast. Every 10 seconds the check looks and, finding some, re-runs
    the page to show them. A whole-page run shows every order up to the newest it read, so
    it only announces those: it never re-runs the page itself (under a steady stream of
    orders each run would find newer ones and the page would never come to rest).

    While the person is at work (a click in the last 5 seconds) the check waits: the page
    does not redraw under their pointer, and their next click is not kept waiting behind a
    run they did not ask for. The table they page through is read afresh on each click; the
    new orders' messages and the counts follow at the first check after they pause."""
    shown_up_to = st.session_state.pop(SHOWN_UP_TO, None)
    if shown_up_to is not None and shown_up_to <= st.session_state[NEWEST_ID]:
        return
    if shown_up_to is None and not quiet_for(QUIET_SECONDS):
        return
    fresh = orders_after(db, after_id=st.session_state[NEWEST_ID], up_to=shown_up_to)
    if not fresh:
        return
    st.session_state[NEWEST_ID] = fresh[0].id
    for order in reversed(fresh):
        origin = "the assistant" if order.source is Source.ASSISTANT else "a colleague"
        message = f"New order {order.number} from {literal(order.customer_name)} (via {origin})."
        if shown_up_to is None:
            flash(message, "info")  # shown by the run below
        else:
            st.toast(message, icon=ICONS["info"])
    if shown_up_to is None:
        st.rerun(scope="app")


st.session_state[SHOWN_UP_TO] = newest
watch_for_new_orders()
