"""The intake service in process, on SQLite and PostgreSQL: idempotency, lookups, catalogue."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from psycopg2.extensions import TRANSACTION_STATUS_IDLE
from sqlalchemy import event, func, select, update

from db.models import Contact, IdempotencyKey, Notification, Order, OrderItem, utc_now
from db.settings import store_settings
from domain.enums import Source
from domain.inputs import InvalidInput
from domain.settings import BusinessSettings
from queries.orders import order_details
from services import intake, orders
from tests.builders import add_catalogue, order_data

SCOPE = intake.client_scope("assistant-token")


@pytest.fixture
def catalogue(db):
    return add_catalogue(db)


def counts(db) -> dict[str, int]:
    with db.reading() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (Order, Contact, OrderItem, IdempotencyKey, Notification)
        }


def place(db, key="key-1", scope=SCOPE, **changes):
    return intake.place_order(db, scope=scope, key=key, payload=order_data(**changes))


def key_rows(db) -> list[IdempotencyKey]:
    with db.reading() as session:
        return list(session.scalars(select(IdempotencyKey)))


def backdate_keys(db, by: timedelta) -> None:
    with db.writing() as session:
        session.execute(update(IdempotencyKey).values(created_at=utc_now() - by))
        session.commit()


# ---- placing -------------------------------------------------------------------------------


def test_an_order_is_placed_pending_from_the_assistant_with_its_conversation(db, catalogue):
    placed = place(db, conversation_ref="chat-8841", note="Leave at the door")
    body = json.loads(placed.body)
    details = order_details(db, number=placed.number)
    assert placed.status == 201 and not placed.replayed
    assert body == {
        "number": placed.number,
        "status": "pending",
        "payment_status": "pending",
        "currency": "USD",
        "subtotal_cents": 2400,
        "tax_cents": 198,
        "shipping_cents": 500,
        "total_cents": 3098,
        "items": [
            {
                "sku": "TEA-001",
                "name": "Earl Grey",
                "quantity": 2,
                "unit_price_cents": 1200,
                "line_total_cents": 2400,
            }
        ],
    }
    assert details.source is Source.ASSISTANT and details.external_ref == "chat-8841"
    assert details.customer_note == "Leave at the door"
    assert [(e.kind, e.actor) for e in details.events] == [("created", "assistant")]
    assert [n.template for n in details.notifications] == ["received"]


def test_the_key_is_done_with_the_response_in_the_orders_own_transaction(db, catalogue):
    placed = place(db)
    [row] = key_rows(db)
    assert (row.scope, row.key, row.state, row.response_status) == (SCOPE, "key-1", "done", 201)
    assert row.response_body == placed.body
    assert row.order_id == order_details(db, number=placed.number).id


# ---- idempotency ---------------------------------------------------------------------------


def test_the_same_key_and_body_replay_the_first_response_without_a_second_order(db, catalogue):
    first = place(db)
    before = counts(db)
    again = place(db)
    assert again.replayed and (again.status, again.body) == (201, first.body)
    assert again.number == first.number
    assert counts(db) == before


def test_the_same_body_spelled_in_another_key_order_is_the_same_request(db, catalogue):
    first = place(db)
    reordered = dict(reversed(list(order_data().items())))
    again = intake.place_order(db, scope=SCOPE, key="key-1", payload=reordered)
    assert again.replayed and again.number == first.number


def test_the_same_key_with_a_different_body_is_refused_and_stores_nothing(db, catalogue):
    place(db)
    before = counts(db)
    with pytest.raises(intake.KeyReused):
        place(db, items=[{"sku": "TEA-001", "quantity": 3}])
    assert counts(db) == before


def test_a_key_whose_first_request_is_still_running_is_refused_with_in_flight(db, catalogue):
    payload = order_data()
    intake.claim_key(db, scope=SCOPE, key="key-1", request_hash=intake.fingerprint(payload))
    before = counts(db)
    with pytest.raises(intake.KeyInFlight):
        intake.place_order(db, scope=SCOPE, key="key-1", payload=payload)
    assert counts(db) == before


def test_keys_belong_to_the_client_that_sent_them(db, catalogue):
    mine = place(db)
    theirs = place(db, scope=intake.client_scope("another-token"))
    assert theirs.number != mine.number and not theirs.replayed


def test_racing_duplicates_make_one_order_and_all_get_its_number_or_in_flight(db, catalogue):
    barrier = threading.Barrier(8)

    def send(_):
        barrier.wait()
        try:
            return place(db).number
        except intake.KeyInFlight:
            return "in flight"

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(send, range(8)))
    numbers = {answer for answer in answers if answer != "in flight"}
    assert len(numbers) == 1 and counts(db)["Order"] == 1
    assert place(db).number in numbers  # once done, everyone gets the number


# ---- failures ------------------------------------------------------------------------------

REFUSED = [
    ("unknown product", {"items": [{"sku": "NOPE", "quantity": 1}]}, "items[0].sku"),
    ("inactive product", {"items": [{"sku": "OLD-001", "quantity": 1}]}, "items[0].sku"),
    ("no items", {"items": []}, "items"),
    ("invalid email", {"customer__email": "ada@"}, "customer.email"),
    ("a price of its own", {"items": [{"sku": "TEA-001", "quantity": 1, "unit_price_cents": 1}]},
     "items[0].unit_price_cents"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "changes", "field"), REFUSED, ids=[c[0] for c in REFUSED])
def test_a_refused_order_stores_nothing_not_even_its_key(db, catalogue, case, changes, field):
    before = counts(db)
    with pytest.raises(InvalidInput) as refused:
        place(db, **changes)
    assert refused.value.for_field(field)
    assert counts(db) == before


def test_on_postgresql_an_order_costs_one_statement_for_all_it_writes(db, catalogue):
    """Its order, lines, event, message and key go to the server together at commit: ids are
    taken with the order number, so no write waits for another's id (round trips were most
    of an order's time under load)."""
    if db.is_sqlite:
        pytest.skip("SQLite runs in this process: it has no round trips to save")
    place(db, key="first")  # the customer's contact exists from here on
    sent: list[str] = []
    for engine in db.engines:
        event.listen(engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    place(
        db,
        key="second",
        items=[{"sku": "TEA-001", "quantity": 1}, {"sku": "MUG-001", "quantity": 2}],
    )
    verbs = [" ".join(statement.split()[:3]) for statement in sent]
    assert len(sent) == 4, verbs  # claim and settings, products and contact, numbers, writes
    (writes,) = [statement for statement in sent if statement.startswith("WITH")]
    for part in (
        "INSERT INTO orders",
        "INSERT INTO order_items",
        "INSERT INTO order_events",
        "INSERT INTO notifications",
        "UPDATE idempotency_keys",
    ):
        assert part in writes
    assert writes.count("INSERT INTO order_items") == 2
    assert counts(db) == {"Order": 2, "Contact": 1, "OrderItem": 3, "IdempotencyKey": 2,
                          "Notification": 2}  # fmt: skip


def test_on_postgresql_an_order_opens_no_transaction(db, catalogue):
    """Its one statement of writes is atomic by itself, so every statement of an order runs
    outside a transaction block: psycopg2 spends no BEGIN and no COMMIT round trip on it."""
    if db.is_sqlite:
        pytest.skip("SQLite runs in this process: it has no round trips to save")
    place(db, key="first")
    states: list[int] = []
    for engine in db.engines:
        event.listen(
            engine,
            "after_cursor_execute",
            lambda _conn, cursor, *_: states.append(cursor.connection.get_transaction_status()),
        )
    place(db, key="known customer")
    place(db, key="new customer", customer={**STAFF_CUSTOMER, "email": "new@example.com"})
    # Four each (claim and settings, products and contact, numbers, writes): a new
    # customer's contact is one of the writes.
    assert len(states) == 8 and set(states) == {TRANSACTION_STATUS_IDLE}, states
    assert counts(db) == {"Order": 3, "Contact": 2, "OrderItem": 3, "IdempotencyKey": 3,
                          "Notification": 3}  # fmt: skip


def test_an_order_is_priced_with_the_settings_its_key_was_claimed_with(db, catalogue):
    """The claim reads the settings in its own statement; a change in Settings applies from
    the next order on, as when the order read them itself."""
    first = json.loads(place(db, key="before").body)
    with db.writing() as session:
        store_settings(session, BusinessSettings(tax_rate_bp=1000, shipping_fee_cents=0))
        session.commit()
    claim = intake.claim_key(db, scope=SCOPE, key="after", request_hash="h")
    assert isinstance(claim, intake.Claim) and claim.settings is not None
    assert (claim.settings.tax_rate_bp, claim.settings.shipping_fee_cents) == (1000, 0)
    intake.release_key(db, claim)
    second = json.loads(place(db, key="after").body)
    assert first["subtotal_cents"] == second["subtotal_cents"]
    assert (first["tax_cents"], first["shipping_cents"]) != (second["tax_cents"], 0)
    assert abs(second["tax_cents"] * 10 - second["subtotal_cents"]) <= 5  # 10 %, to the cent
    assert second["shipping_cents"] == 0


def test_an_order_whose_new_customer_another_order_has_just_added_is_placed_once(
    db, catalogue, monkeypatch
):
    """A concurrent order of the same new customer may add their contact between this
    order's read and its write: the e-mail's unique key refuses a second contact, and the
    order is made again, with the contact the other order added."""
    first = place(db, key="other order")
    looked_up, lookups = orders._stored_contact, []

    def read_before_the_other_order_wrote(session, row):
        lookups.append(row)
        return None if len(lookups) == 1 else looked_up(session, row)

    monkeypatch.setattr(orders, "_stored_contact", read_before_the_other_order_wrote)
    second = place(db, key="this order")
    assert second.status == 201 and len(lookups) == 2
    assert counts(db) == {"Order": 2, "Contact": 1, "OrderItem": 2, "IdempotencyKey": 2,
                          "Notification": 2}  # fmt: skip
    customers = {order_details(db, number=p.number).contact_id for p in (first, second)}
    assert len(customers) == 1


def test_a_corrected_retry_with_the_same_key_goes_through(db, catalogue):
    with pytest.raises(InvalidInput):
        place(db, items=[{"sku": "NOPE", "quantity": 1}])
    placed = place(db)
    assert placed.status == 201 and counts(db)["Order"] == 1


def test_an_abandoned_claim_is_taken_over_once_its_lease_has_run_out(db, catalogue):
    payload = order_data()
    intake.claim_key(db, scope=SCOPE, key="key-1", request_hash=intake.fingerprint(payload))
    backdate_keys(db, intake.IN_FLIGHT_LEASE + timedelta(seconds=1))
    placed = intake.place_order(db, scope=SCOPE, key="key-1", payload=payload)
    assert placed.status == 201 and counts(db)["Order"] == 1


def test_a_request_whose_claim_was_taken_over_creates_no_order(db, catalogue):
    payload = order_data()
    fingerprint = intake.fingerprint(payload)
    slow = intake.claim_key(db, scope=SCOPE, key="key-1", request_hash=fingerprint)
    backdate_keys(db, intake.IN_FLIGHT_LEASE + timedelta(seconds=1))
    with db.reading() as session:  # the slow request's claim, as it stands after its lease
        slow = intake.Claim(slow.id, session.get(IdempotencyKey, slow.id).created_at)
    intake.claim_key(db, scope=SCOPE, key="key-1", request_hash=fingerprint)  # the takeover
    with pytest.raises(intake.KeyInFlight):
        orders.create_order(
            db, order=payload, actor="assistant", before_commit=intake.KeyCompletion(slow)
        )
    assert counts(db)["Order"] == 0


def test_keys_older_than_a_day_are_purged_and_younger_ones_kept(db, catalogue):
    place(db, key="old")
    backdate_keys(db, intake.KEY_RETENTION + timedelta(minutes=1))
    place(db, key="new")
    assert intake.purge_expired_keys(db) == 1
    assert [row.key for row in key_rows(db)] == ["new"]


# ---- catalogue and order status --------------------------------------------------------------


def test_the_catalogue_lists_active_products_with_the_currency(db, catalogue):
    entries = intake.active_catalogue(db)
    assert "OLD-001" not in {e.sku for e in entries}
    assert intake.CatalogueEntry("TEA-001", "Earl Grey", "Tea", 1200, "USD") in entries


@pytest.mark.parametrize(
    "contact",
    [
        {"email": "ADA@example.com"},
        {"phone": "(415) 555-2671"},
        {"email": "x@y.com", "phone": "+14155552671"},
    ],
)
def test_an_order_is_found_by_its_customers_email_or_phone(db, catalogue, contact):
    placed = place(db)
    found = intake.order_status(db, lookup={"number": placed.number.lower(), **contact})
    assert found is not None and (found.number, found.status) == (placed.number, "pending")


@pytest.mark.parametrize(
    ("number", "contact"),
    [
        ("ORD-99999", {"email": "ada@example.com"}),
        (None, {"email": "eve@example.com"}),
        (None, {"phone": "+14155550000"}),
    ],
)
def test_an_unknown_order_and_a_wrong_contact_look_the_same(db, catalogue, number, contact):
    placed = place(db)
    assert intake.order_status(db, lookup={"number": number or placed.number, **contact}) is None


def test_an_order_lookup_needs_an_email_or_phone(db, catalogue):
    with pytest.raises(InvalidInput) as refused:
        intake.order_status(db, lookup={"number": "ORD-10001"})
    assert refused.value.for_field("email")


# ---- who may change a contact -----------------------------------------------------------------


def contact_channel(db, email: str) -> tuple[str, str | None]:
    with db.reading() as session:
        contact = session.scalar(select(Contact).where(Contact.email_key == email))
        return contact.preferred_channel.value, contact.phone


STAFF_CUSTOMER = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
TAKEOVER = {**STAFF_CUSTOMER, "phone": "+14155552671", "preferred_channel": "sms"}


@pytest.mark.parametrize("source", [Source.ASSISTANT, Source.API])
def test_an_api_order_does_not_change_an_existing_contacts_channel_or_phone(db, catalogue, source):
    orders.create_order(db, order=order_data(customer=STAFF_CUSTOMER), actor="staff")
    assert contact_channel(db, "ada@example.com") == ("email", None)
    change = orders.create_order(
        db, order=order_data(customer=TAKEOVER), actor="assistant", source=source
    )
    assert contact_channel(db, "ada@example.com") == ("email", None)
    # The order's own "received" message follows the contact's choice, by e-mail.
    received = order_details(db, order_id=change.order_id).notifications[0]
    assert (received.channel, received.recipient) == ("email", "ada@example.com")


def test_an_order_placed_through_the_intake_api_leaves_the_contact_alone(db, catalogue):
    orders.create_order(db, order=order_data(customer=STAFF_CUSTOMER), actor="staff")
    place(db, customer=TAKEOVER)
    assert contact_channel(db, "ada@example.com") == ("email", None)


def test_a_manual_order_may_still_change_the_contacts_channel_and_add_a_phone(db, catalogue):
    orders.create_order(db, order=order_data(customer=STAFF_CUSTOMER), actor="staff")
    orders.create_order(db, order=order_data(customer=TAKEOVER), actor="staff")
    assert contact_channel(db, "ada@example.com") == ("sms", "+14155552671")


def test_a_new_customer_from_the_assistant_gets_the_channel_and_phone_it_gave(db, catalogue):
    place(db, customer=TAKEOVER)
    assert contact_channel(db, "ada@example.com") == ("sms", "+14155552671")
