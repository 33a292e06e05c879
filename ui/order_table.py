"""The Orders table: one tab's page of orders, its pager, the cell that opens an order and the
ticked rows the bulk bar acts on.

A click on any cell opens that row's order: its text is a button, and a click beside it or on
a coloured label is a single-cell selection. The checkboxes pick rows for a bulk action (a
multi-row selection). Both selections are positions, turned into order ids at once. What the
table remembers between re-runs — each tab's page, the rows it showed, the selections it
last saw, and the frame it last drew — is one `TableState`, kept under one session key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from zoneinfo import ZoneInfo

import pyarrow as pa
import streamlit as st
from streamlit.elements.lib.column_types import ColumnConfig

from db.database import Database
from domain.enums import Source
from domain.order import Action
from queries.orders import (
    COUNT_LIMIT,
    OrderFilter,
    OrderPage,
    OrderRow,
    PageRequest,
    Sort,
    Tab,
    list_orders,
)
from queries.review import review_flags
from ui import bulk_bar
from ui.display import ORDER_COLUMNS, take_selection
from ui.format import money, table_time
from ui.order_keys import OPENED, SELECTED

PAGE_SIZE = 50
STATE = "orders.table_state"


@dataclass
class TabState:
    """One tab's table between re-runs."""

    request: PageRequest = field(default_factory=PageRequest)
    number: int = 1  # the page's number, as the pager shows it
    shown_for: tuple[OrderFilter, Sort] | None = None  # the filters and sort paged through
    shown_ids: list[int] = field(default_factory=list)  # the ids of the rows drawn, in order
    seen_cells: tuple[int, ...] = ()  # the clicked cell's row last turned into an order id
    seen_rows: tuple[int, ...] = ()  # the ticked rows last turned into order ids
    picked: tuple[int, ...] = ()  # the ids of the ticked rows, for the bulk bar
    # A new widget key redraws the grid's highlights when they no longer show the opened
    # order and the picked ones (streamlit issue 17026: selections are positions, and
    # positions go stale); the new key starts with the picked orders' rows ticked.
    generation: int = 0
    default_rows: tuple[int, ...] = ()

    def turn_page(self, request: PageRequest, number: int) -> None:
        self.request, self.number = request, number
        self.clear_picked()

    def clear_picked(self) -> None:
        """Untick every row (a new page, new filters, or a bulk action done)."""
        if self.picked or self.seen_rows or self.seen_cells:
            self.generation += 1  # a new grid, without the old positions highlighted
        self.picked = self.seen_rows = self.seen_cells = self.default_rows = ()


@dataclass
class TableState:
    tabs: dict[Tab, TabState] = field(default_factory=dict)
    # (what it shows, the frame) of the last table drawn: most re-runs (a click on a row, a
    # form being filled in) show the very same rows, so the frame is built again only when
    # what it shows has changed.
    shown_frame: tuple[object, pa.Table] | None = None

    def of(self, tab: Tab) -> TabState:
        return self.tabs.setdefault(tab, TabState())


def state() -> TableState:
    return st.session_state.setdefault(STATE, TableState())


def show(
    db: Database,
    tab: Tab,
    *,
    filters: OrderFilter,
    sort: Sort,
    zone: ZoneInfo,
    counts: dict[Tab, int] | None,
    actor: str,
) -> None:
    """The tab's bulk bar, table and pager, or why it is empty; a clicked cell opens its order."""
    kept = state().of(tab)
    if kept.shown_for != (filters, sort):
        kept.shown_for = (filters, sort)
        kept.turn_page(PageRequest(), 1)
    _take_selection(tab, kept)
    with db.reading():  # the page of orders and its review flags in one transaction
        page = list_orders(
            db,
            tab=tab,
            filters=filters,
            sort=sort,
            request=kept.request,
            page_size=PAGE_SIZE,
            zone=zone,
            counts=counts,
        )
        # Review help: on Pending, flag what a person should check in the assistant's orders.
        from_assistant = {r.id: r.created_at for r in page.rows if r.source is Source.ASSISTANT}
        flags = review_flags(db, from_assistant) if tab is Tab.PENDING else {}
    kept.shown_ids = [r.id for r in page.rows]
    _drop_stale_highlight(tab, kept)
    if not page.rows:
        st.info(_empty_text(tab, filters), icon=":material/inbox:")
        return
    by_id = {r.id: r for r in page.rows}
    bulk_bar.show(
        db, [by_id[i] for i in kept.picked], actor=actor, zone=zone, done=kept.clear_picked
    )
    key = _table_key(tab, kept)
    st.dataframe(
        _frame_of(page, flags, zone),
        key=key,
        on_select=partial(_selection_changed, tab),
        selection_mode=["multi-row", "single-cell"],
        selection_default=(
            {"selection": {"rows": list(kept.default_rows)}} if kept.default_rows else None
        ),
        hide_index=True,
        column_config=_columns(tab),
        width="stretch",
    )
    _pager(tab, kept, page)


