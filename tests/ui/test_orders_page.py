"""The Orders page in AppTest, on SQLite and PostgreSQL: what a member of staff reads and does."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from db.models import Order, OrderEvent
from db.settings import store_settings
from domain.enums import Source
from domain.order import OrderStatus, PaymentStatus
from domain.settings import BusinessSettings
from queries.orders import order_details
from services import orders
from tests.builders import add_catalogue, order_data
from tests.ui.conftest import open_page, opened_order
from ui import order_detail

COLUMNS = ["Order #", "Customer", "Items", "Total", "Status", "Payment", "Date", "Actions"]


@pytest.fixture
def shop(page_db):
    add_catalogue(page_db)
    return page_db


def place(db, source=Source.MANUAL, **changes):
    return orders.create_order(db, order=order_data(**changes), actor="test", source=source)


def shipped(db):
    change = place(db)
    orders.confirm_order(db, order_id=change.order_id, expected_version=None, actor="t")
    return orders.mark_shipped(
        db,
        order_id=change.order_id,
        expected_version=None,
        actor="t",
        carrier="UPS",
        tracking_number="1Z",
        ship_unpaid=True,
    )


def run_page(**state):
    at = open_page("orders")
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def table(at):
    return at.dataframe[0].value


def select_row(at, tab: str, index: int, column: str = "Customer"):
    """Open the order in row `index` by clicking one of its cells."""
    at.session_state[f"orders.table.{tab}"] = {
        "selection": {"rows": [], "columns": [], "cells": [[index, column]]}
    }
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [t.value for t in at.text]
    parts += [c.value for c in at.caption] + [h.proto.body for h in at.html]
    return "\n".join(parts)


def button(at, label):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r}; have {[b.label for b in at.button]}"
    return matches[0]


POPOVERS = {
    "Mark Shipped": order_detail.SHIP_POPOVER,
    "Mark In Progress": f"{order_detail.POPOVER}.mark_in_progress",
    "Cancel Order": f"{order_detail.POPOVER}.cancel",
}


def open_popover(at, label: str):
    """Open the opened order's popover `label`, as a click on it does: its form is drawn
    only while it is open."""
    at.session_state[POPOVERS[label]] = True
    at.run()
    assert not at.exception, at.exception
    return at


def toasts(at) -> list[str]:
    return [t.value for t in at.toast]


# ---- header, tabs, columns ----


def test_the_page_runs_on_its_own_with_the_three_tabs_and_their_counts(shop):
    first = place(shop)
    place(shop)
    orders.confirm_order(shop, order_id=first.order_id, expected_version=None, actor="t")
    at = run_page()
    assert [t.label for t in at.tabs] == ["Pending Orders", "Current Orders", "All Orders"]
    assert [(m.label, m.value) for m in at.metric] == [
        ("Pending Orders", "1"),
        ("Current Orders", "1"),
        ("All Orders", "2"),
    ]
    assert button(at, "+ Add Order")


def test_the_table_has_the_eight_columns_of_the_spec_in_order(shop):
    place(shop, items=[{"sku": "TEA-001", "quantity": 2}, {"sku": "MUG-001", "quantity": 1}])
    frame = table(run_page())
    assert list(frame.columns) == COLUMNS
    row = frame.iloc[0]
    assert row["Order #"] == "ORD-10001"
    assert row["Customer"] == "Ada Lovelace · ada@example.com"
    assert row["Items"] == "3 · 2× Earl Grey, 1× Stoneware Mug"
    assert row["Total"] == "$50.47"  # 4200 + (198 + 148.5 → 149) tax + 500 shipping
    assert (list(row["Status"]), list(row["Payment"])) == (["Pending"], ["Pending"])
    assert row["Actions"] == "Next: Confirm Order"


def test_a_change_made_elsewhere_shows_in_the_table_on_the_next_rerun(shop):
    change = place(shop)
    at = run_page()
    at.run()  # the same rows again: the table is drawn from the frame it kept
    assert list(table(at).iloc[0]["Payment"]) == ["Pending"]
    orders.set_payment_status(
        shop, order_id=change.order_id, expected_version=None, actor="t", payment="paid"
    )
    at.run()
    assert list(table(at).iloc[0]["Payment"]) == ["Paid"]


def test_statuses_are_coloured_as_the_design_says(shop):
    place(shop)
    columns = json.loads(run_page().dataframe[0].proto.columns)
    status = columns["Status"]
    colours = {option["value"]: option["color"] for option in status["type_config"]["options"]}
    assert colours == {
        "Pending": "#d97706",  # amber
        "In Progress": "#2563eb",  # blue
        "Shipped": "#7c3aed",  # violet
        "Completed": "#16a34a",  # green
        "Cancelled": "#dc2626",  # red
    }


def test_dates_are_shown_in_the_business_time_zone(shop):
    with shop.writing() as session:
        store_settings(session, BusinessSettings(timezone="America/New_York"))
        session.commit()
    change = place(shop)
    with shop.writing() as session:
        session.execute(
            update(Order)
            .where(Order.id == change.order_id)
            .values(created_at=datetime(2026, 7, 4, 16, 30, tzinfo=UTC))
        )
        session.commit()
    assert table(run_page()).iloc[0]["Date"] == "2026-07-04 12:30"


def test_a_new_shop_is_told_how_to_start_and_can_load_sample_data(page_db):
    at = run_page()
    assert "No orders yet." in texts(at)
    button(at, "Load sample data").click().run()
    assert not at.exception
    assert int(at.metric[2].value) == 40
    assert any("Loaded 40 sample orders" in t for t in toasts(at))


# ---- tabs and filters ----


def test_the_current_tab_shows_in_progress_and_shipped_orders_only(shop):
    a, b, _ = place(shop), place(shop), place(shop)
    orders.confirm_order(shop, order_id=a.order_id, expected_version=None, actor="t")
    orders.confirm_order(shop, order_id=b.order_id, expected_version=None, actor="t")
    orders.mark_shipped(
        shop,
        order_id=b.order_id,
        expected_version=None,
        actor="t",
        carrier="UPS",
        tracking_number="1Z",
        ship_unpaid=True,
    )
    at = run_page(**{"orders.tab": "Current Orders"})
    frame = table(at)
    assert sorted(label for (label,) in frame["Status"]) == ["In Progress", "Shipped"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("ORD-10002", ["ORD-10002"]),
        ("grace", ["ORD-10002"]),
        ("HOPPER@example", ["ORD-10002"]),
        ("4155552671", ["ORD-10001"]),
        ("ada lovelace", ["ORD-10001"]),
        ("%", []),  # a literal, not a wildcard
        ("_", []),
    ],
)
def test_text_search_finds_number_name_email_and_phone(shop, search, expected):
    place(shop)
    place(
        shop, customer={"first_name": "Grace", "last_name": "Hopper", "email": "hopper@example.com"}
    )
    at = run_page(**{"orders.tab": "All Orders"})
    at.text_input(key="orders.search").input(search).run()
    shown = list(table(at)["Order #"]) if at.dataframe else []
    assert shown == expected


def test_status_payment_and_source_filters_combine(shop):
    a = place(shop)
    place(shop, source=Source.ASSISTANT)
    orders.set_payment_status(
        shop, order_id=a.order_id, expected_version=None, actor="t", payment="paid"
    )
    at = run_page(**{"orders.tab": "All Orders"})
    at.multiselect(key="orders.payment").set_value([PaymentStatus.PAID]).run()
    assert list(table(at)["Order #"]) == ["ORD-10001"]
    at.multiselect(key="orders.payment").set_value([]).run()
    at.multiselect(key="orders.source").set_value([Source.ASSISTANT]).run()
    assert list(table(at)["Order #"]) == ["ORD-10002"]
    at.multiselect(key="orders.status.all").set_value([OrderStatus.CANCELLED]).run()
    assert not at.dataframe
    assert "No orders match these filters" in at.info[0].value


def test_the_date_filter_uses_whole_days(shop):
    change = place(shop)
    place(shop)
    with shop.writing() as session:
        session.execute(
            update(Order)
            .where(Order.id == change.order_id)
            .values(created_at=datetime(2026, 3, 1, 12, tzinfo=UTC))
        )
        session.commit()
    at = run_page(**{"orders.tab": "All Orders"})
    at.date_input(key="orders.dates").set_value(
        (datetime(2026, 3, 1).date(), datetime(2026, 3, 1).date())
    ).run()
    assert list(table(at)["Order #"]) == ["ORD-10001"]


def test_pages_of_fifty_with_next_and_previous(shop):
    from db.seed import seed_orders

    seed_orders(shop, 60, batch=60)
    at = run_page(**{"orders.tab": "All Orders"})
    assert len(table(at)) == 50
    assert "1–50 of 60 orders · page 1 of 2" in texts(at)
    button(at, "Next page").click().run()
    assert len(table(at)) == 10
    button(at, "Previous page").click().run()
    assert len(table(at)) == 50


def test_back_to_the_first_page_shows_orders_placed_meanwhile(shop):
    from db.seed import seed_orders

    seed_orders(shop, 60, batch=60)
    at = run_page(**{"orders.tab": "All Orders"})
    button(at, "Next page").click().run()
    newest = place(shop)
    button(at, "Previous page").click().run()
    assert table(at)["Order #"].iloc[0] == newest.number
    assert "1–50 of 61 orders · page 1 of 2" in texts(at)


# ---- selecting and acting ----


def test_selecting_a_row_opens_the_order_with_everything_staff_need(shop):
    place(shop, conversation_ref="chat-77")
    at = select_row(run_page(), "pending", 0)
    assert at.subheader[0].value == "ORD-10001"
    body = texts(at)
    for expected in (
        "Ada Lovelace",
        "ada@example.com",
        "+14155552671",
        "CUS-000001",
        "1 Main St",
        "Springfield, IL 62701",
        "$24.00",
        "$1.98",
        "$5.00",
        "$30.98",
        "chat-77",
        "Order placed",
        "test",
    ):
        assert expected in body, expected
    (items,) = [h.proto.body for h in at.html if "order-items" in h.proto.body]
    assert "<td>Earl Grey</td><td>TEA-001</td><td>2</td>" in items
    assert at.query_params["order"] == "ORD-10001"


def test_only_the_allowed_actions_are_offered(shop):
    place(shop)
    labels = choices_in(select_row(run_page(), "pending", 0), "orders.actions")
    assert "Confirm Order" in labels and "Cancel Order" in labels
    assert "Complete Order" not in labels and "Mark Shipped" not in labels
    assert "Mark Paid" in labels and "Mark Failed" in labels and "Mark Refunded" not in labels


def test_confirming_an_order_moves_it_and_says_the_customer_will_be_told(shop):
    change = place(shop)
    at = select_row(run_page(), "pending", 0)
    button(at, "Confirm Order").click().run()
    assert not at.exception
    assert order_details(shop, order_id=change.order_id).status is OrderStatus.IN_PROGRESS
    said = [s.value for s in opened_order(at).success if "ORD-10001 confirmed" in s.value]
    assert said and "e-mailed to ada@example.com" in said[0]
    assert at.metric[0].value == "0" and at.metric[1].value == "1"


def test_a_confirm_in_the_open_order_updates_the_counts_and_the_table_and_keeps_it_open(
    shop, dry_run
):
    confirmed, waiting = place(shop), place(shop)
    at = select_row(run_page(), "pending", 1)  # newest first: ORD-10001 is the second row
    assert at.subheader[0].value == "ORD-10001"
    assert list(table(at)["Order #"]) == ["ORD-10002", "ORD-10001"]

    button(at, "Confirm Order").click().run()
    assert not at.exception, at.exception
    assert order_details(shop, order_id=confirmed.order_id).status is OrderStatus.IN_PROGRESS
    assert [(m.label, m.value) for m in at.metric] == [
        ("Pending Orders", "1"),
        ("Current Orders", "1"),
        ("All Orders", "2"),
    ]
    assert list(table(at)["Order #"]) == ["ORD-10002"]  # it left the Pending tab
    assert "1–1 of 1 orders · page 1 of 1" in texts(at)  # the pager's total, from the counts
    # Still open, showing the change, the confirmation in it; the link still names it.
    assert at.session_state["orders.selected_id"] == confirmed.order_id
    assert at.subheader[0].value == "ORD-10001"
    order = opened_order(at)
    assert "[In Progress]" in " ".join(m.value for m in order.markdown)
    assert "Confirm Order" not in [b.label for b in order.button]
    said = [s.value for s in order.success]
    assert said == [
        "ORD-10001 confirmed. The customer would be e-mailed to ada@example.com "
        "(dry run: not sent)."
    ]
    assert at.query_params["order"] == "ORD-10001"
    assert order_details(shop, order_id=waiting.order_id).status is OrderStatus.PENDING


def test_a_change_in_the_open_order_redraws_only_the_parts_it_rewrites(shop, dry_run):
    """Its top and its history are sent again; the customer, address, items and documents,
    which a status change leaves as they were, are not (the browser keeps them)."""
    place(shop)
    at = select_row(run_page(), "pending", 0)
    assert "**Shipping address**" in [m.value for m in opened_order(at).markdown]
    button(at, "Confirm Order").click().run()
    order = opened_order(at)
    drawn = [m.value for m in order.markdown]
    assert any("[In Progress]" in text for text in drawn)  # the header
    assert any(text.startswith("**Timeline**") and "In Progress" in text for text in drawn)
    assert "**Shipping address**" not in drawn and "**Customer**" not in drawn
    assert not order.get("html")  # the summary and the items
    assert "Packing slip" not in [b.label for b in order.get("download_button")]


def test_the_message_in_the_open_order_is_the_last_changes_and_goes_when_it_is_closed(shop):
    place(shop)
    at = select_row(run_page(), "pending", 0)
    button(at, "Confirm Order").click().run()
    assert [s.value for s in opened_order(at).success][0].startswith("ORD-10001 confirmed.")
    at.run()  # a re-run for anything else: the message stays until the next change
    assert [s.value for s in opened_order(at).success][0].startswith("ORD-10001 confirmed.")
    button(at, "Mark Paid").click().run()
    assert [s.value for s in opened_order(at).success] == [
        "ORD-10001 payment marked Paid. Marking an order paid sends no message."
    ]
    button(at, "Close").click().run()
    assert not at.subheader
    at.session_state["orders.tab"] = "Current Orders"
    at = select_row(at.run(), "current", 0)  # opened again: nothing said yet
    assert at.subheader[0].value == "ORD-10001"
    assert not opened_order(at).success


def test_shipping_asks_for_tracking_and_an_override_when_unpaid(shop):
    change = place(shop)
    orders.confirm_order(shop, order_id=change.order_id, expected_version=None, actor="t")
    at = select_row(run_page(**{"orders.tab": "Current Orders"}), "current", 0)
    open_popover(at, "Mark Shipped")
    at.selectbox(key="orders.ship.carrier").select("UPS")  # none is chosen for you
    at.text_input(key="orders.ship.tracking").input("1Z999")
    button(at, "Mark Shipped").click().run()
    assert order_details(shop, order_id=change.order_id).status is OrderStatus.IN_PROGRESS
    assert any("Confirm the override" in e.value for e in at.error)
    at.text_input(key="orders.ship.tracking").input("1Z999")
    at.checkbox(key="orders.ship.override").check()
    button(at, "Mark Shipped").click().run()
    details = order_details(shop, order_id=change.order_id)
    assert (details.status, details.carrier, details.tracking_number) == (
        OrderStatus.SHIPPED,
        "UPS",
        "1Z999",
    )


def error_under(at, field_key: str) -> str | None:
    """The words in the error container that sits right under the input `field_key`
    (`<field_key>.error`), or None when there is none there."""
    for block in at._tree:  # every root: the dialogs are not in `at.main`
        children = list(getattr(block, "children", {}).values())
        for index, child in enumerate(children):
            if getattr(child, "key", None) != field_key:
                continue
            following = children[index + 1] if index + 1 < len(children) else None
            if getattr(following, "key", None) != f"{field_key}.error":
                return None
            return " ".join(c.value for c in following if c.type == "caption")
    raise AssertionError(f"no input {field_key!r}")


def test_mark_shipped_names_carrier_and_tracking_as_required_under_each_field(shop):
    change = place(shop)
    orders.confirm_order(shop, order_id=change.order_id, expected_version=None, actor="t")
    orders.set_payment_status(
        shop, order_id=change.order_id, expected_version=None, actor="t", payment="paid"
    )
    at = select_row(run_page(**{"orders.tab": "Current Orders"}), "current", 0)
    assert not opened_order(at).selectbox, "the form is drawn when its popover opens"
    open_popover(at, "Mark Shipped")
    carrier = at.selectbox(key="orders.ship.carrier")
    assert carrier.value is None and carrier.placeholder == "Choose a carrier"
    assert carrier.label == "Carrier *"
    assert at.text_input(key="orders.ship.tracking").label == "Tracking number *"
    assert error_under(at, "orders.ship.carrier") is None

    button(at, "Mark Shipped").click().run()
    assert not at.exception, at.exception
    assert order_details(shop, order_id=change.order_id).status is OrderStatus.IN_PROGRESS
    assert "Carrier is required" in error_under(at, "orders.ship.carrier")
    assert "Tracking number is required" in error_under(at, "orders.ship.tracking")
    assert not toasts(at)

    at.selectbox(key="orders.ship.carrier").select("DHL")
    at.text_input(key="orders.ship.tracking").input("   ")
    button(at, "Mark Shipped").click().run()
    assert error_under(at, "orders.ship.carrier") is None
    assert "Tracking number is required" in error_under(at, "orders.ship.tracking")
    assert order_details(shop, order_id=change.order_id).status is OrderStatus.IN_PROGRESS

    at.text_input(key="orders.ship.tracking").input("JD014600006281234567")
    button(at, "Mark Shipped").click().run()
    details = order_details(shop, order_id=change.order_id)
    assert (details.status, details.carrier, details.tracking_number) == (
        OrderStatus.SHIPPED,
        "DHL",
        "JD014600006281234567",
    )


def test_completing_a_shipped_order(shop):
    change = shipped(shop)
    at = select_row(run_page(**{"orders.tab": "Current Orders"}), "current", 0)
    button(at, "Complete Order").click().run()
    assert order_details(shop, order_id=change.order_id).status is OrderStatus.COMPLETED


def test_a_shipment_can_come_back_in_progress_with_a_reason(shop):
    change = shipped(shop)
    at = select_row(run_page(**{"orders.tab": "Current Orders"}), "current", 0)
    open_popover(at, "Mark In Progress")
    at.text_area(key="orders.mark_in_progress.reason").input("Returned to sender")
    button(at, "Mark In Progress").click().run()
    details = order_details(shop, order_id=change.order_id)
    assert details.status is OrderStatus.IN_PROGRESS
    assert details.events[-1].detail == "Returned to sender"


def test_cancelling_a_paid_order_offers_a_refund(shop):
    change = place(shop)
    orders.set_payment_status(
        shop, order_id=change.order_id, expected_version=None, actor="t", payment="paid"
    )
    at = open_popover(select_row(run_page(), "pending", 0), "Cancel Order")
    assert at.checkbox(key="orders.cancel.refund").value is True
    at.text_area(key="orders.cancel.reason").input("Customer asked")
    button(at, "Cancel Order").click().run()
    details = order_details(shop, order_id=change.order_id)
    assert (details.status, details.payment_status) == (
        OrderStatus.CANCELLED,
        PaymentStatus.REFUNDED,
    )


def test_a_cancel_without_reason_is_refused_in_plain_words(shop):
    change = place(shop)
    at = open_popover(select_row(run_page(), "pending", 0), "Cancel Order")
    button(at, "Cancel Order").click().run()
    assert order_details(shop, order_id=change.order_id).status is OrderStatus.PENDING
    assert any("Please give a reason" in e.value for e in at.error)


def test_payment_buttons_record_the_payment(shop):
    change = place(shop)
    at = select_row(run_page(), "pending", 0)
    button(at, "Mark Paid").click().run()
    assert order_details(shop, order_id=change.order_id).payment_status is PaymentStatus.PAID
    assert "Mark Refunded" in [b.label for b in at.button]


def test_a_write_on_an_order_changed_meanwhile_is_refused_and_reloaded(shop):
    change = place(shop)
    at = open_popover(select_row(run_page(), "pending", 0), "Cancel Order")
    # A colleague confirms it while this page still shows it as Pending.
    orders.confirm_order(
        shop, order_id=change.order_id, expected_version=change.version, actor="colleague"
    )
    at.text_area(key="orders.cancel.reason").input("mistake")
    button(at, "Cancel Order").click().run()
    details = order_details(shop, order_id=change.order_id)
    assert details.status is OrderStatus.IN_PROGRESS
    assert [e.actor for e in details.events].count("colleague") == 1
    assert any("changed — reloaded" in w.value for w in at.warning)


def test_a_note_goes_on_the_timeline_with_its_author(shop):
    change = place(shop)
    at = select_row(run_page(), "pending", 0)
    at.text_input(key="orders.note.text").input("Gift wrap please")
    button(at, "Add Note").click().run()
    event = order_details(shop, order_id=change.order_id).events[-1]
    assert (event.kind, event.detail) == ("note", "Gift wrap please")
    assert "Gift wrap please" in texts(at)


def test_closing_the_order_clears_the_link(shop):
    place(shop)
    at = select_row(run_page(), "pending", 0)
    button(at, "Close").click().run()
    assert not at.subheader
    assert "order" not in at.query_params


def test_a_deep_link_opens_that_order(shop):
    place(shop)
    place(shop)
    at = open_page("orders")
    at.query_params["order"] = "ORD-10002"
    at.run()
    assert at.subheader[0].value == "ORD-10002"


def test_a_deep_link_to_a_missing_order_says_so(shop):
    at = open_page("orders")
    at.query_params["order"] = "ORD-99999"
    at.run()
    assert any("There is no order ORD-99999" in w.value for w in at.warning)


# ---- live updates ----


def test_a_new_assistant_order_appears_with_a_toast_without_a_reload(shop):
    place(shop)
    at = run_page()
    place(shop, source=Source.ASSISTANT, customer__first_name="Marie")
    at.run()
    assert any(
        "New order ORD-10002 from Marie Lovelace (via the assistant)" in t for t in toasts(at)
    )
    assert at.metric[0].value == "2"


def test_a_rerun_looks_for_new_orders_only_when_there_are_newer_ones(shop, monkeypatch):
    from queries import orders as queries

    looks: list[int] = []
    real = queries.orders_after

    def counted(db, *, after_id, up_to=None, limit=5):
        looks.append(after_id)
        return real(db, after_id=after_id, up_to=up_to, limit=limit)

    monkeypatch.setattr(queries, "orders_after", counted)
    place(shop)
    at = run_page()
    at.run()
    at.run()
    assert looks == []  # the page read the newest order id: nothing newer than announced
    place(shop, source=Source.ASSISTANT, customer__first_name="Marie")
    at.run()
    assert len(looks) == 1
    assert any("New order ORD-10002 from Marie Lovelace" in t for t in toasts(at))


def test_a_whole_page_run_announces_new_orders_without_running_again(shop, monkeypatch):
    """Under a steady stream of orders a run that re-ran the page whenever it found a newer
    one would never end; the page announces what it read and comes to rest."""
    from queries import orders as queries

    place(shop)
    at = run_page()
    real = queries.orders_after

    def while_the_page_runs(db, *, after_id, up_to=None, limit=5):
        place(shop, source=Source.ASSISTANT)  # another order lands during every look
        return real(db, after_id=after_id, up_to=up_to, limit=limit)

    monkeypatch.setattr(queries, "orders_after", while_the_page_runs)
    place(shop, source=Source.ASSISTANT, customer__first_name="Marie")
    at.run()
    assert not at.exception
    assert [t for t in toasts(at) if "New order" in t] == [
        "New order ORD-10002 from Marie Lovelace (via the assistant)."
    ]
    assert at.metric[2].value == "2"  # what this run read; the order placed meanwhile waits


# ---- the Add Order dialog ----


def open_dialog(at):
    button(at, "+ Add Order").click().run()
    assert not at.exception, at.exception
    return at


def fill_customer(at, **values):
    defaults = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@example.com",
        "phone": "",
    }
    for name, value in {**defaults, **values}.items():
        at.text_input(key=f"orders.form.{name}").input(value)


def test_the_add_order_dialog_walks_through_customer_products_and_shipping(shop):
    at = open_dialog(run_page())
    assert any(m.value.startswith("**1. Customer**") for m in at.markdown)
    fill_customer(at)
    button(at, "Next").click().run()
    at.selectbox(key="orders.form.product").set_value("MUG-001")
    at.number_input(key="orders.form.add_qty").set_value(2)
    button(at, "Add").click().run()
    assert [m.value for m in at.metric if m.label == "Total"][
        -1
    ] == "$43.97"  # 3600 + 297 tax + 500 shipping
    button(at, "Next").click().run()
    for name, value in {
        "street": "9 Navy Yard",
        "city": "Arlington",
        "state": "VA",
        "zip": "22202",
    }.items():
        at.text_input(key=f"orders.form.{name}").input(value)
    button(at, "Create Order").click().run()
    assert not at.exception, at.exception
    with shop.reading() as session:
        order = session.scalar(select(Order))
    assert (order.customer_email, order.ship_city, order.total_cents) == (
        "grace@example.com",
        "Arlington",
        4397,
    )
    assert order.status is OrderStatus.PENDING
    assert any("ORD-10001 added to Pending" in t for t in toasts(at))
    assert at.subheader[0].value == "ORD-10001"


def test_missing_customer_fields_are_named_and_nothing_typed_is_lost(shop):
    at = open_dialog(run_page())
    fill_customer(at, last_name="", email="not-an-email")
    button(at, "Next").click().run()
    errors = [c.value for c in at.caption]
    assert any("Last Name is required" in e for e in errors)
    assert any("Email is not a valid e-mail address" in e for e in errors)
    assert at.text_input(key="orders.form.first_name").value == "Grace"
    at.text_input(key="orders.form.last_name").input("Hopper")
    at.text_input(key="orders.form.email").input("grace@example.com")
    button(at, "Next").click().run()
    button(at, "Back").click().run()
    assert at.text_input(key="orders.form.last_name").value == "Hopper"


def test_the_form_refuses_invisible_or_hidden_text_and_a_phone_extension_beside_the_field(shop):
    at = open_dialog(run_page())
    fill_customer(
        at, first_name="\u200b\u2060", last_name="\u202eecalevoL", phone="+1 415 555 2671 ext. 12"
    )
    button(at, "Next").click().run()
    errors = " ".join(c.value for c in at.caption)
    assert "First Name must contain visible text" in errors
    assert "Last Name must not contain text-direction controls" in errors
    assert "Phone\\: has an extension" in errors
    assert any(m.value.startswith("**1. Customer**") for m in at.markdown)


def test_editing_an_order_with_an_unknown_country_says_so_on_the_shipping_step(shop):
    change = place(shop)
    with shop.writing() as session:
        session.execute(update(Order).values(ship_country="XX"))
        session.commit()
    at = select_row(run_page(), "pending", 0)
    button(at, "Edit Order").click().run()
    button(at, "Next").click().run()
    button(at, "Next").click().run()
    button(at, "Save Changes").click().run()
    assert not at.exception, at.exception
    errors = " ".join(c.value for c in at.caption)
    assert "Country XX is not an ISO 3166 country code" in errors
    assert order_details(shop, order_id=change.order_id).version == change.version


def test_products_are_needed_before_shipping(shop):
    at = open_dialog(run_page())
    fill_customer(at)
    button(at, "Next").click().run()
    button(at, "Next").click().run()
    assert any("add at least one product" in c.value for c in at.caption)


def test_shipping_fields_are_required(shop):
    at = open_dialog(run_page())
    fill_customer(at)
    button(at, "Next").click().run()
    at.selectbox(key="orders.form.product").set_value("TEA-001")
    button(at, "Add").click().run()
    button(at, "Next").click().run()
    button(at, "Create Order").click().run()
    errors = " ".join(c.value for c in at.caption)
    for label in ("Street Address", "City", "State", "ZIP Code"):
        assert f"{label} is required" in errors
    with shop.reading() as session:
        assert session.scalar(select(Order)) is None


def to_shipping_step(at):
    fill_customer(at)
    button(at, "Next").click().run()
    at.selectbox(key="orders.form.product").set_value("TEA-001")
    button(at, "Add").click().run()
    button(at, "Next").click().run()
    for name, value in {"street": "1 Pine Rd", "city": "Portland"}.items():
        at.text_input(key=f"orders.form.{name}").input(value)
    return at


def test_a_made_up_zip_and_state_are_refused_under_their_fields_in_the_add_dialog(shop):
    at = to_shipping_step(open_dialog(run_page()))
    at.text_input(key="orders.form.state").input("Oregonia")
    at.text_input(key="orders.form.zip").input("ABCDE")
    button(at, "Create Order").click().run()
    assert not at.exception, at.exception
    zip_error = error_under(at, "orders.form.zip")
    assert "ZIP Code is not a valid postal code for United States" in zip_error
    assert "5 digits or ZIP+4" in zip_error
    assert "State is not a state or province of United States" in error_under(
        at, "orders.form.state"
    )
    assert error_under(at, "orders.form.city") is None
    with shop.reading() as session:
        assert session.scalar(select(Order)) is None

    at.text_input(key="orders.form.state").input("oregon")
    at.text_input(key="orders.form.zip").input("97205 1234")
    button(at, "Create Order").click().run()
    assert not at.exception, at.exception
    with shop.reading() as session:
        order = session.scalar(select(Order))
    assert (order.ship_state, order.ship_zip) == ("OR", "97205-1234")


def test_the_shipping_step_judges_an_address_by_the_shops_country(shop):
    with shop.writing() as session:
        store_settings(session, BusinessSettings(default_country="CA"))
        session.commit()
    at = to_shipping_step(open_dialog(run_page()))
    # The empty fields show Canadian examples, not American ones.
    assert at.text_input(key="orders.form.state").placeholder == "Code or name: AB, Alberta"
    assert at.text_input(key="orders.form.zip").placeholder == "K1A 0B1"
    at.text_input(key="orders.form.state").input("Oregon")
    at.text_input(key="orders.form.zip").input("97205")
    button(at, "Create Order").click().run()
    assert "State is not a state or province of Canada" in error_under(at, "orders.form.state")
    assert "ZIP Code is not a valid postal code for Canada" in error_under(at, "orders.form.zip")


def test_editing_an_order_refuses_a_made_up_zip_under_the_field(shop):
    change = place(shop)
    at = select_row(run_page(), "pending", 0)
    button(at, "Edit Order").click().run()
    button(at, "Next").click().run()
    button(at, "Next").click().run()
    at.text_input(key="orders.form.zip").input("ABCDE")
    button(at, "Save Changes").click().run()
    assert not at.exception, at.exception
    assert "ZIP Code is not a valid postal code" in error_under(at, "orders.form.zip")
    assert order_details(shop, order_id=change.order_id).version == change.version


def test_selecting_a_contact_fills_the_customer_fields(shop):
    place(shop)
    at = open_dialog(run_page())
    contact_id = at.selectbox(key="orders.form.contact").options[0]
    at.selectbox(key="orders.form.contact").select_index(0).run()
    assert at.text_input(key="orders.form.email").value == "ada@example.com"
    assert at.text_input(key="orders.form.first_name").value == "Ada"
    del contact_id


def test_editing_an_order_prefills_the_form_and_recomputes_the_totals(shop):
    change = place(shop)
    at = select_row(run_page(), "pending", 0)
    button(at, "Edit Order").click().run()
    assert at.text_input(key="orders.form.email").value == "ada@example.com"
    button(at, "Next").click().run()
    at.number_input(key="orders.form.qty.TEA-001").set_value(5).run()
    button(at, "Next").click().run()
    assert at.text_input(key="orders.form.city").value == "Springfield"
    button(at, "Save Changes").click().run()
    assert not at.exception, at.exception
    details = order_details(shop, order_id=change.order_id)
    assert details.subtotal_cents == 6000 and details.total_cents == 6000 + 495 + 500
    assert details.events[-1].kind == "edited"


# ---- an edit on the timeline ----


def timeline(at) -> list[str]:
    """The timeline's edits, each from its label to its byline (the timeline is one block)."""
    (block,) = [m.value for m in at.markdown if m.value.startswith("**Timeline**")]
    return re.findall(r"Order edited.*?:gray\[[^\]]*\]", block, flags=re.S)


