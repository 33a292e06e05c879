"""The write services on SQLite and PostgreSQL: events, outbox rows, locking, bad input."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from db.models import Contact, Notification, Order, OrderEvent, OrderItem
from db.settings import load_settings
from db.unit_of_work import StaleOrder
from domain.enums import NotificationStatus, Source
from domain.inputs import InvalidInput
from domain.order import (
    InvalidPaymentTransition,
    InvalidTransition,
    NotEditable,
    OrderStatus,
    PaymentRequired,
    PaymentStatus,
    ReasonRequired,
    TrackingRequired,
)
from notify import outbox
from notify.templates import render
from queries.orders import order_details
from services import orders
from tests.builders import add_catalogue, order_data

ACTOR = "staff@example.com"


@pytest.fixture
def catalogue(db):
    return add_catalogue(db)


def count(db, model) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def counts(db) -> dict[str, int]:
    return {m.__name__: count(db, m) for m in (Order, OrderItem, OrderEvent, Notification, Contact)}


def new_order(db, **changes):
    return orders.create_order(db, order=order_data(**changes), actor=ACTOR)


# ---- creating -----------------------------------------------------------------------------


def test_a_new_order_is_pending_priced_from_the_catalogue_and_numbered(db, catalogue):
    change = new_order(db, items=[{"sku": "TEA-001", "quantity": 2}])
    details = order_details(db, order_id=change.order_id)
    assert change.number == "ORD-10001"
    assert details.status is OrderStatus.PENDING and details.payment_status is PaymentStatus.PENDING
    assert (details.subtotal_cents, details.tax_cents, details.shipping_cents) == (2400, 198, 500)
    assert details.total_cents == 3098
    assert details.customer_code == f"CUS-{details.contact_id:06d}"
    assert [e.kind for e in details.events] == ["created"]
    assert details.events[0].actor == ACTOR


def test_order_numbers_count_up(db, catalogue):
    numbers = [new_order(db).number for _ in range(3)]
    assert numbers == ["ORD-10001", "ORD-10002", "ORD-10003"]


def test_concurrent_creation_never_repeats_a_number(db, catalogue):
    def place(i):
        return new_order(db, customer__email=f"c{i}@example.com").number

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(place, range(40)))
    assert len(set(numbers)) == 40


def test_the_same_customer_from_two_threads_becomes_one_contact(db, catalogue):
    barrier = threading.Barrier(4)

    def place(_):
        barrier.wait()
        return new_order(db, customer__email="Same.Person@Example.com")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(place, range(4)))
    assert count(db, Contact) == 1 and count(db, Order) == 4


def test_a_returning_customer_is_matched_by_email_ignoring_case(db, catalogue):
    first = new_order(db, customer__email="ada@example.com")
    second = new_order(db, customer__email="ADA@Example.com")
    a, b = order_details(db, order_id=first.order_id), order_details(db, order_id=second.order_id)
    assert a.contact_id == b.contact_id


def test_the_same_sku_twice_becomes_one_line(db, catalogue):
    change = new_order(
        db, items=[{"sku": "TEA-001", "quantity": 1}, {"sku": "TEA-001", "quantity": 2}]
    )
    details = order_details(db, order_id=change.order_id)
    assert [(i.sku, i.quantity) for i in details.items] == [("TEA-001", 3)]


def test_a_price_sent_from_outside_is_refused_not_trusted(db, catalogue):
    with pytest.raises(InvalidInput) as refused:
        new_order(db, items=[{"sku": "TEA-001", "quantity": 1, "unit_price_cents": 1}])
    assert refused.value.for_field("items[0].unit_price_cents") == "is not a known field"


def test_the_phone_is_stored_in_e164(db, catalogue):
    change = new_order(db, customer__phone="(415) 555-2671")
    assert order_details(db, order_id=change.order_id).phone == "+14155552671"


BAD_INPUT = [
    ("empty items", {"items": []}, "items"),
    ("quantity 0", {"items": [{"sku": "TEA-001", "quantity": 0}]}, "items[0].quantity"),
    ("negative quantity", {"items": [{"sku": "TEA-001", "quantity": -3}]}, "items[0].quantity"),
    ("absurd quantity", {"items": [{"sku": "TEA-001", "quantity": 10_001}]}, "items[0].quantity"),
    (
        "absurd quantity over two lines",
        {"items": [{"sku": "TEA-001", "quantity": 6000}, {"sku": "TEA-001", "quantity": 6000}]},
        "items",
    ),
    ("unknown product", {"items": [{"sku": "NOPE", "quantity": 1}]}, "items[0].sku"),
    ("inactive product", {"items": [{"sku": "OLD-001", "quantity": 1}]}, "items[0].sku"),
    ("no first name", {"customer__first_name": "  "}, "customer.first_name"),
    ("no last name", {"customer__last_name": ""}, "customer.last_name"),
    ("no email", {"customer__email": ""}, "customer.email"),
    ("invalid email", {"customer__email": "ada@"}, "customer.email"),
    ("invalid phone", {"customer__phone": "12345"}, "customer.phone"),
    ("no street", {"shipping__street": ""}, "shipping.street"),
    ("no city", {"shipping__city": " "}, "shipping.city"),
    ("no state", {"shipping__state": ""}, "shipping.state"),
    ("no zip", {"shipping__zip": ""}, "shipping.zip"),
]


@pytest.mark.parametrize(("case", "changes", "field"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_gets_a_clear_error_and_stores_nothing(db, catalogue, case, changes, field):
    before = counts(db)
    with pytest.raises(InvalidInput) as refused:
        new_order(db, **changes)
    assert refused.value.for_field(field), refused.value.errors
    assert counts(db) == before


def test_a_missing_section_is_reported_by_name(db, catalogue):
    data = order_data()
    del data["shipping"]
    with pytest.raises(InvalidInput) as refused:
        orders.create_order(db, order=data, actor=ACTOR)
    assert refused.value.for_field("shipping") == "is required"


# ---- the life of an order -------------------------------------------------------------------


def test_an_order_goes_from_pending_to_completed_with_an_event_and_notification_each_step(
    db, catalogue
):
    change = new_order(db)
    change = orders.set_payment_status(
        db,
        order_id=change.order_id,
        expected_version=change.version,
        actor=ACTOR,
        payment=PaymentStatus.PAID,
    )
    change = orders.confirm_order(
        db, order_id=change.order_id, expected_version=change.version, actor=ACTOR
    )
    change = orders.mark_shipped(
        db,
        order_id=change.order_id,
        expected_version=change.version,
        actor=ACTOR,
        carrier="UPS",
        tracking_number="1Z999",
        tracking_url="https://track.example/1Z999",
    )
    change = orders.complete_order(
        db, order_id=change.order_id, expected_version=change.version, actor=ACTOR
    )
    details = order_details(db, order_id=change.order_id)
    assert details.status is OrderStatus.COMPLETED
    assert (details.carrier, details.tracking_number) == ("UPS", "1Z999")
    assert [(e.kind, e.to_value) for e in details.events] == [
        ("created", "pending"),
        ("payment", "paid"),
        ("status", "in_progress"),
        ("status", "shipped"),
        ("status", "completed"),
    ]
    assert [n.template for n in details.notifications] == [
        "received",
        "confirmed",
        "shipped",
        "completed",
    ]
    assert all(n.status == "queued" for n in details.notifications)


def test_each_message_reads_the_same_as_one_rendered_from_the_whole_stored_order(db, catalogue):
    # The status services read only the order columns they use (orders.CHANGE_COLUMNS): a
    # message needing another column would silently lose it. Render each stored message
    # again from the whole order, as stored, and compare.
    change = new_order(db)
    for act, extra in [
        (orders.confirm_order, {}),
        (orders.mark_shipped, {"carrier": "UPS", "tracking_number": "1Z9", "ship_unpaid": True}),
        (orders.complete_order, {}),
    ]:
        change = act(
            db, order_id=change.order_id, expected_version=change.version, actor=ACTOR, **extra
        )
    with db.reading() as session:
        order = session.get(Order, change.order_id)
        settings = load_settings(session)
        sent = session.scalars(select(Notification).order_by(Notification.id)).all()
        assert [n.template for n in sent] == ["received", "confirmed", "shipped", "completed"]
        for notification in sent[1:]:
            again = render(notification.template, outbox.facts_of(order), settings.business_name,
                           reply_to=settings.reply_to_email)  # fmt: skip
            assert (notification.subject, notification.body_text) == (again.subject, again.text)
            assert notification.recipient == order.customer_email


def test_a_shipped_order_can_go_back_in_progress_with_a_reason(db, catalogue):
    change = _shipped(db)
    with pytest.raises(ReasonRequired):
        orders.mark_in_progress(
            db, order_id=change.order_id, expected_version=change.version, actor=ACTOR, reason=""
        )
    change = orders.mark_in_progress(
        db,
        order_id=change.order_id,
        expected_version=change.version,
        actor=ACTOR,
        reason="returned",
    )
    details = order_details(db, order_id=change.order_id)
    assert details.status is OrderStatus.IN_PROGRESS
    assert details.notifications[-1].template == "back_in_progress"
    assert details.events[-1].detail == "returned"


def _shipped(db):
    change = new_order(db)
    change = orders.confirm_order(
        db, order_id=change.order_id, expected_version=change.version, actor=ACTOR
    )
    return orders.mark_shipped(
        db,
        order_id=change.order_id,
        expected_version=change.version,
        actor=ACTOR,
        carrier="USPS",
        tracking_number="9400",
        ship_unpaid=True,
    )


def test_shipping_an_unpaid_order_without_override_is_refused_and_changes_nothing(db, catalogue):
    change = new_order(db)
    change = orders.confirm_order(
        db, order_id=change.order_id, expected_version=change.version, actor=ACTOR
    )
    before = counts(db)
    with pytest.raises(PaymentRequired):
        orders.mark_shipped(
            db,
            order_id=change.order_id,
            expected_version=change.version,
            actor=ACTOR,
            carrier="UPS",
            tracking_number="1Z",
        )
    with pytest.raises(TrackingRequired):
        orders.mark_shipped(
            db,
            order_id=change.order_id,
            expected_version=change.version,
            actor=ACTOR,
            carrier="UPS",
            tracking_number=" ",
            ship_unpaid=True,
        )
    assert counts(db) == before
    assert order_details(db, order_id=change.order_id).status is OrderStatus.IN_PROGRESS


def test_the_override_is_recorded_on_the_timeline(db, catalogue):
    change = _shipped(db)
    assert "override confirmed" in order_details(db, order_id=change.order_id).events[-1].detail


def test_cancelling_a_paid_order_can_refund_it_in_the_same_step(db, catalogue):
    change = new_order(db)
    change = orders.set_payment_status(
        db, order_id=change.order_id, expected_version=change.version, actor=ACTOR, payment="paid"
    )
    paid_version = change.version
    change = orders.cancel_order(
        db,
        order_id=change.order_id,
        expected_version=change.version,
        actor=ACTOR,
        reason="Out of stock",
        refund=True,
    )
    details = order_details(db, order_id=change.order_id)
    assert (details.status, details.payment_status) == (
        OrderStatus.CANCELLED,
        PaymentStatus.REFUNDED,
    )
    assert details.version == change.version == paid_version + 2  # two changes: cancel, refund
    assert details.cancel_reason == "Out of stock"
    cancelled = details.notifications[-1]
    assert cancelled.template == "cancelled"
    with db.reading() as session:
        body = session.get(Notification, cancelled.id).body_text
    assert "Out of stock" in body and "refunded" in body


def test_a_cancel_needs_a_reason(db, catalogue):
    change = new_order(db)
    with pytest.raises(ReasonRequired):
        orders.cancel_order(
            db, order_id=change.order_id, expected_version=change.version, actor=ACTOR, reason=" "
        )


def test_a_refused_transition_changes_nothing(db, catalogue):
    change = new_order(db)
    before = counts(db)
    with pytest.raises(InvalidTransition):
        orders.complete_order(
            db, order_id=change.order_id, expected_version=change.version, actor=ACTOR
        )
    assert counts(db) == before


def test_payment_failures_and_refunds_notify_but_paid_does_not(db, catalogue):
    change = new_order(db)
    change = orders.set_payment_status(
        db, order_id=change.order_id, expected_version=None, actor=ACTOR, payment="failed"
    )
    change = orders.set_payment_status(
        db, order_id=change.order_id, expected_version=None, actor=ACTOR, payment="paid"
    )
    change = orders.set_payment_status(
        db, order_id=change.order_id, expected_version=None, actor=ACTOR, payment="refunded"
    )
    templates = [n.template for n in order_details(db, order_id=change.order_id).notifications]
    assert templates == ["received", "payment_failed", "refunded"]
    with pytest.raises(InvalidPaymentTransition):
        orders.set_payment_status(
            db, order_id=change.order_id, expected_version=None, actor=ACTOR, payment="paid"
        )


# ---- locking and rollback ----------------------------------------------------------------------


def test_a_write_with_a_stale_version_is_refused(db, catalogue):
    change = new_order(db)
    orders.confirm_order(
        db, order_id=change.order_id, expected_version=change.version, actor="first"
    )
    before = counts(db)
    with pytest.raises(StaleOrder, match="changed — reloaded"):
        orders.cancel_order(
            db,
            order_id=change.order_id,
            expected_version=change.version,
            actor="second",
            reason="x",
        )
    assert counts(db) == before


def test_two_staff_racing_on_one_order_make_exactly_one_change(db, catalogue):
    change = new_order(db)
    barrier = threading.Barrier(2)

    def act(name):
        barrier.wait()
        try:
            orders.confirm_order(
                db, order_id=change.order_id, expected_version=change.version, actor=name
            )
            return "ok"
        except (StaleOrder, InvalidTransition):
            return "refused"

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = sorted(pool.map(act, ["one", "two"]))
    assert results == ["ok", "refused"]
    details = order_details(db, order_id=change.order_id)
    assert [n.template for n in details.notifications] == ["received", "confirmed"]


def test_a_failure_after_writing_the_outbox_row_leaves_no_event_and_no_notification(
    db, catalogue, monkeypatch
):
    change = new_order(db)
    before = counts(db)

    real_enqueue = orders.notify.enqueue

    def enqueue_then_fail(uow, **kwargs):
        row = real_enqueue(uow, **kwargs)
        assert row is not None and row.id  # the row was written (flushed) in the transaction
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(orders.notify, "enqueue", enqueue_then_fail)
    with pytest.raises(RuntimeError):
        orders.confirm_order(
            db, order_id=change.order_id, expected_version=change.version, actor=ACTOR
        )
    assert counts(db) == before
    assert order_details(db, order_id=change.order_id).status is OrderStatus.PENDING


def test_committed_notifications_are_announced_after_commit_only(db, catalogue, monkeypatch):
    announced: list[list[int]] = []
    db.notification_listeners.append(announced.append)
    change = new_order(db)
    assert len(announced) == 1

    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(orders, "_notify", fail)
    with pytest.raises(RuntimeError):
        orders.confirm_order(
            db, order_id=change.order_id, expected_version=change.version, actor=ACTOR
        )
    assert len(announced) == 1


# ---- edits and notes ------------------------------------------------------------------------


def test_editing_items_recomputes_the_totals_and_records_what_changed(db, catalogue):
    change = new_order(db)
    edited = order_data(
        items=[{"sku": "MUG-001", "quantity": 1}, {"sku": "HALF-01", "quantity": 1}]
    )
    change = orders.edit_order(
        db, order_id=change.order_id, expected_version=change.version, actor=ACTOR, changes=edited
    )
    details = order_details(db, order_id=change.order_id)
    assert details.subtotal_cents == 2800
    assert details.tax_cents == 149 + 83  # per line: 148.5 → 149 and 82.5 → 83
    assert details.total_cents == 2800 + 232 + 500
    assert details.events[-1].kind == "edited" and "Stoneware Mug" in details.events[-1].detail


def test_editing_the_address_and_customer_is_an_event(db, catalogue):
    change = new_order(db)
    edited = order_data(shipping__city="Shelbyville", customer__first_name="Augusta")
    change = orders.edit_order(
        db, order_id=change.order_id, expected_version=change.version, actor=ACTOR, changes=edited
    )
    details = order_details(db, order_id=change.order_id)
    assert (details.city, details.first_name) == ("Shelbyville", "Augusta")
    assert details.events[-1].actor == ACTOR


def test_a_shipped_order_cannot_be_edited(db, catalogue):
    change = _shipped(db)
    with pytest.raises(NotEditable):
        orders.edit_order(
            db,
            order_id=change.order_id,
            expected_version=change.version,
            actor=ACTOR,
            changes=order_data(),
        )


def test_a_bad_edit_stores_nothing(db, catalogue):
    change = new_order(db)
    before = counts(db)
    with pytest.raises(InvalidInput):
        orders.edit_order(
            db,
            order_id=change.order_id,
            expected_version=change.version,
            actor=ACTOR,
            changes=order_data(items=[{"sku": "NOPE", "quantity": 1}]),
        )
    assert counts(db) == before
    assert order_details(db, order_id=change.order_id).total_cents == 3098


def test_a_note_is_added_to_the_timeline_with_its_author(db, catalogue):
    change = new_order(db)
    orders.add_note(
        db, order_id=change.order_id, actor="sam", text="Customer called about gift wrap"
    )
    event = order_details(db, order_id=change.order_id).events[-1]
    assert (event.kind, event.actor, event.detail) == (
        "note",
        "sam",
        "Customer called about gift wrap",
    )
    with pytest.raises(InvalidInput):
        orders.add_note(db, order_id=change.order_id, actor="sam", text="   ")


def test_an_unknown_order_is_reported_by_id(db, catalogue):
    with pytest.raises(orders.UnknownOrder):
        orders.confirm_order(db, order_id=999, expected_version=None, actor=ACTOR)


# ---- notifications' channel -------------------------------------------------------------------


def test_sms_customers_get_sms_and_fall_back_to_email_without_a_phone(db, catalogue):
    sms = new_order(
        db,
        customer={
            "first_name": "S",
            "last_name": "M",
            "email": "s@example.com",
            "phone": "+14155552671",
            "preferred_channel": "sms",
        },
    )
    no_phone = new_order(
        db,
        customer={
            "first_name": "N",
            "last_name": "P",
            "email": "n@example.com",
            "preferred_channel": "sms",
        },
    )
    first = order_details(db, order_id=sms.order_id).notifications[0]
    second = order_details(db, order_id=no_phone.order_id).notifications[0]
    assert (first.channel, first.recipient) == ("sms", "+14155552671")
    assert (second.channel, second.recipient) == ("email", "n@example.com")


def test_an_opted_out_customer_is_emailed_instead(db, catalogue):
    change = new_order(
        db,
        customer={
            "first_name": "S",
            "last_name": "M",
            "email": "s@example.com",
            "phone": "+14155552671",
            "preferred_channel": "sms",
        },
    )
    with db.writing() as session:
        session.scalar(select(Contact)).sms_opt_out = True
        session.commit()
    change = orders.confirm_order(
        db, order_id=change.order_id, expected_version=change.version, actor=ACTOR
    )
    assert order_details(db, order_id=change.order_id).notifications[-1].channel == "email"


def test_a_customer_with_no_way_to_reach_is_marked_undeliverable(db, catalogue):
    change = new_order(db)
    with db.writing() as session:
        order = session.get(Order, change.order_id)
        order.customer_email = ""
        order.customer_phone = None
        session.scalar(select(Contact)).phone = None
        session.commit()
    change = orders.confirm_order(db, order_id=change.order_id, expected_version=None, actor=ACTOR)
    last = order_details(db, order_id=change.order_id).notifications[-1]
    assert last.status == NotificationStatus.UNDELIVERABLE.value
    assert change.notified == ("no one: the customer has no usable e-mail or phone",)


def test_a_disabled_template_sends_nothing(db, catalogue):
    from db.settings import store_settings
    from domain.settings import BusinessSettings

    with db.writing() as session:
        store_settings(session, BusinessSettings(notify_events=("shipped",)))
        session.commit()
    change = new_order(db)
    change = orders.confirm_order(db, order_id=change.order_id, expected_version=None, actor=ACTOR)
    assert order_details(db, order_id=change.order_id).notifications == []
    assert change.notified == ()


def test_assistant_orders_keep_their_source_and_conversation(db, catalogue):
    change = orders.create_order(
        db,
        order=order_data(conversation_ref="chat-8841"),
        actor="assistant",
        source=Source.ASSISTANT,
    )
    details = order_details(db, order_id=change.order_id)
    assert (details.source, details.external_ref) == (Source.ASSISTANT, "chat-8841")
