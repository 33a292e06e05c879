"""The bar above the Orders table while rows are ticked: "N selected" and the actions that
apply to every ticked order's status, each run through `services/bulk.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from db.database import Database
from domain.cells import csv_text
from domain.order import Action, OrderError, PaymentStatus, allowed_actions, allowed_payment_targets
from queries.documents import packing_slips
from queries.orders import OrderRow
from services import bulk
from services.bulk import MAX_BULK, BulkResult, Shipment, Target
from services.invoices import invoices
from ui.display import plural
from ui.flash import flash
from ui.format import money, table_time
from ui.order_detail import CARRIERS
from ui.resources import NOT_SAVED, OUTAGE

KEY = "orders.bulk"
ORDER = [
    Action.CONFIRM,
    Action.MARK_SHIPPED,
    Action.COMPLETE,
    Action.MARK_IN_PROGRESS,
    Action.CANCEL,
]


def common_actions(rows: list[OrderRow]) -> list[Action]:
    """The status actions allowed for every one of `rows`."""
    allowed = set.intersection(*(set(allowed_actions(r.status)) for r in rows)) if rows else set()
    return [a for a in ORDER if a in allowed]


def can_mark_paid(rows: list[OrderRow]) -> bool:
    return bool(rows) and all(
        PaymentStatus.PAID in allowed_payment_targets(r.payment_status) for r in rows
    )


def show(
    db: Database, rows: list[OrderRow], *, actor: str, zone: ZoneInfo, done: Callable[[], None]
) -> None:
    if not rows:
        return
    with st.container(border=True, key=KEY):
        bar = st.container(horizontal=True, gap="small", vertical_alignment="center")
        bar.markdown(f"**{len(rows):,} selected**")
        if len(rows) > MAX_BULK:
            st.warning(f"A bulk action takes at most {MAX_BULK} orders. Select fewer.")
            return
        targets = [Target(r.id, r.number, r.version, r.status) for r in rows]

        def run(call: Callable[[], BulkResult]) -> None:
            _perform(call, done)

        with bar:
            for action in common_actions(rows):
                WIDGETS[action](db, rows, targets, actor, run)
            if can_mark_paid(rows):
                st.button(
                    "Mark Paid",
                    key=f"{KEY}.paid",
                    on_click=run,
                    args=(lambda: bulk.mark_paid_orders(db, targets, actor=actor),),
                )
            st.download_button(
                "Export selected",
                data=_csv(rows, zone),
                file_name="orders-selected.csv",
                mime="text/csv",
                key=f"{KEY}.export",
                icon=":material/download:",
                on_click="ignore",
            )
            ids = [r.id for r in rows]
            # One PDF, a page per order, drawn only when clicked: invoices get their numbers
            # (and a timeline entry) then, never by being selected.
            st.download_button(
                "Packing slips",
                data=lambda: packing_slips(db, ids),
                file_name="packing-slips.pdf",
                mime="application/pdf",
                key=f"{KEY}.packing_slips",
                icon=":material/package_2:",
                on_click="ignore",
            )
            st.download_button(
                "Invoices",
                data=lambda: invoices(db, ids, actor=actor),
                file_name="invoices.pdf",
                mime="application/pdf",
                key=f"{KEY}.invoices",
                icon=":material/receipt_long:",
            )
        if not common_actions(rows) and not can_mark_paid(rows):
            st.caption(
                "No status action applies to all of these orders; tick orders of one status."
            )


def _perform(call: Callable[[], BulkResult], done: Callable[[], None]) -> None:
    try:
        result = call()
    except OrderError as exc:
        flash(str(exc), "error")
    except OUTAGE:
        flash(NOT_SAVED, "error")
    else:
        flash(result.summary + ".", "warning" if result.skipped else "success")
        done()
    # The table re-runs on its own (a fragment); the counts and the summary need the page.
    st.rerun(scope="app")


def _simple(action: Action, call: Callable[..., BulkResult]) -> Callable[..., None]:
    def widget(db: Database, rows: list[OrderRow], targets: list[Target], actor: str, run) -> None:
        st.button(
            action.label,
            key=f"{KEY}.{action.value}",
            type="primary",
            on_click=run,
            args=(lambda: call(db, targets, actor=actor),),
        )

    return widget


def _with_reason(action: Action, icon: str) -> Callable[..., None]:
    def widget(db: Database, rows: list[OrderRow], targets: list[Target], actor: str, run) -> None:
        key = f"{KEY}.{action.value}"
        with st.popover(action.label, icon=icon, key=f"{key}.popover"):
            with st.form(key, border=False):
                st.text_area(
                    "Reason (for all of them)", key=f"{key}.reason", max_chars=1000, height=80
                )
                paid = sum(r.payment_status is PaymentStatus.PAID for r in rows)
                if action is Action.CANCEL and paid:
                    st.checkbox(
                        f"Refund the {plural(paid, 'paid order')} (mark Refunded)",
                        value=True,
                        key=f"{key}.refund",
                    )

                def call() -> BulkResult:
                    reason = st.session_state.get(f"{key}.reason", "")
                    if action is Action.CANCEL:
                        refund = bool(st.session_state.get(f"{key}.refund"))
                        return bulk.cancel_orders(
                            db, targets, actor=actor, reason=reason, refund=refund
                        )
                    return bulk.mark_in_progress_orders(db, targets, actor=actor, reason=reason)

                st.form_submit_button(
                    f"{action.label} ({len(rows)})", type="primary", on_click=run, args=(call,)
                )

    return widget


# Wide enough for every column in full: the popover takes the width of what it holds.
EDITOR_WIDTH = 480


def _ship(db: Database, rows: list[OrderRow], targets: list[Target], actor: str, run) -> None:
    key = f"{KEY}.ship"
    with st.popover("Mark Shipped", icon=":material/local_shipping:", key=f"{key}.popover"):
        carrier = st.selectbox(
            "One carrier for all",
            CARRIERS,
            index=None,
            placeholder="Choose to fill the Carrier column",
            key=f"{key}.carrier",
            accept_new_options=True,
        )
        # The column shows the carrier each order will get. A keyed editor with fixed rows
        # keeps what was typed in it when only the values change (Streamlit 1.67, required).
        frame = pd.DataFrame(
            {
                "Order #": [r.number for r in rows],
                "Carrier": [carrier or "" for _ in rows],
                "Tracking number": ["" for _ in rows],
            }
        )
        st.data_editor(
            frame,
            key=f"{key}.editor",
            width=EDITOR_WIDTH,
            hide_index=True,
            disabled=["Order #"],
            column_config={
                "Carrier": st.column_config.TextColumn(
                    max_chars=100, help="Empty: the one carrier for all"
                ),
                "Tracking number": st.column_config.TextColumn(max_chars=100),
            },
        )
        st.caption("An empty Carrier cell takes the one carrier for all.")
        unpaid = sum(r.payment_status is not PaymentStatus.PAID for r in rows)
        if unpaid:
            st.checkbox(f"Ship although {plural(unpaid, 'order')} not paid", key=f"{key}.override")

        def call() -> BulkResult:
            carrier = st.session_state.get(f"{key}.carrier") or ""
            edits = st.session_state.get(f"{key}.editor", {}).get("edited_rows", {})
            shipments = {}
            for index, row in enumerate(rows):
                changed = edits.get(index, edits.get(str(index), {}))
                shipments[row.id] = Shipment(
                    carrier=str(changed.get("Carrier") or carrier),
                    tracking_number=str(changed.get("Tracking number", "") or ""),
                )
            return bulk.mark_shipped_orders(
                db,
                targets,
                actor=actor,
                shipments=shipments,
                ship_unpaid=bool(st.session_state.get(f"{key}.override")),
            )

        st.button(
            f"Mark Shipped ({len(rows)})",
            key=f"{key}.go",
            type="primary",
            on_click=run,
            args=(call,),
        )


WIDGETS: dict[Action, Callable[..., None]] = {
    Action.CONFIRM: _simple(Action.CONFIRM, bulk.confirm_orders),
    Action.COMPLETE: _simple(Action.COMPLETE, bulk.complete_orders),
    Action.MARK_IN_PROGRESS: _with_reason(Action.MARK_IN_PROGRESS, ":material/undo:"),
    Action.CANCEL: _with_reason(Action.CANCEL, ":material/cancel:"),
    Action.MARK_SHIPPED: _ship,
}


def _csv(rows: list[OrderRow], zone: ZoneInfo) -> str:
    header = [
        "Order #",
        "Date",
        "Status",
        "Payment",
        "Customer",
        "E-mail",
        "Items",
        "Total",
        "Currency",
    ]
    return csv_text(
        header,
        (
            [
                r.number,
                table_time(r.created_at, zone),
                r.status.label,
                r.payment_status.label,
                r.customer_name,
                r.customer_email,
                r.items_summary,
                money(r.total_cents, r.currency),
                r.currency,
            ]
            for r in rows
        ),
    )
