"""Sample data: `python -m db.seed` loads a catalogue; `--orders N` adds N realistic orders.

Works on whatever DATABASE_URL points at (migrating it first). The catalogue step is
idempotent. Orders are written in bulk — prices and totals still come from the domain's
money rules — and get no customer notifications, since their customers are made up.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

import config
from db.database import Database
from db.migrate import upgrade
from db.models import (
    Category,
    Contact,
    Order,
    OrderEvent,
    OrderItem,
    Product,
)
from domain.money import Pricing, price_line, totals_of

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
class CatalogueItem:
    id: int
    sku: str
    name: str
    price_cents: int


def seed_orders(
    db: Database, count: int, *, seed: int | None = 7, batch: int = 5_000, progress: bool = False
) -> int:
    """Insert `count` orders in bulk, spread over two years and every status."""
    rng = random.Random(seed)
    with db.writing() as session:
        seed_catalogue(session)
        session.commit()
    with db.reading() as session:
        products = [
            CatalogueItem(p.id, p.sku, p.name, p.price_cents)
            for p in session.scalars(select(Product).where(Product.active.is_(True)))
        ]
    pricing = Pricing(tax_rate_bp=825, shipping_fee_cents=500, free_shipping_over_cents=7500)
    started = time.monotonic()
    done = 0
    for size in _batches(count, batch):
        with db.writing() as session:
            _insert_batch(db, session, rng, products, pricing, size)
            session.commit()
        done += size
        if progress:
            rate = done / max(time.monotonic() - started, 1e-6)
            print(f"  {done:,}/{count:,} orders ({rate:,.0f}/s)", file=sys.stderr)
    return done


def _batches(count: int, batch: int) -> Iterator[int]:
    while count > 0:
        yield min(batch, count)
        count -= batch


def _insert_batch(
    db: Database,
    session: Session,
    rng: random.Random,
    products: list[CatalogueItem],
    pricing: Pricing,
    size: int,
) -> None:
    contacts = _contacts(session, rng, max(1, size // 3))
    numbers = _reserve_numbers(db, session, size)
    now = datetime.now(UTC)
    orders, lines_per_order, histories = [], [], []
    for number in numbers:
        contact = rng.choice(contacts)
        created = now - timedelta(seconds=rng.randint(60, 730 * 86400))
        status, payment = _pick_status(rng)
        lines = _pick_lines(rng, products, pricing.tax_rate_bp)
        totals = totals_of((line for _, line in lines), pricing)
        history = _history(rng, status, created, now)
        orders.append(_order_row(rng, number, contact, status, payment, lines, totals, history))
        orders[-1]["tax_rate_bp"] = pricing.tax_rate_bp
        lines_per_order.append(lines)
        histories.append(history)
    ids = session.scalars(
        insert(Order).returning(Order.id, sort_by_parameter_order=True), orders
    ).all()
    items, events = [], []
    for order_id, lines, history in zip(ids, lines_per_order, histories, strict=True):
        items.extend(_item_rows(order_id, lines))
        events.extend(_event_rows(order_id, history))
    session.execute(insert(OrderItem), items)
    session.execute(insert(OrderEvent), events)


def _contacts(session: Session, rng: random.Random, wanted: int) -> list[Contact]:
    existing = session.scalar(select(func.count()).select_from(Contact)) or 0
    # Roughly one new customer for every three orders; the rest are repeat customers.
    rows = []
    for index in range(existing, existing + wanted):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}.{index}@example.com".lower()
        has_phone = rng.random() < 0.6
        rows.append(
            {
                "first_name": first,
                "last_name": last,
                "email": email,
                "email_key": email,
                "phone": f"+1415555{index % 10000:04d}" if has_phone else None,
                "preferred_channel": "sms" if has_phone and rng.random() < 0.4 else "email",
                "sms_opt_out": False,
                "created_at": datetime.now(UTC),
                "updated_at": datetime.now(UTC),
            }
        )
    session.execute(insert(Contact), rows)
    pool = session.scalars(select(Contact).order_by(func.random()).limit(wanted * 3)).all()
    return list(pool)


def _reserve_numbers(db: Database, session: Session, size: int) -> list[str]:
    if db.is_sqlite:
        last = session.execute(
            text(
                "UPDATE counters SET value = value + :n WHERE name = 'order_number' RETURNING value"
            ),
            {"n": size},
        ).scalar_one()
        return [f"ORD-{value}" for value in range(last - size + 1, last + 1)]
    values = session.scalars(
        text("SELECT nextval('order_number_seq') FROM generate_series(1, :n)"), {"n": size}
    ).all()
    return [f"ORD-{value}" for value in values]


def _pick_status(rng: random.Random) -> tuple[str, str]:
    roll, cumulative = rng.random(), 0.0
    for status, payment, share in STATUS_MIX:
        cumulative += share
        if roll < cumulative:
            return status, payment
    return STATUS_MIX[0][0], STATUS_MIX[0][1]


def _pick_lines(rng: random.Random, products: list[CatalogueItem], rate_bp: int) -> list:
    chosen = rng.sample(products, k=min(len(products), rng.choice((1, 1, 2, 2, 3, 4))))
    return [(p, price_line(p.price_cents, rng.choice((1, 1, 1, 2, 3)), rate_bp)) for p in chosen]


def _history(rng: random.Random, status: str, created: datetime, now: datetime) -> dict:
    steps = {"created": created}
    path = {
        "pending": [],
        "in_progress": ["confirmed"],
        "shipped": ["confirmed", "shipped"],
        "completed": ["confirmed", "shipped", "completed"],
        "cancelled": ["cancelled"] if rng.random() < 0.6 else ["confirmed", "cancelled"],
    }[status]
    moment = created
    for step in path:
        moment = min(now, moment + timedelta(hours=rng.randint(1, 72)))
        steps[step] = moment
    return steps


def _order_row(rng, number, contact, status, payment, lines, totals, history) -> dict:  # type: ignore[no-untyped-def]
    city, state, zip_code = rng.choice(CITIES)
    shipped = "shipped" in history
    summary = ", ".join(f"{line.quantity}× {p.name}" for p, line in lines)
    phone = contact.phone or ""
    search = " ".join(
        x
        for x in (number, contact.first_name, contact.last_name, contact.email, phone, phone[1:])
        if x
    )
    return {
        "number": number,
        "contact_id": contact.id,
        "customer_first_name": contact.first_name,
        "customer_last_name": contact.last_name,
        "customer_email": contact.email,
        "customer_phone": contact.phone,
        "ship_street": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
        "ship_apartment": f"Apt {rng.randint(1, 40)}" if rng.random() < 0.25 else None,
        "ship_city": city,
        "ship_state": state,
        "ship_zip": zip_code,
        "ship_country": "US",
        "status": status,
        "payment_status": payment,
        "currency": "USD",
        "subtotal_cents": totals.subtotal_cents,
        "tax_cents": totals.tax_cents,
        "shipping_cents": totals.shipping_cents,
        "total_cents": totals.total_cents,
        "source": "assistant" if rng.random() < 0.6 else "manual",
        "external_ref": f"chat-{rng.randint(1000, 99999)}" if rng.random() < 0.5 else None,
        "carrier": rng.choice(CARRIERS) if shipped else None,
        "tracking_number": f"1Z{rng.randint(10**9, 10**10 - 1)}" if shipped else None,
        "cancel_reason": "Customer changed their mind" if status == "cancelled" else None,
        "item_count": sum(line.quantity for _, line in lines),
        "items_summary": summary[:500],
        "search_text": search.lower(),
        "version": 1 + len(history) - 1,
        "created_at": history["created"],
        "updated_at": max(history.values()),
        "confirmed_at": history.get("confirmed"),
        "shipped_at": history.get("shipped"),
        "completed_at": history.get("completed"),
        "cancelled_at": history.get("cancelled"),
    }


def _item_rows(order_id: int, lines: list) -> list[dict]:
    return [
        {
            "order_id": order_id,
            "product_id": p.id,
            "sku": p.sku,
            "name": p.name,
            "unit_price_cents": line.unit_price_cents,
            "quantity": line.quantity,
            "subtotal_cents": line.subtotal_cents,
            "tax_cents": line.tax_cents,
            "total_cents": line.total_cents,
        }
        for p, line in lines
    ]


STEP_TO_STATUS = {
    "created": (None, "pending"),
    "confirmed": ("pending", "in_progress"),
    "shipped": ("in_progress", "shipped"),
    "completed": ("shipped", "completed"),
}


def _event_rows(order_id: int, history: dict) -> list[dict]:
    rows, previous = [], None
    for step, moment in history.items():
        before, after = STEP_TO_STATUS.get(step, (previous, "cancelled"))
        rows.append(
            {
                "order_id": order_id,
                "kind": "created" if step == "created" else "status",
                "from_value": before,
                "to_value": after,
                "actor": "seed",
                "detail": "sample data",
                "created_at": moment,
            }
        )
        previous = after
    return rows


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
