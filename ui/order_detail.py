"""The opened order: who, where, what, how much, what happened — and what can be done next.

Every action runs in a button callback with the order version that was on screen when the
button was drawn, so a change made meanwhile by someone else is refused, never overwritten.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from zoneinfo import ZoneInfo

import streamlit as st
from streamlit.elements.lib.mutable_popover_container import PopoverContainer

import bootstrap
from db.database import Database
from db.unit_of_work import StaleOrder
from domain.enums import EventKind
from domain.order import (
    EDITABLE,
    Action,
    OrderError,
    OrderStatus,
    PaymentStatus,
    allowed_payment_targets,
)
from queries.documents import packing_slip
from queries.notifications import status_text
from queries.orders import OrderDetails, order_details
from queries.review import review_flags
from services import invoices, orders
from services.orders import Change
from ui.flash import flash, forget_latest, show_latest
from ui.format import PAYMENT_BADGE, STATUS_BADGE, literal, money, when
from ui.fragments import fragment, on_its_own
from ui.order_keys import COUNTS_FRAGMENT, DIALOG, SELECTED, TABLE_FRAGMENT
from ui.resources import NOT_SAVED, OUTAGE

CARRIERS = ["UPS", "USPS", "FedEx", "DHL", "Other"]
PAST_TENSE = {
    Action.CONFIRM: "confirmed",
    Action.MARK_IN_PROGRESS: "is in progress again",
    Action.MARK_SHIPPED: "marked shipped",
    Action.COMPLETE: "completed",
    Action.CANCEL: "cancelled",
}


NO_MESSAGE = "This change sends the customer no message."
# Payment changes that send nothing by rule (failed and refunded tell the customer).
PAYMENT_SILENT = {
    PaymentStatus.PAID: "Marking an order paid sends no message.",
    PaymentStatus.PENDING: "Resetting the payment to pending sends no message.",
}
WOULD = {"email": "e-mailed", "sms": "texted"}


def notified_text(
    change: Change, dry_run: frozenset[str] = frozenset(), silent: str = NO_MESSAGE
) -> str:
    """What the customer hears of this change, true to Settings and to dry-run channels."""
    if not change.notified:
        if change.message is None:
            return silent
        return "No customer message for this change (turned off in Settings)."
    if change.notified[0].startswith("no one"):
        return "The customer could not be told: no usable e-mail or phone."
    parts = []
    for text, channel in zip(change.notified, change.channels, strict=False):
        recipient = literal(text.split(" to ", 1)[-1])
        how = WOULD.get(channel.value if channel else "", "notified")
        if channel is not None and channel.value in dry_run:
            parts.append(f"would be {how} to {recipient} (dry run: not sent)")
        else:
            parts.append(f"will be {how} to {recipient}")
    return "The customer " + " and ".join(parts) + "."


def perform(
    number: str, done: str, call: Callable[[], Change | None], silent: str = NO_MESSAGE
) -> None:
    """Run one write; its outcome is said at the top of the opened order."""
    said = said_in(number)
    try:
        change = call()
    except StaleOrder as exc:
        flash(str(exc), "warning", to=said)
    except OrderError as exc:
        flash(str(exc), "error", to=said)
    except OUTAGE:
        flash(NOT_SAVED, "error", to=said)
        # The page's run is the one that shows the database trouble page (dashboard/main.py).
        st.rerun(scope="app")
    else:
        close_forms()  # done; a refused change keeps its form open, filled in, to correct
        if change is None:
            flash(f"{number} {done}.", to=said)
        else:
            dry_run = frozenset(missing.channel for missing in bootstrap.dry_run_channels())
            flash(f"{number} {done}. {notified_text(change, dry_run, silent)}", to=said)
    # Only what a change can alter re-runs, in one run: the counts, the table, and the two
    # parts of the open order that a change rewrites (its header and actions, its history).
    # The rest of the order (customer, address, items, documents) stays as drawn: the
    # browser draws less. The message is drawn in the order, not toasted: a toast from a run
    # without the page never shows.
    forget_shown()
    st.rerun(scope=[COUNTS_FRAGMENT, TABLE_FRAGMENT, ORDER_TOP, ORDER_HISTORY])


def said_in(number: str) -> str:
    """Where the opened order's messages are shown (ui.flash.show_latest)."""
    return f"order {number}"