def test_an_edit_shows_on_the_timeline_as_a_list_of_what_changed(shop):
    change = place(shop)
    orders.edit_order(
        shop,
        order_id=change.order_id,
        expected_version=change.version,
        actor="t",
        changes=order_data(
            items=[{"sku": "TEA-001", "quantity": 2}, {"sku": "MUG-001", "quantity": 1}],
            shipping__city="Chicago",
            shipping__zip="60601",
        ),
    )
    [edit] = timeline(select_row(run_page(), "pending", 0))
    lines = edit.split("\n")
    assert lines[0] == "Order edited"
    changes = [line for line in lines if line.startswith("- ")]
    assert changes == [
        "- Address\\: 1 Main St, Apt 4, Springfield, IL, 62701, US → "
        "1 Main St, Apt 4, Chicago, IL, 60601, US",
        "- Items\\: 2× Earl Grey → 2× Earl Grey, 1× Stoneware Mug",
        "- Total\\: \\$30.98 → \\$50.47",
    ]
    assert "Customer" not in edit and "total_cents" not in edit  # unchanged: left out


def test_an_edit_stored_before_is_shown_the_same_way_in_the_orders_currency(shop):
    change = place(shop)
    old_detail = {
        "customer": {"from": "Ada Lovelace <ada@example.com>", "to": "Ada King <ada@example.com>"},
        "total_cents": {"from": 5071, "to": 7046},
        "items": {"from": "1× Tea", "to": "1× Tea"},
    }
    with shop.writing() as session:
        session.execute(update(Order).values(currency="EUR"))
        session.add(
            OrderEvent(
                order_id=change.order_id,
                kind="edited",
                actor="before",
                detail=json.dumps(old_detail),
                created_at=datetime.now(UTC),
            )
        )
        session.commit()
    [edit] = timeline(select_row(run_page(), "pending", 0))
    assert "- Customer\\: Ada Lovelace \\<ada@example.com> → Ada King" in edit
    assert "- Total\\: €50.71 → €70.46" in edit
    assert "Items" not in edit  # from == to: not a change
    assert "{" not in edit and "total_cents" not in edit


