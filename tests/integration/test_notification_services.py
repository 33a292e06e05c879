"""The outbox services behind the Notifications page, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from db.models import Contact, Notification, OrderEvent
from domain.enums import NotificationStatus
from domain.order import UnknownOrder
from notify.delivery import ImmediateDelivery
from notify.dispatch import Dispatcher
from notify.preview import UnknownTemplate, preview_message
from queries.notifications import NotificationFilter, list_notifications, resendable, status_counts
from services import orders
from services.notifications import CannotResend, resend_notification
from tests.builders import SMS_CUSTOMER, add_catalogue, order_data
from tests.fakes.notify import providers_for
from tests.fakes.provider_server import FakeProviderServer

STAFF = "owner@shop.example"


@pytest.fixture
def order_id(db) -> int:
    add_catalogue(db)
    return orders.create_order(db, order=order_data(), actor=STAFF).order_id


def set_status(db, status: NotificationStatus, **values) -> int:
    with db.writing() as session:
        row = session.scalars(select(Notification).order_by(Notification.id.desc())).first()
        session.execute(
            update(Notification).where(Notification.id == row.id).values(status=status, **values)
        )
        session.commit()
        return row.id


def test_counts_cover_every_status(db, order_id):
    set_status(db, NotificationStatus.DEAD)
    counts = status_counts(db)
    assert counts["dead"] == 1
    assert sum(counts.values()) == 1
    assert set(counts) == {s.value for s in NotificationStatus}


def test_the_list_filters_by_status_channel_and_day_in_the_business_zone(db, order_id):
    orders.confirm_order(db, order_id=order_id, expected_version=None, actor=STAFF)
    first = set_status(db, NotificationStatus.FAILED)
    everything = list_notifications(db)
    assert (everything.total, [r.template for r in everything.rows]) == (
        2,
        ["confirmed", "received"],
    )

    failed = list_notifications(db, filters=NotificationFilter(statuses=("failed",)))
    assert [r.id for r in failed.rows] == [first]
    assert failed.rows[0].can_resend and failed.rows[0].order_number == "ORD-10001"
    assert list_notifications(db, filters=NotificationFilter(channels=("sms",))).total == 0
    assert list_notifications(db, filters=NotificationFilter(channels=("none",))).total == 0

    today = everything.rows[0].created_at.date()
    future = NotificationFilter(date_from=today + timedelta(days=1))
    assert list_notifications(db, filters=future).total == 0
    assert list_notifications(db, filters=NotificationFilter(date_to=today)).total == 2


def test_an_undeliverable_notification_is_written_on_the_orders_timeline(db, order_id):
    with db.writing() as session:
        session.execute(update(Contact).values(phone=None))
        order = session.get(orders.Order, order_id)
        order.customer_email, order.customer_phone = "", None
        session.commit()

    orders.confirm_order(db, order_id=order_id, expected_version=None, actor=STAFF)

    none = list_notifications(db, filters=NotificationFilter(channels=("none",)))
    assert [r.status for r in none.rows] == ["undeliverable"]
    with db.reading() as session:
        note = session.scalar(select(OrderEvent).where(OrderEvent.kind == "notification"))
    assert note.actor == "system"
    assert "“order confirmed” message could not be sent" in note.detail


@pytest.mark.parametrize("status", ["failed", "dead", "uncertain"])
def test_a_stuck_notification_is_resent_as_a_new_linked_row(db, order_id, status):
    old = set_status(db, NotificationStatus(status), last_error="boom")

    again = resend_notification(db, notification_id=old, actor=STAFF)

    with db.reading() as session:
        new = session.get(Notification, again.id)
        first = session.get(Notification, old)
        note = session.scalar(select(OrderEvent).where(OrderEvent.kind == "notification"))
    assert (new.resend_of_id, new.status, new.attempts) == (old, NotificationStatus.QUEUED, 0)
    assert (new.subject, new.body_text) == (first.subject, first.body_text)
    assert new.dedupe_key != first.dedupe_key
    assert first.status is NotificationStatus(status)  # the old row keeps its history
    assert note.actor == STAFF and f"was {status}" in note.detail
    assert resendable(db) == []


def test_a_notification_can_be_resent_once_and_a_double_click_is_refused(db, order_id):
    old = set_status(db, NotificationStatus.DEAD)
    resend_notification(db, notification_id=old, actor=STAFF)

    with pytest.raises(CannotResend, match="already resent"):
        resend_notification(db, notification_id=old, actor=STAFF)


@pytest.mark.parametrize("status", ["queued", "sent", "delivered", "undeliverable"])
def test_only_failed_dead_or_uncertain_notifications_can_be_resent(db, order_id, status):
    old = set_status(db, NotificationStatus(status))
    with pytest.raises(CannotResend, match="only failed, dead or uncertain"):
        resend_notification(db, notification_id=old, actor=STAFF)


def test_a_text_to_a_customer_who_opted_out_is_resent_as_an_email(db):
    add_catalogue(db)
    change = orders.create_order(db, order=order_data(customer=SMS_CUSTOMER), actor=STAFF)
    orders.cancel_order(
        db, order_id=change.order_id, expected_version=None, actor=STAFF, reason="out of stock"
    )
    old = set_status(db, NotificationStatus.FAILED)
    with db.writing() as session:
        session.execute(update(Contact).values(sms_opt_out=True))
        session.commit()

    again = resend_notification(db, notification_id=old, actor=STAFF)

    with db.reading() as session:
        new = session.get(Notification, again.id)
    assert (again.channel, again.recipient) == ("email", "grace@example.com")
    assert new.subject == f"Order {change.number} cancelled"
    assert "(out of stock)" in new.body_text and "<p>" in new.body_html


def test_a_resend_goes_out_at_once_through_the_after_commit_path(db, order_id, no_proxy):
    old = set_status(db, NotificationStatus.DEAD)
    with FakeProviderServer() as fake:
        immediate = ImmediateDelivery(Dispatcher(db, providers_for(fake.url))).start()
        try:
            again = resend_notification(db, notification_id=old, actor=STAFF)
            assert immediate.wait_until_idle(10)
        finally:
            immediate.stop()
        assert len(fake.requests) == 1
    with db.reading() as session:
        assert session.get(Notification, again.id).status is NotificationStatus.SENT


def test_a_preview_uses_the_real_order_and_todays_settings(db, order_id):
    preview = preview_message(db, order_id=order_id, template="cancelled")

    assert preview.recipient_email == "ada@example.com"
    assert preview.message.subject == "Order ORD-10001 cancelled"
    assert "(the reason you give)" in preview.message.text
    assert preview.message.sms.startswith("Product Orders: Hi Ada")


def test_a_preview_of_an_unknown_order_or_message_is_a_clear_error(db, order_id):
    with pytest.raises(UnknownOrder, match="does not exist"):
        preview_message(db, order_id=999, template="confirmed")
    with pytest.raises(UnknownTemplate, match="no “nonsense” message"):
        preview_message(db, order_id=order_id, template="nonsense")