# The tooltip of a column's header, where more than "Opens the order".
OPENS = {"Actions": "Opens the order, where its next step is the first button"}


def _columns(tab: Tab) -> dict[str, object]:
    """The table's columns. Every column of text is a button that opens its order: a button
    sends its click at once, where a clicked cell waits out the grid's 150 ms debounce. The
    coloured labels (Status, Payment) are cells, which open it through the selection."""
    return {
        name: _opener(tab, name, shown) if shown["type_config"]["type"] == "text" else shown
        for name, shown in ORDER_COLUMNS.items()
    }


def _opener(tab: Tab, column: str, shown: ColumnConfig) -> object:
    """A column drawn as `shown` (ui/display.py), its values as plain-looking buttons."""
    return st.column_config.ButtonColumn(
        type="tertiary",
        alignment=shown.get("alignment") or "left",
        width=shown.get("width"),
        pinned=shown.get("pinned"),
        help=OPENS.get(column, "Opens the order"),
        on_click=_open_clicked,
        args=(tab, column),
        key=_opener_key(tab, column),
    )


def _opener_key(tab: Tab, column: str) -> str:
    return f"orders.open.{tab.value}.{column}"


def _open_clicked(tab: Tab, column: str) -> None:
    """A click on an order's text opens the order, and, as for a cell, only the opened
    order re-runs."""
    click = st.session_state[_opener_key(tab, column)]
    shown = state().of(tab).shown_ids
    if click is not None and click.row < len(shown):
        st.session_state[SELECTED] = shown[click.row]
        st.rerun(scope=[OPENED])


def _selection_changed(tab: Tab) -> None:
    """A clicked cell opens its order and re-runs only the opened order: the grid already
    shows the click, so the table is not drawn again. Ticked rows re-run the table (the bulk
    bar follows them)."""
    before = st.session_state[SELECTED]
    kept = state().of(tab)
    rows = kept.seen_rows
    _take_selection(tab, kept)
    if kept.seen_rows == rows and st.session_state[SELECTED] not in (None, before):
        st.rerun(scope=[OPENED])


def _table_key(tab: Tab, kept: TabState) -> str:
    return f"orders.table.{tab.value}" + (f".{kept.generation}" if kept.generation else "")


