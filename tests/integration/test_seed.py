"""The bulk generator: COPY on PostgreSQL and executemany on SQLite make the same, sound orders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from db.database import Database
from db.models import Contact, Order, OrderEvent, OrderItem, utc_now
from db.seed import seed_orders
from domain.order import OrderStatus
from queries.orders import OrderFilter, Tab, list_orders, tab_counts
from services.orders import search_text_of
from tests.conftest import _open, empty

SOUND = {
    "orders whose total is not lines + tax + shipping": """
        SELECT count(*) FROM orders o
        WHERE o.total_cents <> o.subtotal_cents + o.tax_cents + o.shipping_cents
           OR o.subtotal_cents <> (SELECT sum(subtotal_cents) FROM order_items
                                   WHERE order_id = o.id)
           OR o.tax_cents <> (SELECT sum(tax_cents) FROM order_items WHERE order_id = o.id)
           OR o.item_count <> (SELECT sum(quantity) FROM order_items WHERE order_id = o.id)""",
    "lines whose total is not subtotal + tax": """
        SELECT count(*) FROM order_items
        WHERE total_cents <> subtotal_cents + tax_cents
           OR subtotal_cents <> unit_price_cents * quantity""",
    "orders with other than one to four lines": """
        SELECT count(*) FROM orders o
        WHERE (SELECT count(*) FROM order_items WHERE order_id = o.id) NOT BETWEEN 1 AND 4""",
    "orders without exactly one 'created' event": """
        SELECT count(*) FROM orders o
        WHERE (SELECT count(*) FROM order_events
               WHERE order_id = o.id AND kind = 'created') <> 1""",
    "orders whose last event is not their status": """
        SELECT count(*) FROM orders o
        WHERE o.status <> (SELECT to_value FROM order_events WHERE order_id = o.id
                           ORDER BY created_at DESC, id DESC LIMIT 1)""",
    "orders whose version does not count their changes": """
        SELECT count(*) FROM orders o
        WHERE o.version <> (SELECT count(*) FROM order_events WHERE order_id = o.id)""",
    "events by anyone but the seed": "SELECT count(*) FROM order_events WHERE actor <> 'seed'",
    "orders whose customer snapshot differs from the contact": """
        SELECT count(*) FROM orders o JOIN contacts c ON c.id = o.contact_id
        WHERE o.customer_email <> c.email OR o.customer_first_name <> c.first_name
           OR o.customer_last_name <> c.last_name""",
    "in-flight or done orders never confirmed": """
        SELECT count(*) FROM orders
        WHERE status IN ('in_progress', 'shipped', 'completed') AND confirmed_at IS NULL""",
    "shipped or completed orders without tracking": """
        SELECT count(*) FROM orders
        WHERE status IN ('shipped', 'completed')
          AND (shipped_at IS NULL OR carrier IS NULL OR tracking_number IS NULL)""",
}


def test_seeded_orders_are_sound_in_every_batch(db):
    seed_orders(db, 1_200, batch=500)
    with db.reading() as session:
        problems = {name: session.scalar(text(sql)) for name, sql in SOUND.items()}
        count, numbers = session.execute(
            select(func.count(), func.count(Order.number.distinct()))
        ).one()
    assert {name: n for name, n in problems.items() if n} == {}
    assert count == numbers == 1_200


def test_seeded_customers_come_back_across_batches(db):
    seed_orders(db, 1_200, batch=300)
    with db.reading() as session:
        customers = session.scalar(select(func.count(Order.contact_id.distinct())))
        contacts = session.scalar(select(func.count()).select_from(Contact))
        batches_per_customer = session.execute(
            select(func.max(Order.id) - func.min(Order.id)).group_by(Order.contact_id)
        ).scalars()
        spans = sorted(batches_per_customer)
    assert contacts == 4 * 300 // 3
    assert customers < 1_200 * 0.6  # most orders are from someone who ordered before
    assert spans[-1] >= 300  # some customer ordered again in a later batch


def test_seeded_orders_span_two_years_and_are_found_by_search(db):
    seed_orders(db, 400, batch=400)
    now = utc_now()
    with db.reading() as session:
        oldest, newest = session.execute(
            select(func.min(Order.created_at), func.max(Order.created_at))
        ).one()
        sample = session.scalars(select(Order).limit(50)).all()
    assert now - timedelta(days=731) < oldest < now - timedelta(days=600)
    assert now - timedelta(days=100) < newest <= now
    for order in sample:
        assert order.search_text == search_text_of(order)
    for text_ in (sample[7].number, sample[7].customer_email):
        found = list_orders(db, filters=OrderFilter(text=text_))
        assert sample[7].id in [row.id for row in found.rows], text_


def test_bulk_seeded_orders_are_counted_per_tab(db):
    seed_orders(db, 900, batch=400)
    with db.reading() as session:
        counted = dict(
            session.execute(select(Order.status, func.count()).group_by(Order.status)).all()
        )
    tabs = tab_counts(db)
    assert tabs[Tab.ALL] == 900
    assert tabs[Tab.PENDING] == counted[OrderStatus.PENDING]
    assert tabs[Tab.CURRENT] == counted[OrderStatus.IN_PROGRESS] + counted[OrderStatus.SHIPPED]


@pytest.fixture
def both(_databases, tmp_path_factory):
    """The SQLite and the PostgreSQL test database, emptied, in one test."""
    made = {kind: _open(kind, _databases, tmp_path_factory.getbasetemp()) for kind in _KINDS}
    for db in made.values():
        empty(db)
    yield made
    for db in made.values():
        empty(db)


_KINDS = ("sqlite", "postgresql")


def _fingerprint(db: Database) -> dict[str, list[tuple]]:
    with db.reading() as session:
        return {
            "orders": session.execute(
                select(
                    Order.number,
                    Order.status,
                    Order.payment_status,
                    Order.customer_email,
                    Order.customer_phone,
                    Order.total_cents,
                    Order.item_count,
                    Order.items_summary,
                    Order.search_text,
                    Order.ship_street,
                    Order.version,
                ).order_by(Order.id)
            ).all(),
            "items": session.execute(
                select(OrderItem.order_id, OrderItem.sku, OrderItem.quantity).order_by(
                    OrderItem.order_id, OrderItem.id
                )
            ).all(),
            "events": session.execute(
                select(OrderEvent.order_id, OrderEvent.kind, OrderEvent.to_value).order_by(
                    OrderEvent.order_id, OrderEvent.id
                )
            ).all(),
        }


def test_the_same_seed_makes_the_same_orders_on_sqlite_and_postgresql(both):
    for db in both.values():
        seed_orders(db, 700, seed=42, batch=250)
    sqlite, postgresql = (_fingerprint(both[kind]) for kind in _KINDS)
    assert len(sqlite["orders"]) == 700
    assert sqlite == postgresql


def test_repeat_customers_are_the_same_on_both_however_postgresql_stores_its_rows(both):
    """PostgreSQL returns rows in the order it stores them unless asked; an update moves them."""
    for db in both.values():
        seed_orders(db, 300, seed=5, batch=300)
        with db.writing() as session:
            session.execute(text("UPDATE contacts SET first_name = first_name WHERE id % 2 = 0"))
            session.commit()
        seed_orders(db, 300, seed=6, batch=300)
    sqlite, postgresql = (_fingerprint(both[kind]) for kind in _KINDS)
    assert sqlite == postgresql