def test_an_edit_detail_that_is_not_json_is_shown_as_it_is(shop):
    change = place(shop)
    with shop.writing() as session:
        session.add(
            OrderEvent(
                order_id=change.order_id,
                kind="edited",
                actor="before",
                detail="address changed by phone",
                created_at=datetime.now(UTC),
            )
        )
        session.commit()
    [edit] = timeline(select_row(run_page(), "pending", 0))
    assert edit.startswith("Order edited — address changed by phone")


# ---- review help on Pending ----


def test_pending_orders_carry_review_flags_in_the_table_and_the_details(shop):
    place(shop, source=Source.ASSISTANT, items=[{"sku": "TEA-001", "quantity": 25}])
    place(shop, source=Source.ASSISTANT, items=[{"sku": "TEA-001", "quantity": 25}])
    frame = table(run_page())
    newest = frame.iloc[0]["Actions"]
    assert newest.startswith("⚑ ") and "possible duplicate" in newest
    assert "large quantity" in newest
    assert "first order" in frame.iloc[1]["Actions"]
    at = select_row(run_page(), "pending", 0)
    badges = " ".join(m.value for m in at.markdown)
    assert "Possible duplicate" in badges and "Large quantity" in badges


def test_an_export_runs_with_progress_and_offers_a_one_time_download_link(shop, monkeypatch):
    from zoneinfo import ZoneInfo

    from streamlit.delta_generator import DeltaGenerator

    import bootstrap
    from queries.order_export import export_csv
    from queries.orders import OrderFilter, Tab

    for n in range(3):
        place(shop, customer__email=f"c{n}@example.com")
    monkeypatch.setattr("queries.order_export.CHUNK", 1)  # progress after every row
    shown: list[str] = []
    progress = DeltaGenerator.progress

    def recording(self, value, text=None):
        shown.append(text)
        return progress(self, value, text=text)

    monkeypatch.setattr(DeltaGenerator, "progress", recording)
    at = run_page()
    at.button(key="orders.export.orders.csv.pending").click().run()
    assert not at.exception, at.exception
    assert shown == [  # (the bar's first text, "Exporting 3 rows…", comes from st.progress)
        "Exported 1 of 3 rows…",
        "Exported 2 of 3 rows…",
        "Exported 3 of 3 rows…",
    ]
    [link] = at.get("link_button")
    file_name = f"orders-pending-{datetime.now().date().isoformat()}.csv"
    assert link.proto.label == f"Download {file_name}"
    token = link.proto.url.removeprefix("/exports/")
    found = bootstrap.export_files.take(token)
    assert found is not None and found.file_name == file_name
    zone = ZoneInfo("UTC")
    assert found.path.read_bytes() == export_csv(
        shop, kind="orders", tab=Tab.PENDING, filters=OrderFilter(), zone=zone
    )
    found.path.unlink()
    at.text_input(key="orders.search").input("c1@example.com").run()
    assert not at.get("link_button")  # its link was for the view before this search