def _selection(tab: Tab, kept: TabState) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(the ticked rows, the clicked cell's row) as the grid last reported them."""
    widget = st.session_state.get(_table_key(tab, kept))
    if not widget:
        return kept.default_rows, ()
    selection = widget["selection"]
    cells = tuple(int(cell[0]) for cell in selection.get("cells", ()))
    return tuple(selection.get("rows", ())), cells


def _take_selection(tab: Tab, kept: TabState) -> None:
    """Turn a clicked cell and ticked rows into order ids at once, using the rows the user
    actually saw."""
    rows, cells = _selection(tab, kept)
    kept.seen_cells, st.session_state[SELECTED] = take_selection(
        cells,
        seen=kept.seen_cells,
        ids=kept.shown_ids,
        chosen=st.session_state[SELECTED],
    )
    if rows != kept.seen_rows:
        kept.seen_rows = rows
        kept.picked = tuple(kept.shown_ids[r] for r in rows if r < len(kept.shown_ids))


def _drop_stale_highlight(tab: Tab, kept: TabState) -> None:
    """Redraw the grid's highlights when their positions no longer hold the orders meant."""
    rows, cells = _selection(tab, kept)
    position = {order_id: index for index, order_id in enumerate(kept.shown_ids)}
    kept.picked = tuple(i for i in kept.picked if i in position)
    wanted_rows = tuple(position[i] for i in kept.picked)
    cell_ok = not cells or (
        cells[0] < len(kept.shown_ids) and kept.shown_ids[cells[0]] == st.session_state[SELECTED]
    )
    if rows == wanted_rows and cell_ok:
        return
    kept.generation += 1
    kept.seen_cells = ()
    kept.default_rows = kept.seen_rows = wanted_rows


def _frame_of(page: OrderPage, flags: dict[int, list[str]], zone: ZoneInfo) -> pa.Table:
    table = state()
    shown = (page.rows, flags, zone)
    if table.shown_frame is None or table.shown_frame[0] != shown:
        table.shown_frame = (shown, _frame(page.rows, flags, zone))
    return table.shown_frame[1]


def _frame(rows: list[OrderRow], flags: dict[int, list[str]], zone: ZoneInfo) -> pa.Table:
    """The page's rows as an Arrow table, which st.dataframe sends as it is: a pandas frame
    would be built, then converted to Arrow, on every re-run that draws the table."""
    return pa.table(
        {
            "Order #": [r.number for r in rows],
            "Customer": [f"{r.customer_name} · {r.customer_email}" for r in rows],
            "Items": [f"{r.item_count} · {r.items_summary}" for r in rows],
            "Total": [money(r.total_cents, r.currency) for r in rows],
            # One-item lists: the columns below draw them as coloured labels.
            "Status": [[r.status.label] for r in rows],
            "Payment": [[r.payment_status.label] for r in rows],
            "Date": [table_time(r.created_at, zone) for r in rows],
            "Actions": [_actions_text(r.actions, flags.get(r.id, [])) for r in rows],
        }
    )


# The step that moves an order forward; the others (cancel, back to in progress) are in the
# opened order.
FORWARD = (Action.CONFIRM, Action.MARK_SHIPPED, Action.COMPLETE)


def _actions_text(actions: list[Action], flags: list[str]) -> str:
    """A hint, not buttons: the order's next step (a click on the row opens it to take it)."""
    step = next((a for a in FORWARD if a in actions), actions[0] if actions else None)
    text = f"Next: {step.label}" if step else "—"
    return f"⚑ {', '.join(flags)} · {text}" if flags else text


def _empty_text(tab: Tab, filters: OrderFilter) -> str:
    if filters != OrderFilter():
        return "No orders match these filters. Clear the search or filters to see more."
    return {
        Tab.PENDING: "Nothing waiting for review. New orders from the assistant land here.",
        Tab.CURRENT: "No orders in progress or shipped right now.",
        Tab.ALL: "No orders yet.",
    }[tab]


def _turn_page(tab: Tab, request: PageRequest, number: int) -> None:
    state().of(tab).turn_page(request, number)


def _pager(tab: Tab, kept: TabState, page: OrderPage) -> None:
    number = page.pages if kept.request.direction == "last" else kept.number
    # One row: the position takes what the four buttons, each as wide as its label, leave;
    # on a phone the buttons wrap below it, together.
    row = st.container(horizontal=True, vertical_alignment="center")
    row.caption(_position(page, number, last=kept.request.direction == "last"))
    moves = [
        ("First page", PageRequest(), 1, not page.has_previous),
        (
            "Previous page",
            # Back to the first page is to the newest orders, those placed meanwhile too;
            # the rows before this page's first would leave them out under "1–50".
            PageRequest("before", page.first_cursor) if number > 2 else PageRequest(),
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
            on_click=_turn_page,
            args=(tab, request, max(1, target)),
        )


def _position(page: OrderPage, number: int, *, last: bool) -> str:
    if not page.total_is_exact:
        return f"Page {number} · more than {COUNT_LIMIT:,} orders match"
    first = page.total - len(page.rows) + 1 if last else (number - 1) * page.page_size + 1
    end = first + len(page.rows) - 1
    return f"{first:,}–{end:,} of {page.total:,} orders · page {number} of {page.pages}"
