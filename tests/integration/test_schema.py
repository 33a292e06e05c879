"""Migrations and sample data on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from db.database import Database
from db.migrate import current_revision, downgrade, ensure_schema, head_revision, upgrade
from db.models import Order, OrderEvent, OrderItem, Product
from db.seed import CATALOGUE, main, seed_catalogue, seed_orders
from domain.money import price_line
from tests.conftest import postgres_url

TABLES = {
    "categories",
    "contacts",
    "counters",
    "idempotency_keys",
    "notifications",
    "order_events",
    "order_items",
    "orders",
    "products",
    "settings",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def blank(request, tmp_path):
    """A database with nothing in it, for migrating from scratch."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'blank.db'}")
        yield db
        db.dispose()
        return
    url = postgres_url()
    if not url:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    name = make_url(url).database + "_blank"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    db = Database(make_url(url).set(database=name).render_as_string(hide_password=False))
    yield db
    db.dispose()
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def test_migrations_upgrade_from_empty_and_downgrade_back(blank):
    upgrade(blank)
    assert TABLES <= set(inspect(blank.engine).get_table_names())
    assert current_revision(blank) == head_revision(blank)
    downgrade(blank)
    assert set(inspect(blank.engine).get_table_names()) <= {"alembic_version"}
    upgrade(blank)
    assert current_revision(blank) == head_revision(blank)


def test_the_app_migrates_sqlite_itself_but_asks_for_alembic_on_postgresql(blank):
    from db.migrate import SchemaOutOfDate

    if blank.is_sqlite:
        ensure_schema(blank)
        assert current_revision(blank) == head_revision(blank)
    else:
        with pytest.raises(SchemaOutOfDate, match="alembic upgrade head"):
            ensure_schema(blank)


def test_the_first_order_number_is_10001(db):
    with db.writing() as session:
        assert db.next_order_number(session) == "ORD-10001"
        assert db.next_order_number(session) == "ORD-10002"
        session.rollback()


def test_the_catalogue_seed_is_idempotent(db):
    with db.writing() as session:
        first = seed_catalogue(session)
        second = seed_catalogue(session)
        session.commit()
    assert first == sum(len(p) for p in CATALOGUE.values()) and second == 0


def test_seeded_orders_cover_every_status_and_their_totals_add_up(db):
    seed_orders(db, 300, batch=120)
    with db.reading() as session:
        statuses = set(session.scalars(select(Order.status).distinct()))
        assert {s.value for s in statuses} == {
            "pending",
            "in_progress",
            "shipped",
            "completed",
            "cancelled",
        }
        assert session.scalar(select(func.count()).select_from(Order)) == 300
        numbers = session.scalars(select(Order.number)).all()
        assert len(set(numbers)) == 300
        for order in session.scalars(select(Order).limit(30)):
            lines = [
                price_line(i.unit_price_cents, i.quantity, order.tax_rate_bp) for i in order.items
            ]
            assert order.subtotal_cents == sum(line.subtotal_cents for line in lines)
            assert order.tax_cents == sum(line.tax_cents for line in lines)
            assert (
                order.total_cents == order.subtotal_cents + order.tax_cents + order.shipping_cents
            )
            assert order.item_count == sum(i.quantity for i in order.items)
        assert session.scalar(select(func.count()).select_from(OrderItem)) >= 300
        assert session.scalar(select(func.count()).select_from(OrderEvent)) >= 300


def test_the_seed_command_loads_the_catalogue_and_orders(db, capsys):
    main(["--database-url", db.url, "--orders", "25"])
    out = capsys.readouterr().out
    assert "Orders: 25 added" in out
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Product)) > 0
        assert session.scalar(select(func.count()).select_from(Order)) == 25
    main(["--database-url", db.url])
    assert "Catalogue: 0 products added." in capsys.readouterr().out