def show_dialog(db: Database, order_id: int, actor: str, zone: ZoneInfo) -> OrderDetails | None:
    """The opened order in a large dialog over the table: its header and buttons are in view
    wherever the table was scrolled to, on a laptop and on a phone. It stays open while
    staff act on it; closing it (its Close button, the X, Escape) closes the order."""
    details = order_details(db, order_id=order_id)
    st.session_state[SHOWN] = details
    if details is None:
        _gone()
        return None
    st.dialog(f"Order {details.number}", width="large", on_dismiss=_close)(_dialog_body)(
        db, order_id, actor, zone
    )
    return details


# The opened order as its parts last read it. The dialog reads it when it opens and its
# parts draw from that; a change made in the order drops it (`perform`), and the first part
# to run after the change reads the order again for the others.
SHOWN = "orders.details.shown"
# The parts of the opened order that a change rewrites, re-run by name after one.
ORDER_TOP = "orders.details.top"
ORDER_HISTORY = "orders.details.history"


def shown(db: Database, order_id: int) -> OrderDetails | None:
    details = st.session_state.get(SHOWN)
    if details is None or details.id != order_id:
        details = st.session_state[SHOWN] = order_details(db, order_id=order_id)
    return details


def forget_shown() -> None:
    st.session_state.pop(SHOWN, None)


def _gone() -> None:
    """The selected order is no longer there: it closes, and the page says so."""
    st.session_state[SELECTED] = None
    st.warning("That order no longer exists.")


def _still_open(order_id: int) -> None:
    """Re-run the whole page unless this order is still the open one: a close, or the editor
    opening, needs it (the table's highlight, the other dialog)."""
    if st.session_state[SELECTED] != order_id or st.session_state[DIALOG]:
        st.rerun(scope="app")


def _dialog_body(db: Database, order_id: int, actor: str, zone: ZoneInfo) -> None:
    # A click in the dialog re-runs only the dialog (an invoice being issued), or only the
    # part of it that holds the widget.
    with on_its_own():
        _still_open(order_id)
        details = shown(db, order_id)
        if details is None:
            _gone()
            return
        with st.container(border=True, key="orders.details"):
            _top(db, order_id, actor, zone)
            _documents(db, details, actor)
            _facts(details)
            _items(details)
            _history(db, order_id, zone)
            _note(db, details, actor)


@fragment(key=ORDER_TOP)
def _top(db: Database, order_id: int, actor: str, zone: ZoneInfo) -> None:
    """What a change rewrites at the top: its message, the header, the shipment and the
    actions the order's status now allows."""
    _still_open(order_id)
    details = shown(db, order_id)
    if details is None:
        st.warning("That order no longer exists.")
        return
    show_latest(said_in(details.number))
    flags = (
        review_flags(db, {details.id: details.created_at})[details.id]
        if details.status is OrderStatus.PENDING
        else []
    )
    _header(details, zone, flags)
    _shipment(details)
    _actions(db, details, actor)


@fragment(key=ORDER_HISTORY)
def _history(db: Database, order_id: int, zone: ZoneInfo) -> None:
    details = shown(db, order_id)
    if details is not None:
        _timeline(details, zone)


def _close() -> None:
    st.session_state[SELECTED] = None
    forget_shown()
    close_forms()
    forget_latest()


def _header(d: OrderDetails, zone: ZoneInfo, flags: list[str]) -> None:
    """The number, the badges and when it was placed, beside Close: few elements, as they
    are drawn again after every change."""
    badges = [
        _badge(d.status.label, STATUS_BADGE[d.status]),
        _badge(f"Payment {d.payment_status.label}", PAYMENT_BADGE[d.payment_status]),
        _badge("From the assistant", "gray", ":material/smart_toy:")
        if d.source.value == "assistant"
        else _badge("Added by hand", "gray"),
        *(_badge(flag.capitalize(), "yellow", ":material/flag:") for flag in flags),
    ]
    placed = f"Placed {when(d.created_at, zone, with_zone=True)}"
    if d.external_ref:
        placed += f" · conversation {literal(d.external_ref)}"
    with st.container(horizontal=True, vertical_alignment="top"):
        with st.container(gap="small"):
            st.subheader(d.number, anchor=False)
            st.markdown("&nbsp;".join(badges))
            st.caption(placed)
        st.button("Close", key="orders.details.close", on_click=_close, icon=":material/close:")


