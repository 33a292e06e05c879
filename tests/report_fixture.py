"""Orders with known totals, days and outcomes, whose report is worked out by hand below.

Settings: 8.25 % tax per line (rounded half up), $5.00 shipping, days in New York.

| order | items      | total | placed (local) | outcome                                 |
|-------|------------|------:|----------------|-----------------------------------------|
| A     | 2× TEA-001 | 30.98 | day 1, 00:15   | completed, paid; shipped after 30 h     |
| B     | 1× MUG-001 | 24.49 | day 1, 12:00   | cancelled, refunded                     |
| C     | 3× HALF-01 | 37.48 | day 3, 09:00   | shipped, paid; shipped after 50 h       |
| D     | 1× TEA-001 | 17.99 | day 3, 23:30   | pending (already day 4 in UTC)          |
| E     | 1× MUG-001 | 24.49 | day 0, 23:59   | pending, before the range               |

Totals: A = 24.00 + 1.98 tax + 5.00; B = 18.00 + 1.49 (1.485 rounded half up) + 5.00;
C = 30.00 + 2.48 (2.475) + 5.00; D = 12.00 + 0.99 + 5.00.

For days 1–3: 4 orders placed; revenue counts A, C, D (not the cancelled, refunded B):
30.98 + 37.48 + 17.99 = 86.45; average 86.45 / 3 = 28.8166… → 28.82. Per day: day 1 two
orders, 30.98; day 2 none; day 3 two orders, 55.47. Top products (counted orders only):
TEA-001 36.00 (3 sold, 2 orders), HALF-01 30.00 (3 sold). Placed to shipped: 30 h and 50 h —
median and average 40 h; one in "1–2 days", one in "2–3 days".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from db.database import Database
from db.models import Order
from domain.order import OrderStatus, PaymentStatus
from domain.settings import BusinessSettings
from services import orders
from services.settings import save_settings
from tests.builders import add_catalogue, order_data

ZONE = "America/New_York"


@dataclass(frozen=True)
class ReportFixture:
    day1: date
    day3: date


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


def build_report_fixture(db: Database, *, today: date | None = None) -> ReportFixture:
    """The five orders of the table above, with day 1 five days before `today`."""
    save_settings(db, values=BusinessSettings(timezone=ZONE), actor="test")
    add_catalogue(db)
    today = today or datetime.now(ZoneInfo(ZONE)).date()
    day1 = today - timedelta(days=5)
    day0, day3 = day1 - timedelta(days=1), day1 + timedelta(days=2)
    plan = [
        ("a", "TEA-001", 2, local(day1, 0, 15), OrderStatus.COMPLETED, PaymentStatus.PAID, 30),
        ("b", "MUG-001", 1, local(day1, 12), OrderStatus.CANCELLED, PaymentStatus.REFUNDED, None),
        ("c", "HALF-01", 3, local(day3, 9), OrderStatus.SHIPPED, PaymentStatus.PAID, 50),
        ("d", "TEA-001", 1, local(day3, 23, 30), OrderStatus.PENDING, PaymentStatus.PENDING, None),
        ("e", "MUG-001", 1, local(day0, 23, 59), OrderStatus.PENDING, PaymentStatus.PENDING, None),
    ]
    for name, sku, quantity, placed, status, payment, ship_hours in plan:
        change = orders.create_order(
            db,
            order=order_data(
                customer__email=f"{name}@example.com",
                items=[{"sku": sku, "quantity": quantity}],
            ),
            actor="test",
        )
        with db.writing() as session:
            order = session.get(Order, change.order_id)
            assert order is not None
            order.created_at = placed
            order.status = status
            order.payment_status = payment
            if ship_hours is not None:
                order.shipped_at = placed + timedelta(hours=ship_hours)
            session.commit()
    return ReportFixture(day1, day3)