def test_the_order_offers_its_packing_slip_and_invoice_without_issuing_one(shop):
    change = place(shop)
    at = select_row(run_page(), "pending", 0)
    assert not at.exception
    labels = [element.proto.label for element in at.get("download_button")]
    assert labels == ["Packing slip", "Invoice"]
    with shop.reading() as session:
        # Drawn on click: opening the order gives it no invoice number.
        assert session.get(Order, change.order_id).invoice_number is None


# ---- opening by any cell, the dialog, the deep link's tab ----


def test_any_cell_of_a_row_opens_its_order_and_the_page_says_so(shop):
    place(shop)
    place(shop)
    at = run_page()
    assert any(
        "Click any cell of an order, or its next step under Actions, to open it" in c.value
        for c in at.caption
    )
    at = select_row(at, "pending", 1, column="Total")
    assert at.subheader[0].value == "ORD-10001"


def test_a_change_in_the_opened_order_updates_table_and_counts_and_keeps_it_open(shop):
    place(shop)
    at = select_row(run_page(**{"orders.tab": "All Orders"}), "all", 0)
    button(at, "Confirm Order").click().run()
    assert at.subheader[0].value == "ORD-10001"  # still open
    assert "In Progress" in " ".join(m.value for m in at.markdown)
    assert list(table(at).iloc[0]["Status"]) == ["In Progress"]
    assert at.metric[0].value == "0" and at.metric[1].value == "1"