def _badge(label: str, color: str, icon: str | None = None) -> str:
    """A badge as st.badge writes it (a Markdown directive), so that several make one
    element."""
    label = label.replace("[", "\\[").replace("]", "\\]")
    return f":{color}-badge[{icon + ' ' if icon else ''}{label}]"


def _shipment(d: OrderDetails) -> None:
    """How it was shipped, or why it was cancelled: set by a change, so drawn with the header."""
    if d.tracking_number:
        with st.container(horizontal=True, gap="small", vertical_alignment="center"):
            st.caption(literal(f"Shipped by {d.carrier} · tracking {d.tracking_number}"))
            if d.tracking_url:
                st.link_button("Track shipment", d.tracking_url, icon=":material/open_in_new:")
    if d.cancel_reason:
        st.caption(f"Cancelled: {literal(d.cancel_reason)}")


def _actions(db: Database, d: OrderDetails, actor: str) -> None:
    with st.container(horizontal=True, gap="small", key="orders.actions"):
        for action in d.actions:
            ACTION_WIDGETS[action](db, d, actor)
        for target in allowed_payment_targets(d.payment_status):
            _payment_button(db, d, actor, target)
        if d.status in EDITABLE:
            st.button(
                "Edit Order",
                key="orders.action.edit",
                icon=":material/edit:",
                on_click=_open_editor,
                args=(d.id,),
            )


def _documents(db: Database, d: OrderDetails, actor: str) -> None:
    """The packing slip and the invoice as PDFs, drawn only when their button is clicked.

    The first invoice download issues the order's invoice number (and notes it on the
    timeline); later ones print the same number.
    """
    with st.container(horizontal=True, gap="small", key="orders.documents"):
        st.download_button(
            "Packing slip",
            data=lambda: packing_slip(db, d.id),
            file_name=f"packing-slip-{d.number}.pdf",
            mime="application/pdf",
            key="orders.document.packing_slip",
            icon=":material/package_2:",
            on_click="ignore",
        )
        st.download_button(
            "Invoice",
            data=lambda: invoices.invoice(db, order_id=d.id, actor=actor),
            file_name=f"invoice-{d.number}.pdf",
            mime="application/pdf",
            key="orders.document.invoice",
            icon=":material/receipt_long:",
            on_click=forget_shown,  # the first download issues the number (a timeline entry)
        )


def _open_editor(order_id: int) -> None:
    st.session_state[DIALOG] = ("edit", order_id)
    forget_latest()  # the order reopens after the edit, with the edit's own message


def _simple(
    action: Action, call: Callable[..., Change], primary: bool = False
) -> Callable[..., None]:
    def widget(db: Database, d: OrderDetails, actor: str) -> None:
        st.button(
            action.label,
            key=f"orders.action.{action.value}",
            type="primary" if primary else "secondary",
            on_click=perform,
            args=(
                d.number,
                PAST_TENSE[action],
                lambda: call(db, order_id=d.id, expected_version=d.version, actor=actor),
            ),
        )

    return widget


# A form in a popover is drawn only while its popover is open: the order's top is drawn
# again after every change, and a closed popover's form would be sent and drawn each time.
POPOVER = "orders.popover"
SHIP_POPOVER = f"{POPOVER}.ship"
POPOVERS = (
    SHIP_POPOVER,
    f"{POPOVER}.{Action.MARK_IN_PROGRESS.value}",
    f"{POPOVER}.{Action.CANCEL.value}",
)


def _popover(label: str, icon: str, key: str) -> PopoverContainer:
    """A popover that re-runs the order's top when it opens, to draw its form."""
    return st.popover(label, icon=icon, key=key, on_change="rerun")


def close_forms() -> None:
    """Close the order's popovers once a change is made or the order is closed, so that
    the next order opened starts with them closed."""
    for key in POPOVERS:
        if st.session_state.get(key):
            st.session_state[key] = False


SHIP = "orders.ship"
SHIP_ERRORS = "orders.ship.errors"  # (order id, {field: words}) from the last refused submit
SHIP_REQUIRED = {
    "carrier": "Carrier is required: choose one, or type its name.",
    "tracking": "Tracking number is required.",
}


