"""Orders: review what the assistant placed, fulfil what is in flight, find anything."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

import bootstrap
from domain.enums import Source
from domain.order import CURRENT, OrderStatus, PaymentStatus
from queries.order_export import export_size, write_csv, write_excel
from queries.orders import (
    COUNT_LIMIT,
    OrderFilter,
    OrderPage,
    OrderRow,
    PageRequest,
    Sort,
    Tab,
    business_settings,
    list_orders,
    newest_order_id,
    order_details,
    orders_after,
    tab_counts,
)
from queries.review import review_flags
from services.samples import load_sample_data
from ui import order_detail, order_form
from ui.auth import current_actor, require_staff
from ui.display import ORDER_COLUMNS
from ui.flash import flash, show_flashes
from ui.format import literal, money, table_time
from ui.resources import database

PAGE_SIZE = 50
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
SELECTED = order_detail.SELECTED
EXPORT_READY = "orders.export.ready"
COUNTED_THIS_RUN = "orders.counted_this_run"
SHOWN_FRAME = "orders.shown_frame"  # (what it shows, the frame) of the last table drawn

require_staff()  # before anything reads data
db = database()
actor = current_actor()
with db.reading():  # the header's reads share one transaction
    settings = business_settings(db)
    counts = tab_counts(db)
zone = settings.zone

st.session_state.setdefault(SELECTED, None)
st.session_state.setdefault(order_form.DIALOG, None)
st.session_state.setdefault("orders.shown_ids", {})
st.session_state.setdefault("orders.seen_selection", {})
st.session_state.setdefault("orders.paging", {})
st.session_state.setdefault("orders.table_generation", {})
st.session_state.setdefault(EXPORT_READY, {})  # tab → (filters, file name, download link)
if "orders.newest_id" not in st.session_state:
    st.session_state["orders.newest_id"] = newest_order_id(db)

show_flashes()


# ---- deep link: ?order=ORD-10042 opens that order ----

linked = st.query_params.get("order")
if linked and linked != st.session_state.get("orders.linked"):
    st.session_state["orders.linked"] = linked
    found = order_details(db, number=linked)
    if found is None:
        st.warning(f"There is no order {literal(linked)}.")
    else:
        st.session_state[SELECTED] = found.id


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
dry_run = [missing.label for missing in bootstrap.dry_run_channels()]
if dry_run:
    st.warning(
        f"Customer messages are in dry-run mode ({' and '.join(dry_run)}): they are recorded on "
        "each order but **not sent**. The Notifications page says what to configure.",
        icon=":material/unsubscribe:",
    )
with st.container(horizontal=True, gap="large", key="orders.counts"):
    for tab in Tab:
        st.metric(TAB_LABELS[tab], f"{counts[tab]:,}", width="content")

if counts[Tab.ALL] == 0:
    with st.container(border=True):
        st.markdown(
            "**No orders yet.** Orders the AI assistant places appear here as *Pending*. "
            "Add one by hand with **+ Add Order**, or load sample data to look around."
        )
        if st.button("Load sample data", key="orders.sample", icon=":material/dataset:"):
            with st.spinner("Adding a sample catalogue and 40 orders…"):
                added = load_sample_data(db, orders=40)
            st.session_state["orders.newest_id"] = newest_order_id(db)
            flash(f"Loaded {added} sample orders.")
            st.rerun()


# ---- filters ----


def filters_for(tab: Tab) -> tuple[OrderFilter, Sort]:
    with st.container(key=f"orders.filters.{tab.value}"):
        text, sort = st.columns([3, 1])
        search = text.text_input(
            "Search",
            key="orders.search",
            placeholder="Order #, customer name, e-mail or phone",
            max_chars=200,
        )
        chosen_sort = sort.selectbox(
            "Sort", list(Sort), format_func=SORT_LABELS.get, key="orders.sort"
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


# ---- the table ----


def table_key(tab: Tab) -> str:
    # A new key clears the grid's highlighted row when that row no longer shows the opened
    # order (streamlit issue 17026: selections are positions, and positions go stale).
    generation = st.session_state["orders.table_generation"].get(tab, 0)
    return f"orders.table.{tab.value}" + (f".{generation}" if generation else "")


def drop_stale_highlight(tab: Tab, page: OrderPage) -> None:
    state = st.session_state.get(table_key(tab))
    rows = state["selection"]["rows"] if state else []
    if not rows:
        return
    on_screen = page.rows[rows[0]].id if rows[0] < len(page.rows) else None
    if on_screen != st.session_state[SELECTED]:
        generations = st.session_state["orders.table_generation"]
        generations[tab] = generations.get(tab, 0) + 1
        st.session_state["orders.seen_selection"][tab] = ()


def take_selection(tab: Tab) -> None:
    """Turn a clicked row into an order id at once, using the rows the user actually saw."""
    state = st.session_state.get(table_key(tab))
    rows = tuple(state["selection"]["rows"]) if state else ()
    if rows == st.session_state["orders.seen_selection"].get(tab, ()):
        return
    st.session_state["orders.seen_selection"][tab] = rows
    shown = st.session_state["orders.shown_ids"].get(tab, [])
    if rows and rows[0] < len(shown):
        st.session_state[SELECTED] = shown[rows[0]]
    elif not rows:
        st.session_state[SELECTED] = None


def frame_of(page: OrderPage, flags: dict[int, list[str]]) -> pd.DataFrame:
    """The table's frame, built again only when what it shows has changed: most re-runs
    (a click on a row, a form being filled in) show the very same rows."""
    shown = (page.rows, flags, zone)
    kept = st.session_state.get(SHOWN_FRAME)
    if kept is None or kept[0] != shown:
        kept = st.session_state[SHOWN_FRAME] = (shown, _frame(page.rows, flags))
    return kept[1]


def _frame(rows: list[OrderRow], flags: dict[int, list[str]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "Order #": [r.number for r in rows],
            "Customer": [f"{r.customer_name} · {r.customer_email}" for r in rows],
            "Items": [f"{r.item_count} · {r.items_summary}" for r in rows],
            "Total": [money(r.total_cents, r.currency) for r in rows],
            # One-item lists: the columns below draw them as coloured labels.
            "Status": [[r.status.label] for r in rows],
            "Payment": [[r.payment_status.label] for r in rows],
            "Date": [table_time(r.created_at, zone) for r in rows],
            "Actions": [actions_text(r.actions, flags.get(r.id, [])) for r in rows],
        }
    )
    return frame


def actions_text(actions: list, flags: list[str]) -> str:
    text = " · ".join(a.label for a in actions) or "—"
    return f"⚑ {', '.join(flags)} · {text}" if flags else text


def paging(tab: Tab) -> dict:
    return st.session_state["orders.paging"].setdefault(
        tab, {"request": PageRequest(), "number": 1}
    )


def turn_page(tab: Tab, request: PageRequest, number: int) -> None:
    st.session_state["orders.paging"][tab] = {"request": request, "number": number}


def pager(tab: Tab, page: OrderPage) -> None:
    state = paging(tab)
    number = page.pages if state["request"].direction == "last" else state["number"]
    # One row: the position takes what the four buttons, each as wide as its label, leave;
    # on a phone the buttons wrap below it, together.
    row = st.container(horizontal=True, vertical_alignment="center")
    if page.total_is_exact:
        first = (number - 1) * page.page_size + 1
        if state["request"].direction == "last":
            first = page.total - len(page.rows) + 1
        last = first + len(page.rows) - 1
        row.caption(f"{first:,}–{last:,} of {page.total:,} orders · page {number} of {page.pages}")
    else:
        row.caption(f"Page {number} · more than {COUNT_LIMIT:,} orders match")
    moves = [
        ("First page", PageRequest(), 1, not page.has_previous),
        (
            "Previous page",
            PageRequest("before", page.first_cursor),
            number - 1,
            not page.has_previous,
        ),
        ("Next page", PageRequest("after", page.last_cursor), number + 1, not page.has_next),
        ("Last page", PageRequest("last"), page.pages, not page.has_next),
    ]
    buttons = row.container(horizontal=True, width="content", vertical_alignment="center")
    for label, request, target, disabled in moves:
        buttons.button(
            label,
            key=f"orders.{label.split()[0].lower()}.{tab.value}",
            disabled=disabled,
            width="content",
            on_click=turn_page,
            args=(tab, request, max(1, target)),
        )


def orders_table(tab: Tab) -> None:
    chosen, sort = filters_for(tab)
    signature = (tab, chosen, sort)
    if st.session_state.get(f"orders.signature.{tab.value}") != signature:
        st.session_state[f"orders.signature.{tab.value}"] = signature
        turn_page(tab, PageRequest(), 1)
    take_selection(tab)
    with db.reading():  # the page of orders and its review flags in one transaction
        page = list_orders(
            db,
            tab=tab,
            filters=chosen,
            sort=sort,
            request=paging(tab)["request"],
            page_size=PAGE_SIZE,
            zone=zone,
            counts=counts,
        )
        # Review help: on Pending, flag what a person should check in the assistant's orders.
        from_assistant = {r.id: r.created_at for r in page.rows if r.source is Source.ASSISTANT}
        flags = review_flags(db, from_assistant) if tab is Tab.PENDING else {}
    st.session_state["orders.shown_ids"][tab] = [r.id for r in page.rows]
    drop_stale_highlight(tab, page)
    if not page.rows:
        st.info(_empty_text(tab, chosen), icon=":material/inbox:")
    else:
        st.dataframe(
            frame_of(page, flags),
            key=table_key(tab),
            on_select="rerun",
            selection_mode="single-row",
            hide_index=True,
            column_config=ORDER_COLUMNS,
            width="stretch",
        )
        pager(tab, page)
    opened_order()
    exports(tab, chosen)


def opened_order() -> None:
    """The selected order, right under the table; the URL follows it (?order=…)."""
    selected = st.session_state[SELECTED]
    if selected is not None:
        details = order_detail.render(db, selected, actor, zone)
        if details is not None and st.query_params.get("order") != details.number:
            st.query_params["order"] = details.number
            st.session_state["orders.linked"] = details.number
    elif "order" in st.query_params:
        del st.query_params["order"]
        st.session_state["orders.linked"] = None


def _empty_text(tab: Tab, chosen: OrderFilter) -> str:
    if chosen != OrderFilter():
        return "No orders match these filters. Clear the search or filters to see more."
    return {
        Tab.PENDING: "Nothing waiting for review. New orders from the assistant land here.",
        Tab.CURRENT: "No orders in progress or shipped right now.",
        Tab.ALL: "No orders yet.",
    }[tab]


def exports(tab: Tab, chosen: OrderFilter) -> None:
    """Each export is written to a temporary file with its progress shown, then downloaded
    from disk through /exports/{token} (api.exports): a large one never sits in memory."""
    with st.expander("Export this view", icon=":material/download:"):
        st.caption(
            "Exactly the orders matching the tab and filters above. Money as decimals in "
            f"{settings.currency}; times in {settings.timezone}."
        )
        buttons = [
            (kind, label, fmt)
            for kind, label in (("orders", "Orders"), ("items", "Line items"))
            for fmt in ("csv", "xlsx")
        ]
        for column, (kind, label, fmt) in zip(st.columns(4), buttons, strict=True):
            name = EXPORT_FORMATS[fmt][2]
            if column.button(f"{label} ({name})", key=f"orders.export.{kind}.{fmt}.{tab.value}"):
                ready = run_export(kind, fmt, tab, chosen)
                st.session_state[EXPORT_READY][tab.value] = (chosen, *ready)
        made_for, file_name, url = st.session_state[EXPORT_READY].get(tab.value, (None, "", ""))
        if made_for == chosen:  # a link for other filters would download another view
            st.link_button(
                f"Download {file_name}",
                url,
                type="primary",
                icon=":material/download:",
                key=f"orders.export.download.{tab.value}",
            )
            st.caption("The link downloads once, within 15 minutes.")


def run_export(kind: str, fmt: str, tab: Tab, chosen: OrderFilter) -> tuple[str, str]:
    """Write the export with a progress bar; returns its file name and download link."""
    writer, mime, _name = EXPORT_FORMATS[fmt]
    file_name = f"{kind}-{tab.value}-{date.today().isoformat()}.{fmt}"
    total = export_size(db, kind=kind, tab=tab, filters=chosen, zone=zone)
    bar = st.progress(0.0, text=f"Exporting {total:,} rows…")

    def progress(done: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"Exported {done:,} of {total:,} rows…")

    token = bootstrap.export_files.write(
        lambda out: writer(
            db, out, kind=kind, tab=tab, filters=chosen, zone=zone, progress=progress
        ),
        file_name=file_name,
        mime=mime,
    )
    bar.empty()
    return file_name, f"/exports/{token}"


EXPORT_FORMATS = {
    "csv": (write_csv, "text/csv", "CSV"),
    "xlsx": (
        write_excel,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel",
    ),
}


tabs = st.tabs(list(TAB_LABELS.values()), key="orders.tab", on_change="rerun")
for container, tab in zip(tabs, Tab, strict=True):
    if container.open is False:
        continue
    with container:
        orders_table(tab)


if st.session_state[order_form.DIALOG]:
    order_form.show(db, actor)


# ---- live: new orders appear without a reload ----


@st.fragment(run_every=timedelta(seconds=10))
def watch_for_new_orders() -> None:
    # A whole-page run has counted the orders already: with no more of them than when this
    # last looked, none is new (orders are never deleted). The 10-second check always looks.
    counted = st.session_state.pop(COUNTED_THIS_RUN, None)
    if counted is not None and counted == st.session_state.get("orders.counted_at_look"):
        return
    if counted is not None:
        st.session_state["orders.counted_at_look"] = counted
    fresh = orders_after(db, after_id=st.session_state["orders.newest_id"])
    if not fresh:
        return
    st.session_state["orders.newest_id"] = fresh[0].id
    for order in reversed(fresh):
        origin = "the assistant" if order.source is Source.ASSISTANT else "a colleague"
        who = literal(order.customer_name)
        flash(f"New order {order.number} from {who} (via {origin}).", "info")
    st.rerun(scope="app")


st.session_state[COUNTED_THIS_RUN] = counts[Tab.ALL]
watch_for_new_orders()
