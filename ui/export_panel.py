"""Export this view: the orders or line items a tab's filters select, as CSV or Excel.

Each export is written to a temporary file with its progress shown, then downloaded from
disk through /exports/{token} (api.exports): a large one never sits in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import streamlit as st

import bootstrap
from db.database import Database
from domain.settings import BusinessSettings
from queries.order_export import export_size, write_csv, write_excel
from queries.orders import OrderFilter, Sort, Tab

READY = "orders.export.ready"  # tab → the ReadyExport last written for it
FORMATS = {
    "csv": (write_csv, "text/csv", "CSV"),
    "xlsx": (
        write_excel,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel",
    ),
}
KINDS = (("orders", "Orders"), ("items", "Line items"))


@dataclass(frozen=True)
class ReadyExport:
    made_for: tuple[OrderFilter, Sort]  # a link for other filters or sort is another view
    file_name: str
    url: str


def show(
    db: Database, tab: Tab, filters: OrderFilter, settings: BusinessSettings, sort: Sort
) -> None:
    with st.expander("Export this view", icon=":material/download:"):
        st.caption(
            "Exactly the orders matching the tab and filters above, in the order shown. Money "
            f"as decimals in {settings.currency}; times in {settings.timezone}."
        )
        ready: dict[Tab, ReadyExport] = st.session_state.setdefault(READY, {})
        buttons = [(kind, label, fmt) for kind, label in KINDS for fmt in FORMATS]
        for column, (kind, label, fmt) in zip(st.columns(4), buttons, strict=True):
            name = FORMATS[fmt][2]
            if column.button(f"{label} ({name})", key=f"orders.export.{kind}.{fmt}.{tab.value}"):
                ready[tab] = _export(db, kind, fmt, tab, (filters, sort), settings.zone)
        made = ready.get(tab)
        if made is not None and made.made_for == (filters, sort):
            st.link_button(
                f"Download {made.file_name}",
                made.url,
                type="primary",
                icon=":material/download:",
                key=f"orders.export.download.{tab.value}",
            )
            st.caption("The link downloads once, within 15 minutes.")


def _export(
    db: Database, kind: str, fmt: str, tab: Tab, view: tuple[OrderFilter, Sort], zone: ZoneInfo
) -> ReadyExport:
    """Write the export with a progress bar."""
    filters, sort = view
    writer, mime, _name = FORMATS[fmt]
    file_name = f"{kind}-{tab.value}-{date.today().isoformat()}.{fmt}"
    total = export_size(db, kind=kind, tab=tab, filters=filters, zone=zone)
    bar = st.progress(0.0, text=f"Exporting {total:,} rows…")

    def progress(done: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"Exported {done:,} of {total:,} rows…")

    token = bootstrap.export_files.write(
        lambda out: writer(
            db, out, kind=kind, tab=tab, filters=filters, zone=zone, sort=sort, progress=progress
        ),
        file_name=file_name,
        mime=mime,
    )
    bar.empty()
    return ReadyExport(view, file_name, f"/exports/{token}")