def _ship(db: Database, d: OrderDetails, actor: str) -> None:
    order_id, errors = st.session_state.get(SHIP_ERRORS) or (None, {})
    errors = errors if order_id == d.id else {}
    popover = _popover("Mark Shipped", ":material/local_shipping:", SHIP_POPOVER)
    if not popover.open:
        return
    with popover:
        with st.form(SHIP, border=False):
            st.selectbox(
                "Carrier *",
                CARRIERS,
                index=None,
                placeholder="Choose a carrier",
                key=f"{SHIP}.carrier",
                accept_new_options=True,
            )
            _error_under("carrier", errors)
            st.text_input(
                "Tracking number *",
                key=f"{SHIP}.tracking",
                max_chars=100,
            )
            _error_under("tracking", errors)
            st.text_input("Tracking URL (optional)", key=f"{SHIP}.url", max_chars=500)
            unpaid = d.payment_status is not PaymentStatus.PAID
            if unpaid:
                st.checkbox(
                    f"Ship although payment is {d.payment_status.label}",
                    key=f"{SHIP}.override",
                )
            st.form_submit_button(
                "Mark Shipped", type="primary", on_click=_submit_shipped, args=(db, d, actor)
            )


def _error_under(field: str, errors: dict[str, str]) -> None:
    """The field's error right under it (a form input has no error slot of its own)."""
    if field in errors:
        with st.container(key=f"{SHIP}.{field}.error"):
            st.caption(f":red[{errors[field]}]")


def _submit_shipped(db: Database, d: OrderDetails, actor: str) -> None:
    carrier = str(st.session_state.get(f"{SHIP}.carrier") or "").strip()
    tracking = str(st.session_state.get(f"{SHIP}.tracking") or "").strip()
    missing = {
        field: words
        for field, words in SHIP_REQUIRED.items()
        if not {"carrier": carrier, "tracking": tracking}[field]
    }
    if missing:
        # Nothing is sent: the popover stays open with the words under the fields.
        st.session_state[SHIP_ERRORS] = (d.id, missing)
        return
    st.session_state.pop(SHIP_ERRORS, None)
    perform(
        d.number,
        PAST_TENSE[Action.MARK_SHIPPED],
        lambda: orders.mark_shipped(
            db,
            order_id=d.id,
            expected_version=d.version,
            actor=actor,
            carrier=carrier,
            tracking_number=tracking,
            tracking_url=st.session_state.get(f"{SHIP}.url", ""),
            ship_unpaid=bool(st.session_state.get(f"{SHIP}.override")),
        ),
    )


def _reason_form(action: Action, call: Callable[..., Change], icon: str) -> Callable[..., None]:
    def widget(db: Database, d: OrderDetails, actor: str) -> None:
        key = f"orders.{action.value}"
        popover = _popover(action.label, icon, f"{POPOVER}.{action.value}")
        if not popover.open:
            return
        with popover:
            with st.form(key, border=False):
                st.text_area("Reason", key=f"{key}.reason", max_chars=1000, height=80)
                if action is Action.CANCEL and d.payment_status is PaymentStatus.PAID:
                    st.checkbox(
                        "Refund the payment (mark it Refunded)", value=True, key=f"{key}.refund"
                    )
                st.form_submit_button(
                    action.label,
                    type="primary",
                    on_click=lambda: perform(
                        d.number,
                        PAST_TENSE[action],
                        lambda: call(
                            db,
                            order_id=d.id,
                            expected_version=d.version,
                            actor=actor,
                            reason=st.session_state.get(f"{key}.reason", ""),
                            **(
                                {"refund": bool(st.session_state.get(f"{key}.refund"))}
                                if action is Action.CANCEL
                                else {}
                            ),
                        ),
                    ),
                )

    return widget


ACTION_WIDGETS: dict[Action, Callable[[Database, OrderDetails, str], None]] = {
    Action.CONFIRM: _simple(Action.CONFIRM, orders.confirm_order, primary=True),
    Action.MARK_IN_PROGRESS: _reason_form(
        Action.MARK_IN_PROGRESS, orders.mark_in_progress, ":material/undo:"
    ),
    Action.MARK_SHIPPED: _ship,
    Action.COMPLETE: _simple(Action.COMPLETE, orders.complete_order, primary=True),
    Action.CANCEL: _reason_form(Action.CANCEL, orders.cancel_order, ":material/cancel:"),
}

