"""Opening an order and confirming one, beside the same SQL sent bare through the driver.

Both go order by order across the whole table, figure and floor in turn, each order
opened once untimed first (the warm-up, and where its statements are captured).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import select

from bench.datasets import Snapshot
from bench.measure import Floor, Row, Section, Target, timed
from bench.sql import Driver, captured, reads
from db.database import Database
from db.models import Order
from domain.order import OrderStatus
from notify.templates import OrderFacts, render
from queries.orders import order_details
from services.orders import confirm_order

STATUS_TARGET = Target("ratio_at_most", 2.0)


def measure_details(section: Section, db: Database, *, runs: int, rng: random.Random) -> None:
    with db.reading() as session:
        ids = list(session.scalars(select(Order.id)))
    figures, floors = [], []
    driver = Driver(db)
    try:
        for order_id in rng.sample(ids, min(len(ids), max(10, 4 * runs))):
            with captured() as statements:
                order_details(db, order_id=order_id)
            bare = driver.replay(reads(statements.statements))
            figures.append(timed(partial(order_details, db, order_id=order_id)))
            floors.append(timed(bare))
    finally:
        driver.close()
    section.add(
        Row(
            "order_details",
            "Order details (queries.orders.order_details)",
            _median_ms(figures),
            "ms",
            [Floor("sql_floor", "its queries, bare", _median_ms(floors))],
        )
    )


def measure_status_change(section: Section, db: Database, *, runs: int, rng: random.Random) -> None:
    count = max(10, 4 * runs) + 2  # two of each are the warm-up
    with db.reading() as session:
        pending = list(
            session.execute(
                select(Order.id, Order.version).where(Order.status == OrderStatus.PENDING)
            )
        )
    if len(pending) < 2 * count:
        section.notes.append(f"status change: only {len(pending)} pending orders; not measured")
        return
    chosen = rng.sample(pending, 2 * count)
    snapshot = Snapshot.take(db, [order_id for order_id, _ in chosen])
    figures, floors = [], []
    bare = _BareConfirm(db)
    try:
        for (order_id, version), (other_id, other_version) in zip(
            chosen[:count], chosen[count:], strict=True
        ):
            confirm = partial(
                confirm_order, db, order_id=order_id, expected_version=version, actor="bench"
            )
            figures.append(timed(confirm))
            floors.append(timed(partial(bare, other_id, other_version)))
    finally:
        bare.close()
        snapshot.restore(db)
    section.add(
        Row(
            "status_change",
            "Status change (confirm_order: event + outbox row)",
            _median_ms(figures[2:]),
            "ms",
            [Floor("sql_floor", "same SQL, bare", _median_ms(floors[2:]))],
            STATUS_TARGET,
        )
    )


def _median_ms(seconds: list[float]) -> float:
    ordered = sorted(seconds)
    middle = len(ordered) // 2
    value = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return value * 1000


class _BareConfirm:
    """Pending → in progress in the fewest statements: read the order, its contact and the
    settings (which messages go out, signed how) in one, update it with the version check,
    add its event and its outbox row, commit — the statements confirm_order sends."""

    def __init__(self, db: Database) -> None:
        self.driver = Driver(db)
        self.sqlite = db.is_sqlite
        aggregate = "json_group_object" if self.sqlite else "json_object_agg"
        self.sql = {
            name: statement.replace("?", self.driver.mark).replace("json_object_of", aggregate)
            for name, statement in SQL.items()
        }
        self.message = render("confirmed", SAMPLE_FACTS, "Product Orders")

    def __call__(self, order_id: int, version: int) -> None:
        fetch, sql = self.driver.fetch, self.sql
        now: Any = datetime.now(UTC)
        if self.sqlite:
            now = now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        fetch("BEGIN IMMEDIATE" if self.sqlite else "BEGIN")
        try:
            order = fetch(sql["order"], (order_id,))[0]
            fetch(sql["update"], (now, now, version + 1, order_id, version))
            event_id = fetch(sql["event"], (order_id, now))[0][0]
            key = f"{order_id}:{event_id}:email"
            message = self.message
            fetch(sql["notify"], (order_id, event_id, order[1], order[2], message.subject,
                                  message.text, message.html, key, now, now, now))  # fmt: skip
            fetch("COMMIT")
        except BaseException:
            fetch("ROLLBACK")
            raise

    def close(self) -> None:
        self.driver.close()


SAMPLE_FACTS = OrderFacts("ORD-510000", "Ada", 4599, "USD", "2× Earl Grey Loose Leaf 100 g")
SQL = {
    # The columns services.orders.CHANGE_COLUMNS names, then the contact's, then the settings.
    "order": "SELECT o.version, o.contact_id, o.customer_email, o.id, o.number, o.status,"
    " o.payment_status, o.customer_first_name, o.customer_phone, o.currency, o.total_cents,"
    " o.items_summary, o.carrier, o.tracking_number, o.tracking_url,"
    " c.id, c.phone, c.preferred_channel, c.sms_opt_out,"
    " (SELECT json_object_of(key, value) FROM settings)"
    " FROM orders o LEFT OUTER JOIN contacts c ON c.id = o.contact_id WHERE o.id = ?",
    "update": "UPDATE orders SET status = 'in_progress', confirmed_at = ?, updated_at = ?,"
    " version = ? WHERE id = ? AND version = ?",
    "event": "INSERT INTO order_events (order_id, kind, from_value, to_value, actor, detail,"
    " created_at) VALUES (?, 'status', 'pending', 'in_progress', 'bench-floor', '', ?)"
    " RETURNING id",
    "notify": "INSERT INTO notifications (order_id, event_id, contact_id, template, channel,"
    " recipient, subject, body_text, body_html, status, dedupe_key, attempts, next_attempt_at,"
    " created_at, updated_at) VALUES (?, ?, ?, 'confirmed', 'email', ?, ?, ?, ?, 'queued', ?, 0,"
    " ?, ?, ?)",
}
