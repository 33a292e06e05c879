"""Small display helpers shared by the pages (and the Orders page's benchmark floor)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from domain.cells import csv_text
from domain.inputs import InvalidInput
from domain.money import CURRENCY_SYMBOLS
from domain.order import PAYMENT_COLOURS, STATUS_COLOURS, OrderStatus, PaymentStatus
from ui.format import literal

# The Orders table's columns; bench/floor_page.py draws its floor with the very same. The
# table draws those of text as buttons that open the order (ui/order_table.py).
# Widths in pixels are minimums: the table stretches, and each column but the pinned one
# takes an equal share of any room to spare. With the row checkboxes (32 px) they fill the
# 878 px the table gets at 1,280 px with a 240 px sidebar, less 12 px for a scrollbar, so
# "Actions" is on screen there. The short columns fit their longest values ("ORD-100364",
# "In Progress", "Refunded", "Next: Complete Order"). Customer, Items and a flagged
# order's Actions are cut at the column's edge; the opened order shows them in full.
ACTIONS_WIDTH = 185
ORDER_COLUMNS = {
    "Order #": st.column_config.TextColumn(width=90, pinned=True),
    "Customer": st.column_config.TextColumn(width=96),
    "Items": st.column_config.TextColumn(width=96),
    "Total": st.column_config.TextColumn(width=75, alignment="right"),
    # Coloured labels without a pandas Styler, which would be applied again on every re-run.
    "Status": st.column_config.MultiselectColumn(
        width=92,
        options=[s.label for s in OrderStatus],
        color=[STATUS_COLOURS[s] for s in OrderStatus],
    ),
    "Payment": st.column_config.MultiselectColumn(
        width=85,
        options=[p.label for p in PaymentStatus],
        color=[PAYMENT_COLOURS[p] for p in PaymentStatus],
    ),
    "Date": st.column_config.TextColumn(width=115),
    "Actions": st.column_config.TextColumn(width=ACTIONS_WIDTH),
}


# Streamlit's own presets group thousands ($1,234.50); others fall back to a printf format.
MONEY_PRESETS = {"USD": "dollar", "EUR": "euro"}


def money_format(currency: str) -> str:
    if currency in MONEY_PRESETS:
        return MONEY_PRESETS[currency]
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}%.2f" if symbol else f"%.2f {currency}"


def money_column(label: str, currency: str, **options: object) -> st.column_config.Column:
    """A column of amounts in units (cents / 100), shown as money; the frame keeps cents."""
    return st.column_config.NumberColumn(label, format=money_format(currency), **options)  # type: ignore[arg-type]


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def units(cents: int | None) -> float | None:
    """Cents as units, for display columns only; the services always work in cents."""
    return None if cents is None else cents / 100


def local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A UTC time in the business's zone, without the zone so the table shows it plainly."""
    return None if moment is None else moment.astimezone(zone).replace(tzinfo=None)


def csv_download(
    frame: pd.DataFrame, *, file_name: str, key: str, label: str = "Download CSV"
) -> None:
    """The table as a spreadsheet-safe CSV file."""
    data = csv_text(list(frame.columns), frame.itertuples(index=False, name=None))
    st.download_button(
        label,
        data=data,
        file_name=file_name,
        mime="text/csv",
        key=key,
        icon=":material/download:",
    )


def take_selection(
    rows: Sequence[int], *, seen: Sequence[int] | None, ids: Sequence[int], chosen: int | None
) -> tuple[tuple[int, ...], int | None]:
    """(the selection now seen, the id now chosen) after a table drew `rows` as selected.

    A table's selection is a position; after a write the same position may hold another
    row (streamlit issue 17026). So a position is turned into an id, among the `ids` the
    rows held, only when the selection itself changes, and the id is what the page works
    with from then on. `seen` is None for a table not drawn before.
    """
    rows = tuple(rows)
    if seen is not None and rows == tuple(seen):
        return rows, chosen
    return rows, ids[rows[0]] if rows and rows[0] < len(ids) else None


def selected_id(rows: list[int], frame: pd.DataFrame, key: str) -> int | None:
    """The id of the row the user picked, fixed at the moment they picked it."""
    seen = f"{key}.rows"
    st.session_state[seen], st.session_state[key] = take_selection(
        rows,
        seen=st.session_state.get(seen),
        ids=[int(i) for i in frame["id"]] if rows else [],
        chosen=st.session_state.get(key),
    )
    return st.session_state.get(key)


def explain(error: Exception, labels: dict[str, str]) -> str:
    """A refused input in the words of the form: each field by its label, then the problem."""
    if not isinstance(error, InvalidInput):
        return str(error)
    problems = [f"**{labels.get(e.field, e.field)}** {literal(e.message)}" for e in error.errors]
    return "Please check: " + "; ".join(problems) + "."