def test_the_actions_column_names_the_next_step(shop):
    change = place(shop)
    shipped(shop)
    orders.cancel_order(
        shop, order_id=change.order_id, expected_version=None, actor="t", reason="gone"
    )
    frame = table(run_page(**{"orders.tab": "All Orders"}))
    assert list(frame["Actions"]) == ["Next: Complete Order", "—"]


def test_a_deep_link_to_a_completed_order_opens_it_under_all_orders(shop):
    change = shipped(shop)
    orders.complete_order(shop, order_id=change.order_id, expected_version=None, actor="t")
    at = open_page("orders")
    at.query_params["order"] = change.number
    at.run()
    assert at.subheader[0].value == change.number
    assert at.session_state["orders.tab"] == "All Orders"
    assert len(table(at)) == 1


# ---- the bulk bar ----


def tick(at, tab: str, rows: list[int]):
    at.session_state[f"orders.table.{tab}"] = {
        "selection": {"rows": rows, "columns": [], "cells": []}
    }
    at.run()
    assert not at.exception, at.exception
    return at


def bulk_choices(at) -> list[str]:
    """The bulk bar's buttons and popovers (not what is inside them), by label, in order."""
    return choices_in(at, "orders.bulk")


def choices_in(at, container_key: str) -> list[str]:
    """The buttons and popovers (not what is inside them) in the containers whose key
    holds `container_key`, by label, in order."""
    found: list[str] = []

    def walk(node, inside: bool) -> None:
        kind = type(node).__name__
        if kind == "Block" and container_key in str(getattr(node, "key", "")):
            inside = True
        if inside and kind in ("Button", "DownloadButton"):
            found.append(node.label)
        if kind == "Block" and node.proto.WhichOneof("type") == "popover":
            if inside:
                found.append(node.proto.popover.label)
            return
        for child in getattr(node, "children", {}).values():
            walk(child, inside)

    walk(at._tree, False)
    return found


