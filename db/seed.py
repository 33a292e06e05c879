"""Sample data: `python -m db.seed` loads a catalogue; `--orders N` adds N realistic orders.

Works on whatever DATABASE_URL points at (migrating it first). The catalogue step is
idempotent. Orders are made in Python — priced by domain.pricing, as the services price theirs —
and written in bulk on the database's own connection, one transaction per batch: COPY on
PostgreSQL, executemany on SQLite. A million orders take minutes, not hours. They get
no customer notifications, since their customers are made up.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

import config
from db.database import Database
from db.migrate import upgrade
from db.models import ORDER_NUMBER_SEQUENCE, Category, Product
from domain.money import Pricing
from domain.pricing import PricedItem, ProductFacts, price_order

CATALOGUE = {
    "Tea": [
        ("TEA-001", "Earl Grey Loose Leaf 100 g", 1200),
        ("TEA-002", "Sencha Green Tea 80 g", 1450),
        ("TEA-003", "Assam Breakfast 250 g", 1699),
        ("TEA-004", "Chamomile Blossoms 50 g", 899),
        ("TEA-005", "Jasmine Pearls 50 g", 2150),
    ],
    "Coffee": [
        ("COF-001", "House Blend Beans 1 kg", 2999),
        ("COF-002", "Ethiopia Yirgacheffe 250 g", 1575),
        ("COF-003", "Decaf Colombia 500 g", 1825),
        ("COF-004", "Espresso Roast 1 kg", 3249),
    ],
    "Brewing": [
        ("BRW-001", "Glass Teapot 1 L", 3400),
        ("BRW-002", "Pour-Over Dripper", 2250),
        ("BRW-003", "Gooseneck Kettle", 5999),
        ("BRW-004", "Paper Filters (100)", 695),
        ("BRW-005", "Hand Grinder", 4875),
    ],
    "Cups & Mugs": [
        ("MUG-001", "Stoneware Mug 350 ml", 1800),
        ("MUG-002", "Double-Wall Glass (2)", 2495),
        ("MUG-003", "Travel Tumbler", 2799),
    ],
    "Snacks": [
        ("SNK-001", "Shortbread Tin", 1150),
        ("SNK-002", "Dark Chocolate Thins", 799),
        ("SNK-003", "Almond Biscotti", 950),
    ],
    "Gifts": [
        ("GFT-001", "Tea Sampler Gift Box", 3999),
        ("GFT-002", "Coffee Lover's Set", 7499),
        ("GFT-003", "Gift Card $50", 5000),
    ],
}

FIRST_NAMES = (
    "Ada Grace Alan Linus Margaret Katherine Dennis Barbara Ken Radia Tim Hedy Frances "
    "John Edsger Donald Sophie Maria Omar Aisha Chen Yuki Lars Ingrid Priya Mateo Zoe Liam"
).split()
LAST_NAMES = (
    "Lovelace Hopper Turing Torvalds Hamilton Johnson Ritchie Liskov Thompson Perlman "
    "Berners-Lee Lamarr Allen McCarthy Dijkstra Knuth Wilson Garcia Haddad Khan Wei Tanaka "
    "Nilsson Berg Patel Rossi Martin Brown"
).split()
CITIES = [
    ("Springfield", "IL", "62701"),
    ("Portland", "OR", "97205"),
    ("Austin", "TX", "78701"),
    ("Madison", "WI", "53703"),
    ("Burlington", "VT", "05401"),
    ("Boulder", "CO", "80302"),
    ("Savannah", "GA", "31401"),
    ("Ann Arbor", "MI", "48104"),
]
STREETS = "Main St,Oak Ave,Maple Dr,Cedar Ln,Elm St,Pine Rd,Lake View Blvd,Hillcrest Way".split(",")
CARRIERS = ("UPS", "USPS", "FedEx", "DHL")

# (status, payment, share): most orders are done; a shop always has some in flight.
STATUS_MIX = (
    ("completed", "paid", 0.55),
    ("shipped", "paid", 0.10),
    ("in_progress", "paid", 0.08),
    ("in_progress", "pending", 0.04),
    ("pending", "pending", 0.10),
    ("pending", "failed", 0.02),
    ("cancelled", "refunded", 0.05),
    ("cancelled", "pending", 0.06),
)


def seed_catalogue(session: Session) -> int:
    """Add the sample categories and products that are missing; return how many were added."""
    added = 0
    for category_name, products in CATALOGUE.items():
        category = session.scalar(select(Category).where(Category.name == category_name))
        if category is None:
            category = Category(name=category_name)
            session.add(category)
            session.flush()
        existing = set(
            session.scalars(select(Product.sku).where(Product.category_id == category.id))
        )
        for sku, name, price in products:
            if sku in existing or session.scalar(select(Product.id).where(Product.sku == sku)):
                continue
            session.add(Product(sku=sku, name=name, category_id=category.id, price_cents=price))
            added += 1
    session.flush()
    return added


@dataclass(frozen=True)
class Customer:
    id: int
    first_name: str
    last_name: str
    email: str
    phone: str | None

    @property
    def search_text(self) -> str:
        """What an order's search text holds about its customer (see services.orders)."""
        phone = self.phone or ""
        digits = "".join(ch for ch in phone if ch.isdigit())
        parts = (self.first_name, self.last_name, self.email, phone, digits)
        return " ".join(part for part in parts if part).lower()


