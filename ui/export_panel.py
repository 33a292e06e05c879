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
from queries.orders import OrderFilter, Tab

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
    made_for: OrderFilter  # a link for other filters would download another view
    file_name: str
    url: str


def show(db: Database, tab: Tab, filters: OrderFilter, settings: BusinessSettings) -> None:
    with st.expander("Export this view", icon=":material/download:"):
        st.caption(
            "Exactly the orders matching the tab and filters above. Money as decimals in "
            f"{settings.currency}; times in {settings.timezone}."
        )
        ready: dict[Tab, ReadyExport] = st.session_state.setdefault(READY, {})
        buttons = [(kind, label, fmt) for kind, label in KINDS for fmt in FORMATS]
        for column, (kind, label, fmt) in zip(st.columns(4), buttons, strict=True):
            name = FORMATS[fmt][2]
            if column.button(f"{label} ({name})", key=f"orders.export.{kind}.{fmt}.{tab.value}"):
                ready[tab] = _export(db, kind, fmt, tab, filters, settings.zone)
        made = ready.get(tab)
        if made is not None and made.made_for == filters:
            st.link_button(
                f"Download {made.file_name}",
                made.url,
                type="primary",
                icon=":material/download:",
                key=f"orders.export.download.{tab.value}",
            )
            st.caption("The link downloads once, within 15 minutes.")


def _export(
    db: Database, kind: str, fmt: str, tab: Tab, filters: OrderFilter, zone: ZoneInfo
) -> ReadyExport:
    """Write the export with a progress bar."""
    writer, mime, _name = FORMATS[fmt]
    file_name = f"{kind}-{tab.value}-{date.today().isoformat()}.{fmt}"
    total = export_size(db, kind=kind, tab=tab, filters=filters, zone=zone)
    bar = st.progress(0.0, text=f"Exporting {total:,} rows…")

    def progress(done: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"Exported {done:,} of {total:,} rows…")

    token = bootstrap.export_files.write(
        lambda out: writer(
            db, out, kind=kind, tab=tab, filters=filters, zone=zone, progress=progress
        ),
        file_name=file_name,
        mime=mime,
    )
    bar.empty()
    return ReadyExport(filters, file_name, f"/exports/{token}")
