"""Two members of staff on one order at once, in two AppTest sessions, on both databases.

Each session has the order open; the first write wins. The second is refused with a clear
message and shown the fresh order — never a lost update, never a second notification.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from config import ROOT
from db.models import Notification, OrderEvent
from domain.order import OrderStatus
from services import orders
from tests.builders import add_catalogue, order_data
from tests.ui.test_orders_page import open_popover

PASSWORD = "two at once"


@pytest.fixture
def order(page_db, monkeypatch):
    monkeypatch.setenv("DASHBOARD_PASSWORD", PASSWORD)
    add_catalogue(page_db)
    return page_db, orders.create_order(page_db, order=order_data(), actor="assistant")


def staff_session(name: str, number: str) -> AppTest:
    """A signed-in member of staff with the order open (as from a ?order= link)."""
    at = AppTest.from_file(str(ROOT / "dashboard" / "main.py"), default_timeout=30).run()
    at.text_input(key="auth.name").input(name)
    at.text_input(key="auth.password").input(PASSWORD)
    at.query_params["order"] = number
    sign_in = next(b for b in at.button if b.label == "Sign in")
    sign_in.click().run()
    assert not at.exception, at.exception
    assert at.subheader[0].value == number
    return at


def press(at: AppTest, label: str) -> AppTest:
    buttons = [b for b in at.button if b.label == label]
    assert buttons, f"no {label!r} button; have {[b.label for b in at.button]}"
    buttons[0].click().run()
    assert not at.exception, at.exception
    return at


def cancel(at: AppTest, *, opened: bool = False) -> AppTest:
    """Cancel the open order with a reason; `opened` when its form is already open."""
    if not opened:
        open_popover(at, "Cancel Order")
    at.text_area(key="orders.cancel.reason").input("Customer asked to cancel")
    return press(at, "Cancel Order")


def history(db, order_id: int) -> tuple[list[tuple[str, str | None, str]], list[str]]:
    with db.reading() as session:
        events = session.execute(
            select(OrderEvent.kind, OrderEvent.to_value, OrderEvent.actor)
            .where(OrderEvent.order_id == order_id, OrderEvent.kind != "created")
            .order_by(OrderEvent.id)
        ).all()
        messages = session.scalars(
            select(Notification.template)
            .where(Notification.order_id == order_id, Notification.template != "received")
            .order_by(Notification.id)
        ).all()
    return [tuple(e) for e in events], list(messages)


def badges(at: AppTest) -> str:
    """The opened order's status badges (st.badge draws Markdown badges)."""
    return " ".join(m.value for m in at.markdown if "-badge[" in m.value)


def test_two_staff_confirm_the_same_order_and_only_the_first_counts(order):
    db, change = order
    ann = staff_session("Ann", change.number)
    bob = staff_session("Bob", change.number)

    press(ann, "Confirm Order")
    press(bob, "Confirm Order")  # Bob's screen still showed it as Pending

    assert any(f"Order {change.number} changed — reloaded" in w.value for w in bob.warning)
    assert "[In Progress]" in badges(bob), "Bob now sees the fresh order"
    assert "Confirm Order" not in [b.label for b in bob.button]
    events, messages = history(db, change.order_id)
    assert events == [("status", OrderStatus.IN_PROGRESS.value, "Ann")]
    assert messages == ["confirmed"], "exactly one notification"


def test_a_cancel_and_a_confirm_at_once_never_both_happen(order):
    db, change = order
    ann = staff_session("Ann", change.number)
    bob = staff_session("Bob", change.number)

    cancel(ann)
    press(bob, "Confirm Order")

    assert any("changed — reloaded" in w.value for w in bob.warning)
    assert "[Cancelled]" in badges(bob)
    events, messages = history(db, change.order_id)
    assert events == [("status", OrderStatus.CANCELLED.value, "Ann")]
    assert messages == ["cancelled"]


def test_a_payment_recorded_meanwhile_makes_the_other_write_start_again(order):
    db, change = order
    ann = staff_session("Ann", change.number)
    bob = staff_session("Bob", change.number)

    open_popover(bob, "Cancel Order")  # on a screen that still says "Payment Pending"
    press(ann, "Mark Paid")
    cancel(bob, opened=True)

    assert any("changed — reloaded" in w.value for w in bob.warning)
    assert "[Payment Paid]" in badges(bob)
    # Now the choice is informed: the form, still open, offers the refund.
    assert bob.checkbox(key="orders.cancel.refund").value is True
    events, messages = history(db, change.order_id)
    assert events == [("payment", "paid", "Ann")]
    assert messages == []