PAYMENT_LABELS = {
    PaymentStatus.PAID: "Mark Paid",
    PaymentStatus.FAILED: "Mark Failed",
    PaymentStatus.REFUNDED: "Mark Refunded",
    PaymentStatus.PENDING: "Reset Payment to Pending",
}


def _payment_button(db: Database, d: OrderDetails, actor: str, target: PaymentStatus) -> None:
    st.button(
        PAYMENT_LABELS[target],
        key=f"orders.payment.{target.value}",
        on_click=perform,
        args=(
            d.number,
            f"payment marked {target.label}",
            lambda: orders.set_payment_status(
                db, order_id=d.id, expected_version=d.version, actor=actor, payment=target
            ),
            PAYMENT_SILENT.get(target, NO_MESSAGE),
        ),
    )


def _facts(d: OrderDetails) -> None:
    customer, address, summary = st.columns(3)
    with customer:
        st.markdown("**Customer**")
        st.text(f"{d.customer_name}\n{d.email}\n{d.phone or 'No phone'}")
        channel = "SMS" if d.preferred_channel == "sms" else "e-mail"
        st.caption(f"Customer ID {d.customer_code} · prefers {channel}")
    with address:
        st.markdown("**Shipping address**")
        lines = [d.street, d.apartment, f"{d.city}, {d.state} {d.zip}", d.country]
        st.text("\n".join(line for line in lines if line))
    with summary:
        st.markdown("**Summary**")
        rate = f"{d.tax_rate_bp / 100:g} %"
        rows = [
            ("Subtotal", money(d.subtotal_cents, d.currency)),
            (f"Tax ({rate})", money(d.tax_cents, d.currency)),
            ("Shipping", money(d.shipping_cents, d.currency)),
            ("Total", money(d.total_cents, d.currency)),
        ]
        # Labels and amounts are our own text (no customer input), so plain HTML is safe here.
        cells = "".join(
            f"<tr{' class=total' if label == 'Total' else ''}><td>{html.escape(label)}</td>"
            f"<td>{html.escape(value)}</td></tr>"
            for label, value in rows
        )
        st.html(f"<table class='order-summary'>{cells}</table>{SUMMARY_STYLE}")
    if d.customer_note:
        st.info(f"Customer note: {literal(d.customer_note)}", icon=":material/sticky_note_2:")


SUMMARY_STYLE = """<style>
.order-summary { border-collapse: collapse; min-width: 14rem; }
.order-summary td { padding: 0.15rem 0; border: none; }
.order-summary td:last-child { text-align: right; padding-left: 2rem; }
.order-summary tr.total td { font-weight: 700; border-top: 1px solid rgba(49, 51, 63, 0.2); }
</style>"""


def _items(d: OrderDetails) -> None:
    """The lines as a plain table: a handful of rows read at a glance, drawn at once."""
    head = "".join(f"<th>{label}</th>" for label in ITEM_HEADINGS)
    rows = "".join(
        "<tr>"
        f"<td>{html.escape(i.name)}</td><td>{html.escape(i.sku)}</td>"
        f"<td>{i.quantity}</td><td>{html.escape(money(i.unit_price_cents, d.currency))}</td>"
        f"<td>{html.escape(money(i.subtotal_cents, d.currency))}</td>"
        "</tr>"
        for i in d.items
    )
    st.html(f"<table class='order-items'><tr>{head}</tr>{rows}</table>{ITEMS_STYLE}")


ITEM_HEADINGS = ("Product", "SKU", "Quantity", "Unit price", "Line total")
ITEMS_STYLE = """<style>
.order-items { border-collapse: collapse; width: 100%; font-size: 0.875rem; }
.order-items th { text-align: left; font-weight: 600; color: rgba(49, 51, 63, 0.7); }
.order-items th, .order-items td { padding: 0.35rem 0.5rem;
  border-bottom: 1px solid rgba(49, 51, 63, 0.12); }
.order-items th:nth-child(n+3), .order-items td:nth-child(n+3) { text-align: right; }
</style>"""


