"""Reports on SQLite and PostgreSQL: the hand-computed fixture, days in the business's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from db.models import Order
from domain.settings import BusinessSettings, local_midnight
from queries.reports import ShipBucket, offset_segments, report
from services import orders
from services.settings import save_settings
from tests.builders import add_catalogue, order_data
from tests.report_fixture import build_report_fixture


def test_the_report_matches_the_hand_computed_fixture(db):
    fixture = build_report_fixture(db)
    data = report(db, date_from=fixture.day1, date_to=fixture.day3)

    assert (data.orders, data.counted_orders, data.revenue_cents) == (4, 3, 8645)
    assert data.average_order_cents == 2882
    assert [(d.day, d.orders, d.revenue_cents) for d in data.days] == [
        (fixture.day1, 2, 3098),
        (fixture.day1 + timedelta(days=1), 0, 0),
        (fixture.day3, 2, 5547),
    ]
    assert [(s.key, s.orders, s.total_cents) for s in data.statuses] == [
        ("pending", 1, 1799),
        ("shipped", 1, 3748),
        ("completed", 1, 3098),
        ("cancelled", 1, 2449),
    ]
    assert [(s.key, s.orders, s.total_cents) for s in data.payments] == [
        ("pending", 1, 1799),
        ("paid", 2, 6846),
        ("refunded", 1, 2449),
    ]
    assert [(p.sku, p.quantity, p.orders, p.sales_cents) for p in data.top_products] == [
        ("TEA-001", 3, 2, 3600),
        ("HALF-01", 3, 1, 3000),
    ]
    shipping = data.shipping
    assert (shipping.shipped, shipping.average_hours, shipping.median_hours) == (2, 40.0, 40.0)
    assert ShipBucket("1–2 days", 1) in shipping.buckets
    assert ShipBucket("2–3 days", 1) in shipping.buckets
    assert sum(b.orders for b in shipping.buckets) == 2


def test_an_order_late_in_the_evening_counts_on_the_business_day_not_the_utc_day(db):
    fixture = build_report_fixture(db)
    # Order D was placed at 23:30 in New York on day 3: already day 4 in UTC.
    only_day3 = report(db, date_from=fixture.day3, date_to=fixture.day3)
    assert only_day3.orders == 2
    day4 = fixture.day3 + timedelta(days=1)
    assert report(db, date_from=day4, date_to=day4).orders == 0


def test_a_range_with_no_orders_reports_zeros_and_no_averages(db):
    data = report(db, date_from=date(2020, 1, 1), date_to=date(2020, 1, 3))
    assert (data.orders, data.revenue_cents, data.average_order_cents) == (0, 0, None)
    assert [d.orders for d in data.days] == [0, 0, 0]
    assert data.statuses == [] and data.top_products == []
    assert data.shipping.median_hours is None


def test_a_range_given_backwards_is_read_forwards(db):
    data = report(db, date_from=date(2020, 1, 3), date_to=date(2020, 1, 1))
    assert (data.date_from, data.date_to) == (date(2020, 1, 1), date(2020, 1, 3))


def test_an_odd_number_of_shipped_orders_has_the_middle_one_as_median(db):
    fixture = build_report_fixture(db)
    # Day 1 alone holds one shipped order (A, 30 h).
    data = report(db, date_from=fixture.day1, date_to=fixture.day1)
    assert (data.shipping.shipped, data.shipping.median_hours) == (1, 30.0)


def test_days_follow_daylight_saving_changes_on_both_databases(db):
    save_settings(db, values=BusinessSettings(timezone="America/New_York"), actor="t")
    add_catalogue(db)
    # 2026-03-08: clocks go forward at 02:00 (UTC-5 → UTC-4); 2026-11-01: back (UTC-4 → -5).
    moments = {
        "before spring change": datetime(2026, 3, 8, 6, 30, tzinfo=UTC),  # 01:30 EST, 8th
        "after spring change": datetime(2026, 3, 9, 3, 30, tzinfo=UTC),  # 23:30 EDT, 8th
        "first of nov, EDT": datetime(2026, 11, 1, 4, 30, tzinfo=UTC),  # 00:30 EDT, 1st
        "first of nov, EST": datetime(2026, 11, 2, 4, 30, tzinfo=UTC),  # 23:30 EST, 1st
        "second of nov": datetime(2026, 11, 2, 5, 30, tzinfo=UTC),  # 00:30 EST, 2nd
    }
    for moment in moments.values():
        change = orders.create_order(db, order=order_data(), actor="t")
        with db.writing() as session:
            session.get(Order, change.order_id).created_at = moment
            session.commit()
    march = report(db, date_from=date(2026, 3, 7), date_to=date(2026, 3, 9))
    assert [d.orders for d in march.days] == [0, 2, 0]
    november = report(db, date_from=date(2026, 10, 31), date_to=date(2026, 11, 2))
    assert [d.orders for d in november.days] == [0, 2, 1]


def test_the_offsets_of_a_range_change_exactly_at_each_transition():
    zone = ZoneInfo("Europe/London")
    start = local_midnight(date(2026, 1, 1), zone)
    end = local_midnight(date(2027, 1, 1), zone)
    segments = offset_segments(zone, start, end)
    assert [offset for _, offset in segments] == [0, 3600, 0]
    changes = [datetime.fromtimestamp(at, UTC) for at, _ in segments[1:]]
    assert changes == [
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
    ]


def test_a_zone_without_daylight_saving_has_one_offset_even_at_half_hours():
    zone = ZoneInfo("Asia/Kolkata")
    start = local_midnight(date(2026, 1, 1), zone)
    segments = offset_segments(zone, start, start + timedelta(days=400))
    assert [offset for _, offset in segments] == [5 * 3600 + 1800]