T = TypeVar("T")
PRICING = Pricing(tax_rate_bp=825, shipping_fee_cents=500, free_shipping_over_cents=7500)
PROGRESS_EVERY = 2.0  # seconds between progress lines

CONTACT_COLUMNS = (
    "id first_name last_name email email_key phone preferred_channel sms_opt_out "
    "created_at updated_at"
).split()
ORDER_COLUMNS = (
    "id number contact_id customer_first_name customer_last_name customer_email "
    "customer_phone ship_street ship_apartment ship_city ship_state ship_zip ship_country "
    "status payment_status currency subtotal_cents tax_cents shipping_cents total_cents "
    "tax_rate_bp source external_ref carrier tracking_number cancel_reason item_count "
    "items_summary search_text version created_at updated_at confirmed_at shipped_at "
    "completed_at cancelled_at"
).split()
# Lines and events take their ids from the database: nothing refers to them.
ITEM_COLUMNS = (
    "order_id product_id sku name unit_price_cents quantity subtotal_cents tax_cents total_cents"
).split()
EVENT_COLUMNS = "order_id kind from_value to_value actor detail created_at".split()


def seed_orders(
    db: Database,
    count: int,
    *,
    seed: int | None = 7,
    batch: int = 10_000,
    progress: bool = False,
    pricing: Pricing = PRICING,
) -> int:
    """Insert `count` orders in bulk, spread over two years and every status."""
    with db.writing() as session:
        seed_catalogue(session)
        session.commit()
        products = [
            ProductFacts(p.id, p.sku, p.name, p.price_cents)
            for p in session.scalars(select(Product).where(Product.active.is_(True)))
        ]
    meter = _Progress(count) if progress else None
    done = 0
    with _writer_for(db) as writer:
        maker = _OrderMaker(random.Random(seed), products, writer, pricing)
        for size in _batches(count, batch):
            writer.begin()
            _write_batch(writer, maker, size)
            writer.commit()
            done += size
            if meter:
                meter.show(done)
    if meter:
        meter.show(done, final=True)
    return done


def _batches(count: int, batch: int) -> Iterator[int]:
    while count > 0:
        yield min(batch, count)
        count -= batch