EVENT_TEXT = {
    "created": "Order placed",
    "status": "Status",
    "payment": "Payment",
    "edited": "Order edited",
    "note": "Note",
    "invoice": "Invoice issued",
}


# What an edit's stored keys are called on the timeline; a key ending in "_cents" is money.
EDIT_LABELS = {
    "customer": "Customer",
    "address": "Address",
    "items": "Items",
    "total_cents": "Total",
}


def _event_line(kind: str, before: str | None, after: str | None, detail: str) -> str:
    label = EVENT_TEXT.get(kind, kind.replace("_", " ").capitalize())
    if kind in (EventKind.STATUS, EventKind.PAYMENT) and after:
        text = f"{label}: {_pretty(before)} → {_pretty(after)}"
    else:
        text = label
    return f"{text} — {detail}" if detail and kind != "created" else text


def edit_lines(detail: str, currency: str) -> list[str] | None:
    """What an edit changed, one line a field ("Total: $50.71 → $70.46"), money in the
    order's currency and unchanged fields left out; None when `detail` is not the JSON
    {field: {"from": …, "to": …}} that edits store (then it is shown as it is)."""
    try:
        changed = json.loads(detail)
    except ValueError:
        return None
    if not isinstance(changed, dict) or not all(
        isinstance(change, dict) and {"from", "to"} <= change.keys() for change in changed.values()
    ):
        return None
    lines = []
    for field, change in changed.items():
        before, after = change["from"], change["to"]
        if before == after:
            continue
        name = str(field)
        label = EDIT_LABELS.get(name) or name.removesuffix("_cents").replace("_", " ").capitalize()
        if name.endswith("_cents"):
            before, after = _as_money(before, currency), _as_money(after, currency)
        lines.append(f"{label}: {_shown(before)} → {_shown(after)}")
    return lines


def _as_money(value: object, currency: str) -> object:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return money(value, currency)
    return value


def _shown(value: object) -> str:
    return "—" if value is None or value == "" else str(value)


def _event_markdown(
    kind: str, before: str | None, after: str | None, detail: str, currency: str
) -> str:
    """The event as Markdown: an edit as its label and a short list of what changed."""
    changes = edit_lines(detail, currency) if kind == EventKind.EDITED and detail else None
    if changes is None:
        return literal(_event_line(kind, before, after, detail))
    label = literal(EVENT_TEXT["edited"])
    if not changes:
        return label
    return label + "\n\n" + "\n".join(f"- {literal(line)}" for line in changes) + "\n"


def _pretty(value: str | None) -> str:
    return (value or "—").replace("_", " ").title()


def _timeline(d: OrderDetails, zone: ZoneInfo) -> None:
    """What happened, newest first, and the messages the customer was sent: one block each."""
    timeline, messages = st.columns(2)
    entries = []
    for event in reversed(d.events):
        text = _event_markdown(
            event.kind, event.from_value, event.to_value, event.detail, d.currency
        )
        who = literal(f"{when(event.created_at, zone)} · {event.actor}")
        joiner = "\n" if text.endswith("\n") else "  \n"
        entries.append(f"{text}{joiner}:gray[{who}]")
    timeline.markdown("\n\n".join(["**Timeline**", *entries]))
    sent = []
    for n in reversed(d.notifications):
        target = literal(f"{n.channel} to {n.recipient}" if n.channel else "no channel")
        problem = f" — {literal(n.last_error)}" if n.last_error and n.status != "sent" else ""
        sent.append(
            f"{n.template.replace('_', ' ').capitalize()} · **{status_text(n.status)}**"
            f"{problem}  \n"
            f":gray[{target} · {when(n.created_at, zone)}]"
        )
    messages.markdown("\n\n".join(["**Notifications**", *sent]))
    if not d.notifications:
        messages.caption("No messages for this order yet.")


def _note(db: Database, d: OrderDetails, actor: str) -> None:
    key = "orders.note"
    with st.form(key, clear_on_submit=True, border=False):
        st.text_input("Add a note to the timeline", key=f"{key}.text", max_chars=2000)
        st.form_submit_button(
            "Add Note",
            on_click=lambda: perform(
                d.number,
                "note added",
                lambda: orders.add_note(
                    db, order_id=d.id, actor=actor, text=st.session_state.get(f"{key}.text", "")
                ),
            ),
        )