# Offered for any selection: the orders as CSV, and one PDF of packing slips or invoices.
DOCUMENTS = ["Export selected", "Packing slips", "Invoices"]


def bulk_text(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_no_bar_without_ticked_rows(shop):
    place(shop)
    assert "selected**" not in " ".join(m.value for m in run_page().markdown)


def test_the_bar_offers_what_applies_to_every_ticked_pending_order(shop):
    place(shop)
    place(shop)
    at = tick(run_page(), "pending", [0, 1])
    assert "**2 selected**" in bulk_text(at)
    choices = bulk_choices(at)
    assert [c for c in choices if c not in DOCUMENTS] == [
        "Confirm Order",
        "Cancel Order",
        "Mark Paid",
    ]
    assert choices[-3:] == DOCUMENTS


def test_a_mixed_selection_offers_only_what_applies_to_all(shop):
    paid_pending = place(shop)
    orders.set_payment_status(
        shop, order_id=paid_pending.order_id, expected_version=None, actor="t", payment="paid"
    )
    in_progress = place(shop)
    orders.confirm_order(shop, order_id=in_progress.order_id, expected_version=None, actor="t")
    shipped(shop)
    at = run_page(**{"orders.tab": "All Orders"})  # newest first: shipped, in progress, pending
    at = tick(at, "all", [1, 2])  # in progress (unpaid) + pending (paid)
    assert bulk_choices(at) == ["Cancel Order", *DOCUMENTS]
    at = tick(at, "all", [0, 1])  # shipped + in progress, both unpaid: only the payment
    assert bulk_choices(at) == ["Mark Paid", *DOCUMENTS]
    at = tick(at, "all", [0, 2])  # shipped (unpaid) + pending (paid): nothing in common
    assert bulk_choices(at) == DOCUMENTS
    assert any("No status action applies to all" in c.value for c in at.caption)
    at = tick(at, "all", [0])
    assert bulk_choices(at) == [
        "Complete Order",
        "Mark In Progress",
        "Mark Paid",
        *DOCUMENTS,
    ]


def test_bulk_confirm_moves_every_ticked_order_and_says_so_once(shop):
    for _ in range(3):
        place(shop)
    at = tick(run_page(), "pending", [0, 1, 2])
    button(at, "Confirm Order").click().run()
    assert not at.exception
    assert any(t == "3 confirmed." for t in toasts(at))
    assert at.metric[0].value == "0" and at.metric[1].value == "3"
    assert "selected**" not in bulk_text(at)


def test_bulk_confirm_skips_an_order_cancelled_meanwhile(shop):
    first, second = place(shop), place(shop)
    at = tick(run_page(), "pending", [0, 1])
    orders.cancel_order(
        shop, order_id=first.order_id, expected_version=None, actor="colleague", reason="asked"
    )
    button(at, "Confirm Order").click().run()
    assert any(
        t == "1 confirmed · 1 skipped: ORD-10001 was already cancelled by someone else."
        for t in toasts(at)
    )
    assert order_details(shop, order_id=second.order_id).status is OrderStatus.IN_PROGRESS


def test_bulk_shipping_takes_a_tracking_number_per_order_and_one_carrier_for_all(shop):
    for _ in range(2):
        change = place(shop)
        orders.confirm_order(shop, order_id=change.order_id, expected_version=None, actor="t")
    at = tick(run_page(**{"orders.tab": "Current Orders"}), "current", [0, 1])
    at.selectbox(key="orders.bulk.ship.carrier").select("DHL")
    type_in_ship_editor(at, {0: {"Tracking number": "JD-2"}, 1: {"Tracking number": "JD-1"}})
    at.checkbox(key="orders.bulk.ship.override").check()
    button(at, "Mark Shipped (2)").click().run()
    assert not at.exception
    first, second = (order_details(shop, order_id=i) for i in (1, 2))
    assert (first.status, first.carrier, first.tracking_number) == (
        OrderStatus.SHIPPED,
        "DHL",
        "JD-1",
    )
    assert (second.carrier, second.tracking_number) == ("DHL", "JD-2")


def ship_editor(at):
    """The bulk Mark Shipped popover's table, as it is drawn."""
    return next(d for d in at.dataframe if d.proto.id.endswith("orders.bulk.ship.editor")).value


def type_in_ship_editor(at, rows: dict[int, dict[str, str]]) -> None:
    """What was typed in the bulk Mark Shipped popover's table, by row."""
    at.session_state["orders.bulk.ship.editor"] = {
        "edited_rows": rows,
        "added_rows": [],
        "deleted_rows": [],
    }


def test_one_carrier_for_all_fills_the_carrier_column_and_keeps_what_was_typed(shop):
    for _ in range(2):
        change = place(shop)
        orders.confirm_order(shop, order_id=change.order_id, expected_version=None, actor="t")
    at = tick(run_page(**{"orders.tab": "Current Orders"}), "current", [0, 1])
    assert list(ship_editor(at)["Carrier"]) == ["", ""]
    type_in_ship_editor(  # typed first, the carrier for all chosen after
        at, {0: {"Tracking number": "JD-2"}, 1: {"Carrier": "UPS", "Tracking number": "1Z-1"}}
    )
    at.selectbox(key="orders.bulk.ship.carrier").select("DHL").run()
    assert list(ship_editor(at)["Carrier"]) == ["DHL", "DHL"]  # drawn so, under the edits
    at.checkbox(key="orders.bulk.ship.override").check()
    button(at, "Mark Shipped (2)").click().run()
    assert not at.exception
    first, second = (order_details(shop, order_id=i) for i in (1, 2))
    assert (second.status, second.carrier, second.tracking_number) == (
        OrderStatus.SHIPPED,
        "DHL",
        "JD-2",
    )
    assert (first.carrier, first.tracking_number) == ("UPS", "1Z-1")  # its own carrier kept
