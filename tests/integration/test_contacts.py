"""The contact services on SQLite and PostgreSQL: search, history, edits and merges."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db.models import Contact, Notification, Order, OrderEvent, customer_code
from domain.inputs import InvalidInput
from domain.order import PaymentStatus
from queries import contacts as contact_reads
from queries.contacts import ContactSort
from services import contacts, orders
from services.contacts import CannotMerge, ContactMerged, EmailTaken
from tests.builders import add_catalogue, order_data

ACTOR = "owner@example.com"


@pytest.fixture
def shop(db):
    add_catalogue(db)
    return db


def place(db, email="ada@example.com", first="Ada", last="Lovelace", phone="+14155552671", **kw):
    customer = {"first_name": first, "last_name": last, "email": email, "phone": phone}
    return orders.create_order(db, order=order_data(customer=customer, **kw), actor=ACTOR)


def contact_id(db, email):
    with db.reading() as session:
        return session.scalar(select(Contact.id).where(Contact.email_key == email.lower()))


def values(**changes):
    base = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "+14155552671",
        "preferred_channel": "email",
        "sms_opt_out": False,
    }
    return {**base, **changes}


# ---- reads ---------------------------------------------------------------------------------


def test_customers_are_found_by_name_email_phone_digits_or_customer_id(shop):
    place(shop)
    place(shop, email="grace@example.com", first="Grace", last="Hopper", phone="+14155550100")
    grace = contact_id(shop, "grace@example.com")

    def found(text):
        return [c.email for c in contact_reads.search_contacts(shop, search=text).rows]

    assert found("hopper") == ["grace@example.com"]
    assert found("ADA@") == ["ada@example.com"]
    assert found("(415) 555-0100") == ["grace@example.com"]
    assert found(customer_code(grace).lower()) == ["grace@example.com"]
    assert found("nobody") == []


def test_lifetime_value_leaves_out_cancelled_and_refunded_orders(shop):
    kept = place(shop)  # 2× 12.00 + 8.25 % tax + 5.00 shipping = 30.98
    cancelled = place(shop)
    refunded = place(shop)
    orders.cancel_order(
        shop, order_id=cancelled.order_id, expected_version=None, actor=ACTOR, reason="x"
    )
    for payment in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
        orders.set_payment_status(
            shop, order_id=refunded.order_id, expected_version=None, actor=ACTOR, payment=payment
        )
    row = contact_reads.search_contacts(shop).rows[0]
    assert (row.order_count, row.lifetime_value_cents) == (3, 3098)
    history = contact_reads.contact_history(shop, contact_id=row.id)
    assert [o.number for o in history.orders] == [refunded.number, cancelled.number, kept.number]


def test_customers_page_in_sql_and_sort_by_value_or_recency(shop):
    place(shop)
    place(
        shop,
        email="big@example.com",
        first="Big",
        last="Spender",
        items=[{"sku": "MUG-001", "quantity": 5}],
    )
    first = contact_reads.search_contacts(shop, page_size=1, page=1)
    assert (first.total, first.pages, [r.last_name for r in first.rows]) == (2, 2, ["Lovelace"])
    assert contact_reads.search_contacts(shop, page=99, page_size=1).page == 2
    by_value = contact_reads.search_contacts(shop, sort=ContactSort.VALUE).rows
    assert [r.last_name for r in by_value] == ["Spender", "Lovelace"]
    by_recent = contact_reads.search_contacts(shop, sort=ContactSort.RECENT).rows
    assert by_recent[0].last_name == "Spender" and by_recent[0].last_order_at is not None


def test_possible_duplicates_share_a_name_or_a_phone(shop):
    place(shop)
    place(shop, email="ada.l@work.example")  # same name and phone
    place(shop, email="countess@example.com", first="Augusta", last="King")  # same phone
    place(shop, email="grace@example.com", first="Grace", last="Hopper", phone="+14155550100")
    ada = contact_id(shop, "ada@example.com")
    found = {c.email for c in contact_reads.possible_duplicates(shop, contact_id=ada)}
    assert found == {"ada.l@work.example", "countess@example.com"}


# ---- edits -----------------------------------------------------------------------------------


def test_an_edit_is_validated_and_the_phone_stored_in_e164(shop):
    place(shop)
    ada = contact_id(shop, "ada@example.com")
    with pytest.raises(InvalidInput) as caught:
        contacts.edit_contact(
            shop, contact_id=ada, changes=values(email="not-an-email", phone="12"), actor=ACTOR
        )
    assert caught.value.for_field("email") and caught.value.for_field("phone")
    assert str(caught.value).startswith("Please correct the customer")
    contacts.edit_contact(shop, contact_id=ada, changes=values(phone="(415) 555-0199"), actor=ACTOR)
    assert contact_reads.contact_history(shop, contact_id=ada).contact.phone == "+14155550199"


def test_a_customer_who_prefers_sms_needs_a_phone(shop):
    place(shop)
    ada = contact_id(shop, "ada@example.com")
    with pytest.raises(InvalidInput, match="phone: is needed to send them SMS"):
        contacts.edit_contact(
            shop, contact_id=ada, changes=values(preferred_channel="sms", phone=""), actor=ACTOR
        )


def test_an_email_used_by_another_customer_is_refused_with_a_hint_to_merge(shop):
    place(shop)
    place(shop, email="grace@example.com", first="Grace", last="Hopper")
    ada = contact_id(shop, "ada@example.com")
    with pytest.raises(InvalidInput, match="merge the two instead"):
        contacts.edit_contact(
            shop, contact_id=ada, changes=values(email="GRACE@example.com"), actor=ACTOR
        )


def test_an_email_taken_by_a_concurrent_writer_is_refused_cleanly(shop, monkeypatch):
    place(shop)
    place(shop, email="grace@example.com", first="Grace", last="Hopper")
    ada = contact_id(shop, "ada@example.com")
    monkeypatch.setattr(contacts, "_check_email_free", lambda *args: None)
    with pytest.raises(EmailTaken):
        contacts.edit_contact(
            shop, contact_id=ada, changes=values(email="grace@example.com"), actor=ACTOR
        )
    assert contact_id(shop, "ada@example.com") == ada


def test_new_details_reach_open_orders_with_an_event_but_not_finished_ones(shop):
    open_order = place(shop)
    done = place(shop)
    orders.cancel_order(
        shop, order_id=done.order_id, expected_version=None, actor=ACTOR, reason="x"
    )
    ada = contact_id(shop, "ada@example.com")
    result = contacts.edit_contact(
        shop, contact_id=ada, changes=values(email="ada@new.example"), actor=ACTOR
    )
    assert result.open_orders_updated == 1
    with shop.reading() as session:
        emails = dict(session.execute(select(Order.id, Order.customer_email)).all())
        event = session.scalar(select(OrderEvent).where(OrderEvent.kind == "customer_updated"))
    assert emails == {open_order.order_id: "ada@new.example", done.order_id: "ada@example.com"}
    assert (event.order_id, event.actor) == (open_order.order_id, ACTOR)
    assert "ada@example.com" in event.detail and "ada@new.example" in event.detail


# ---- merging -------------------------------------------------------------------------------


def counts(db):
    with db.reading() as session:
        return (
            session.scalar(select(func.count()).select_from(Order)),
            session.scalar(select(func.count()).select_from(Contact)),
        )


def test_merging_moves_every_order_records_who_did_it_and_keeps_the_duplicate(shop):
    kept_orders = [place(shop), place(shop)]
    moved = [place(shop, email="a.lovelace@old.example", phone=None) for _ in range(3)]
    keep = contact_id(shop, "ada@example.com")
    duplicate = contact_id(shop, "a.lovelace@old.example")
    before = counts(shop)

    result = contacts.merge_contacts(shop, keep_id=keep, merge_id=duplicate, actor=ACTOR)

    assert (result.kept, result.merged, result.orders_moved) == (
        customer_code(keep),
        customer_code(duplicate),
        3,
    )
    assert counts(shop) == before  # nothing deleted
    history = contact_reads.contact_history(shop, contact_id=keep)
    assert {o.id for o in history.orders} == {c.order_id for c in kept_orders + moved}
    assert history.merged_from == [f"{customer_code(duplicate)} (a.lovelace@old.example)"]
    with shop.reading() as session:
        events = session.scalars(
            select(OrderEvent).where(OrderEvent.kind == "customer_merged")
        ).all()
        merged = session.get(Contact, duplicate)
    assert sorted(e.order_id for e in events) == sorted(c.order_id for c in moved)
    assert {(e.actor, e.from_value, e.to_value) for e in events} == {
        (ACTOR, customer_code(duplicate), customer_code(keep))
    }
    assert merged.merged_into_id == keep
    assert [c.id for c in contact_reads.search_contacts(shop).rows] == [keep]


def test_a_new_order_with_the_merged_email_lands_on_the_kept_customer(shop):
    place(shop)
    place(shop, email="a.lovelace@old.example")
    keep = contact_id(shop, "ada@example.com")
    duplicate = contact_id(shop, "a.lovelace@old.example")
    contacts.merge_contacts(shop, keep_id=keep, merge_id=duplicate, actor=ACTOR)
    later = place(shop, email="a.lovelace@old.example")
    with shop.reading() as session:
        assert session.get(Order, later.order_id).contact_id == keep


def test_a_merge_keeps_an_sms_stop_and_fills_a_missing_phone(shop):
    place(shop, phone=None)
    place(shop, email="a.lovelace@old.example", phone="+14155550123")
    keep = contact_id(shop, "ada@example.com")
    duplicate = contact_id(shop, "a.lovelace@old.example")
    with shop.writing() as session:
        session.get(Contact, duplicate).sms_opt_out = True
        session.commit()
    contacts.merge_contacts(shop, keep_id=keep, merge_id=duplicate, actor=ACTOR)
    kept = contact_reads.contact_history(shop, contact_id=keep).contact
    assert (kept.phone, kept.sms_opt_out) == ("+14155550123", True)


def test_earlier_merges_and_messages_follow_the_duplicate_to_the_kept_customer(shop):
    place(shop)
    place(shop, email="second@example.com")
    place(shop, email="third@example.com")
    first, second, third = (
        contact_id(shop, e) for e in ("ada@example.com", "second@example.com", "third@example.com")
    )
    contacts.merge_contacts(shop, keep_id=second, merge_id=third, actor=ACTOR)
    contacts.merge_contacts(shop, keep_id=first, merge_id=second, actor=ACTOR)
    with shop.reading() as session:
        assert session.get(Contact, third).merged_into_id == first
        owners = set(session.scalars(select(Notification.contact_id)))
    assert owners == {first}
    assert len(contact_reads.contact_history(shop, contact_id=first).orders) == 3


def test_a_merge_needs_two_different_customers_that_are_not_merged_already(shop):
    place(shop)
    place(shop, email="b@example.com")
    place(shop, email="c@example.com")
    a, b, c = (contact_id(shop, e) for e in ("ada@example.com", "b@example.com", "c@example.com"))
    with pytest.raises(CannotMerge):
        contacts.merge_contacts(shop, keep_id=a, merge_id=a, actor=ACTOR)
    contacts.merge_contacts(shop, keep_id=a, merge_id=b, actor=ACTOR)
    with pytest.raises(ContactMerged, match=f"was merged into {customer_code(a)}"):
        contacts.merge_contacts(shop, keep_id=c, merge_id=b, actor=ACTOR)
    with pytest.raises(ContactMerged):
        contacts.edit_contact(shop, contact_id=b, changes=values(), actor=ACTOR)


def test_the_kept_customer_can_take_over_the_address_of_a_merged_duplicate(shop):
    place(shop)
    place(shop, email="ada@right.example")
    keep = contact_id(shop, "ada@example.com")
    duplicate = contact_id(shop, "ada@right.example")
    contacts.merge_contacts(shop, keep_id=keep, merge_id=duplicate, actor=ACTOR)
    contacts.edit_contact(
        shop, contact_id=keep, changes=values(email="ada@right.example"), actor=ACTOR
    )
    assert contact_id(shop, "ada@right.example") == keep