def _write_batch(writer: _Writer, maker: _OrderMaker, size: int) -> None:
    # Roughly one new customer for every three orders; the rest are repeat customers,
    # picked by id from those already there (no ORDER BY random() over the whole table).
    known = writer.contact_ids()
    fresh = [maker.customer(i) for i in writer.reserve_ids("contacts", max(1, size // 3))]
    writer.insert("contacts", CONTACT_COLUMNS, [maker.contact_row(c) for c in fresh])
    returning = writer.customers(maker.returning_ids(known, len(fresh))) if known else []
    customers = fresh + returning
    orders: list[tuple[Any, ...]] = []
    items: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    ids, numbers = writer.reserve_ids("orders", size), writer.reserve_numbers(size)
    for order_id, number in zip(ids, numbers, strict=True):
        maker.order(order_id, f"ORD-{number}", customers, orders, items, events)
    writer.insert("orders", ORDER_COLUMNS, orders)
    writer.insert("order_items", ITEM_COLUMNS, items)
    writer.insert("order_events", EVENT_COLUMNS, events)


class _Progress:
    def __init__(self, count: int) -> None:
        self.count = count
        self.started = self.shown = time.monotonic()
        self.last = 0

    def show(self, done: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if (now - self.shown < PROGRESS_EVERY and not final) or done == self.last:
            return
        self.shown, self.last = now, done
        rate = done / max(now - self.started, 1e-6)
        print(f"  {done:,}/{self.count:,} orders ({rate:,.0f} orders/s)", file=sys.stderr)


# ---- making orders (plain tuples, in the columns' order) ----


class _OrderMaker:
    def __init__(
        self, rng: random.Random, products: list[ProductFacts], writer: _Writer, pricing: Pricing
    ):
        self.rng = rng
        self.random = rng.random
        self.products = products
        self.pricing = pricing
        self.null = writer.null
        self.stamp = writer.stamp
        self.now = datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as stored

    def pick(self, choices: Sequence[T]) -> T:
        return choices[int(self.random() * len(choices))]

    def customer(self, contact_id: int) -> Customer:
        first, last = self.pick(FIRST_NAMES), self.pick(LAST_NAMES)
        phone = None
        if self.random() < 0.6:
            phone = f"+1{AREA_CODES[contact_id % len(AREA_CODES)]}555{contact_id % 10000:04d}"
        email = f"{first}.{last}.{contact_id}@example.com".lower()
        return Customer(contact_id, first, last, email, phone)

    def contact_row(self, c: Customer) -> tuple[Any, ...]:
        channel = "sms" if c.phone and self.random() < 0.4 else "email"
        created = self.stamp(self.now - timedelta(days=730 + int(self.random() * 70)))
        phone = c.phone or self.null
        return (c.id, c.first_name, c.last_name, c.email, c.email, phone, channel, False,
                created, created)  # fmt: skip

    def returning_ids(self, known: tuple[int, int], wanted: int) -> list[int]:
        low, high = known
        return [low + int(self.random() * (high - low + 1)) for _ in range(wanted)]

    def order(
        self,
        order_id: int,
        number: str,
        customers: list[Customer],
        orders: list[tuple[Any, ...]],
        items: list[tuple[Any, ...]],
        events: list[tuple[Any, ...]],
    ) -> None:
        random, pick, null, stamp = self.random, self.pick, self.null, self.stamp
        contact = pick(customers)
        created = self.now - timedelta(seconds=60 + int(random() * TWO_YEARS))
        status, payment = _pick_status(random())
        history = self._history(status, created)
        priced = price_order(self.cart(), self.pricing)
        city, state, zip_code = pick(CITIES)
        shipped = "shipped" in history
        orders.append(
            (
                order_id,
                number,
                contact.id,
                contact.first_name,
                contact.last_name,
                contact.email,
                contact.phone or null,
                f"{1 + int(random() * 9999)} {pick(STREETS)}",
                f"Apt {1 + int(random() * 40)}" if random() < 0.25 else null,
                city,
                state,
                zip_code,
                "US",
                status,
                payment,
                "USD",
                priced.subtotal_cents,
                priced.tax_cents,
                priced.shipping_cents,
                priced.total_cents,
                self.pricing.tax_rate_bp,
                "assistant" if random() < 0.6 else "manual",
                f"chat-{1000 + int(random() * 99000)}" if random() < 0.5 else null,
                pick(CARRIERS) if shipped else null,
                f"1Z{10**9 + int(random() * 9 * 10**9)}" if shipped else null,
                "Customer changed their mind" if status == "cancelled" else null,
                priced.item_count,
                priced.items_summary,
                f"{number.lower()} {contact.search_text}",
                len(history),  # one version per change, as the services count them
                stamp(created),
                stamp(max(history.values())),
                *(stamp(history[s]) if s in history else null for s in TIMESTAMPED_STEPS),
            )
        )
        items.extend(_item_row(order_id, item) for item in priced.items)
        previous = None
        for step, moment in history.items():
            before, after = STEP_TO_STATUS.get(step, (previous, "cancelled"))
            kind = "created" if step == "created" else "status"
            events.append((order_id, kind, before or null, after, "seed", "sample data",
                           stamp(moment)))  # fmt: skip
            previous = after

    def cart(self) -> list[tuple[ProductFacts, int]]:
        """Some distinct products, each in a small quantity."""
        pick = self.pick
        chosen = self.rng.sample(self.products, k=min(len(self.products), pick(LINE_COUNTS)))
        return [(product, pick(QUANTITIES)) for product in chosen]

    def _history(self, status: str, created: datetime) -> dict[str, datetime]:
        """When the order reached each step; a cancellation sometimes follows a confirmation."""
        path = PATHS[status]
        if status == "cancelled" and self.random() < 0.4:
            path = ("confirmed", "cancelled")
        steps, moment = {"created": created}, created
        for step in path:
            moment = min(self.now, moment + timedelta(hours=1 + int(self.random() * 72)))
            steps[step] = moment
        return steps


def _item_row(order_id: int, item: PricedItem) -> tuple[Any, ...]:
    """The order_items columns (ITEM_COLUMNS) of one priced line."""
    return (order_id, item.product_id, item.sku, item.name, item.unit_price_cents,
            item.quantity, item.subtotal_cents, item.tax_cents, item.total_cents)  # fmt: skip


def _pick_status(roll: float) -> tuple[str, str]:
    cumulative = 0.0
    for status, payment, share in STATUS_MIX:
        cumulative += share
        if roll < cumulative:
            return status, payment
    return STATUS_MIX[0][0], STATUS_MIX[0][1]


TWO_YEARS = 730 * 86400  # seconds
QUANTITIES = (1, 1, 1, 2, 3)
LINE_COUNTS = (1, 1, 2, 2, 3, 4)
AREA_CODES = ("415", "212", "312", "503", "512", "608", "802", "303", "912", "734")
TIMESTAMPED_STEPS = ("confirmed", "shipped", "completed", "cancelled")
PATHS = {
    "pending": (),
    "in_progress": ("confirmed",),
    "shipped": ("confirmed", "shipped"),
    "completed": ("confirmed", "shipped", "completed"),
    "cancelled": ("cancelled",),
}
STEP_TO_STATUS = {
    "created": (None, "pending"),
    "confirmed": ("pending", "in_progress"),
    "shipped": ("in_progress", "shipped"),
    "completed": ("shipped", "completed"),
}


# ---- writing in bulk, on the database's own connection ----


class _Writer:
    """One DBAPI connection; the caller brackets each batch with begin() and commit()."""

    null: Any = None

    def __init__(self, db: Database) -> None:
        self._proxy = db.engine.raw_connection()
        self.connection: Any = self._proxy.driver_connection
        assert self.connection is not None
        self.cursor = self.connection.cursor()

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self.connection.rollback()
        self.cursor.close()
        self._proxy.close()

    def stamp(self, moment: datetime) -> str:
        return moment.isoformat(sep=" ", timespec="microseconds")

    def begin(self) -> None:
        pass

    def commit(self) -> None:
        self.connection.commit()

    def contact_ids(self) -> tuple[int, int] | None:
        """The lowest and highest contact id, or None when there are none."""
        self.cursor.execute("SELECT min(id), max(id) FROM contacts WHERE merged_into_id IS NULL")
        low, high = self.cursor.fetchone()
        return None if low is None else (low, high)

    def customers(self, ids: list[int]) -> list[Customer]:
        found: list[Customer] = []
        unique = sorted(set(ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ", ".join([self.mark] * len(chunk))
            self.cursor.execute(
                "SELECT id, first_name, last_name, email, phone FROM contacts "
                f"WHERE merged_into_id IS NULL AND id IN ({marks}) ORDER BY id",
                chunk,
            )
            found.extend(Customer(*row) for row in self.cursor.fetchall())
        return found

    mark = "?"

    def reserve_ids(self, table: str, count: int) -> list[int]:
        raise NotImplementedError

    def reserve_numbers(self, count: int) -> list[int]:
        raise NotImplementedError

    def insert(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError


class _PostgresWriter(_Writer):
    """COPY … FROM STDIN (CSV, NULL as \\N); ids and numbers drawn from the sequences."""

    null = "\\N"
    mark = "%s"

    def stamp(self, moment: datetime) -> str:
        return moment.isoformat(sep=" ", timespec="microseconds") + "+00"

    def reserve_ids(self, table: str, count: int) -> list[int]:
        self.cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            (table, count),
        )
        return [row[0] for row in self.cursor.fetchall()]

    def reserve_numbers(self, count: int) -> list[int]:
        self.cursor.execute(
            f"SELECT nextval('{ORDER_NUMBER_SEQUENCE}') FROM generate_series(1, %s)", (count,)
        )
        return [row[0] for row in self.cursor.fetchall()]

    def insert(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        buffer.seek(0)
        self.cursor.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
            buffer,
        )


class _SqliteWriter(_Writer):
    """executemany inside BEGIN IMMEDIATE: ids continue from the highest, under the write lock."""

    def begin(self) -> None:
        self.cursor.execute("BEGIN IMMEDIATE")

    def reserve_ids(self, table: str, count: int) -> list[int]:
        self.cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
        last = self.cursor.fetchone()[0]
        return list(range(last + 1, last + count + 1))

    def reserve_numbers(self, count: int) -> list[int]:
        self.cursor.execute(
            "UPDATE counters SET value = value + ? WHERE name = 'order_number' RETURNING value",
            (count,),
        )
        last = self.cursor.fetchone()[0]
        return list(range(last - count + 1, last + 1))

    def insert(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * len(columns))
        self.cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
        )


def _writer_for(db: Database) -> _Writer:
    return _SqliteWriter(db) if db.is_sqlite else _PostgresWriter(db)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load sample data into Product Orders.")
    parser.add_argument("--orders", type=int, default=0, help="how many sample orders to add")
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL or SQLite")
    parser.add_argument("--seed", type=int, default=7, help="random seed, for repeatable data")
    args = parser.parse_args(argv)
    url = args.database_url or config.database_url()
    db = Database(url)
    upgrade(db)
    print(f"Database: {db.describe()}")
    with db.writing() as session:
        added = seed_catalogue(session)
        session.commit()
    print(f"Catalogue: {added} products added.")
    if args.orders > 0:
        started = time.monotonic()
        seed_orders(db, args.orders, seed=args.seed, progress=args.orders >= 20_000)
        elapsed = time.monotonic() - started
        print(f"Orders: {args.orders:,} added in {elapsed:.1f} s.")
    db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
