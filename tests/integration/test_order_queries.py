"""The order list's reads on both databases: counts, keyset pages, indexed search."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from bench.sql import captured
from db.models import Order
from db.seed import seed_orders
from domain.order import OrderStatus
from queries import orders as queries
from queries.orders import OrderFilter, PageRequest, Sort, Tab, list_orders, tab_counts
from services import orders
from tests.builders import add_catalogue, order_data


@pytest.fixture
def shop(db):
    add_catalogue(db)
    return db


def recount(db) -> dict[Tab, int]:
    with db.reading() as session:
        by_status = dict(
            session.execute(select(Order.status, func.count()).group_by(Order.status)).all()
        )
    return {
        Tab.PENDING: by_status.get(OrderStatus.PENDING, 0),
        Tab.CURRENT: by_status.get(OrderStatus.IN_PROGRESS, 0)
        + by_status.get(OrderStatus.SHIPPED, 0),
        Tab.ALL: sum(by_status.values()),
    }


def test_the_kept_counts_match_a_recount_after_every_kind_of_write(shop):
    assert tab_counts(shop) == recount(shop) == {Tab.PENDING: 0, Tab.CURRENT: 0, Tab.ALL: 0}
    first = orders.create_order(shop, order=order_data(), actor="t")
    orders.create_order(shop, order=order_data(), actor="t")
    orders.confirm_order(shop, order_id=first.order_id, expected_version=None, actor="t")
    assert tab_counts(shop) == recount(shop) == {Tab.PENDING: 1, Tab.CURRENT: 1, Tab.ALL: 2}
    seed_orders(shop, 150, batch=70)  # bulk inserts (COPY on PostgreSQL)
    assert tab_counts(shop) == recount(shop)
    with shop.writing() as session:  # a hand-made change outside the services is counted too
        session.execute(text("UPDATE orders SET status = 'cancelled' WHERE status = 'pending'"))
        session.commit()
    assert tab_counts(shop) == recount(shop)
    assert tab_counts(shop)[Tab.PENDING] == 0


def test_a_rolled_back_change_leaves_the_counts_alone(shop):
    orders.create_order(shop, order=order_data(), actor="t")
    before = tab_counts(shop)
    with shop.writing() as session:
        session.execute(text("UPDATE orders SET status = 'shipped'"))
        session.rollback()
    assert tab_counts(shop) == before == recount(shop)


@pytest.mark.parametrize("sort", list(Sort))
def test_walking_the_pages_forward_and_back_visits_every_order_once_in_order(shop, sort):
    seed_orders(shop, 57, batch=57)
    expected = _all_ids(shop, sort)
    forward, request = [], PageRequest()
    pages = 0
    while True:
        page = list_orders(shop, tab=Tab.ALL, sort=sort, request=request, page_size=10)
        forward += [r.id for r in page.rows]
        pages += 1
        assert page.has_previous == (pages > 1)
        if not page.has_next:
            break
        request = PageRequest("after", page.last_cursor)
    assert forward == expected and pages == 6
    backward, request = [], PageRequest("last")
    while True:
        page = list_orders(shop, tab=Tab.ALL, sort=sort, request=request, page_size=10)
        backward = [r.id for r in page.rows] + backward
        if not page.has_previous:
            break
        request = PageRequest("before", page.first_cursor)
    assert backward == expected


def _all_ids(db, sort: Sort, *, holding: str = "") -> list[int]:
    column, descending = queries.SORT_KEYS[sort]
    order = (column.desc(), Order.id.desc()) if descending else (column.asc(), Order.id.asc())
    query = select(Order.id).where(Order.search_text.contains(holding.lower())).order_by(*order)
    with db.reading() as session:
        return list(session.scalars(query))


def _walk(db, filters: OrderFilter, sort: Sort) -> tuple[list[int], list[int], int]:
    """Every id met paging forward from the first page, and back from the last; the count."""
    forward, request = [], PageRequest()
    while True:
        page = list_orders(db, filters=filters, sort=sort, request=request, page_size=4)
        forward += [r.id for r in page.rows]
        if not page.has_next:
            break
        request = PageRequest("after", page.last_cursor)
    backward, request = [], PageRequest("last")
    while True:
        page = list_orders(db, filters=filters, sort=sort, request=request, page_size=4)
        backward = [r.id for r in page.rows] + backward
        if not page.has_previous:
            break
        request = PageRequest("before", page.first_cursor)
    return forward, backward, page.total


@pytest.mark.parametrize("sort", list(Sort))
@pytest.mark.parametrize("limit", [10_000, 3], ids=["few matches", "many matches"])
def test_a_search_pages_like_the_full_list_whether_its_matches_are_few_or_many(
    shop, monkeypatch, sort, limit
):
    # Few: the page is read from the matches through the text index. Many (over the count
    # limit): the page is read newest first. Both must page exactly like the plain list.
    monkeypatch.setattr(queries, "COUNT_LIMIT", limit)
    seed_orders(shop, 60, batch=60)
    name = _common_last_name(shop)
    expected = _all_ids(shop, sort, holding=name)
    forward, backward, total = _walk(shop, OrderFilter(text=name.upper()), sort)
    assert forward == backward == expected
    assert total == min(len(expected), limit + 1)


def _common_last_name(db) -> str:
    with db.reading() as session:
        return session.execute(
            select(Order.customer_last_name)
            .group_by(Order.customer_last_name)
            .order_by(func.count().desc(), Order.customer_last_name)
            .limit(1)
        ).scalar_one()


def test_a_page_past_the_last_match_is_empty_and_still_counts_them(shop):
    seed_orders(shop, 30, batch=30)
    name = _common_last_name(shop)
    everything = list_orders(shop, filters=OrderFilter(text=name), page_size=100)
    beyond = PageRequest("after", everything.last_cursor)
    page = list_orders(shop, filters=OrderFilter(text=name), request=beyond, page_size=100)
    assert page.rows == [] and page.total == everything.total == len(everything.rows) > 1


def test_a_search_with_few_matches_reads_its_page_and_count_in_one_query(shop):
    seed_orders(shop, 30, batch=30)
    name = _common_last_name(shop)
    with captured() as sql:
        page = list_orders(shop, filters=OrderFilter(text=name))
    assert page.total >= 1
    order_reads = [s for s, _ in sql.statements if "FROM orders" in s]
    assert len(order_reads) == 1, order_reads
    if shop.is_sqlite:  # the FTS5 trigram table, not a scan, finds the matches
        plan = _plan(shop, *sql.statements[-1])
        assert "orders_fts VIRTUAL TABLE" in plan, plan


def _plan(db, statement: str, parameters) -> str:
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return "\n".join(str(row[-1]) for row in rows)


def test_the_last_page_holds_the_oldest_orders(shop):
    seed_orders(shop, 23, batch=23)
    page = list_orders(shop, tab=Tab.ALL, request=PageRequest("last"), page_size=10)
    assert [r.id for r in page.rows] == _all_ids(shop, Sort.NEWEST)[-10:]
    assert page.has_previous and not page.has_next


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("lovelace", {"ada"}),
        ("ADA@EXAMPLE", {"ada"}),
        ("hopper ada", set()),  # every word must match
        ("grace hopper", {"grace"}),
        ("ORD-10002", {"grace"}),
        ("gr", {"grace"}),  # short words scan instead of using the index
        ("555", {"ada", "grace"}),
        ("%", set()),
        ("a_a", set()),
        ("o\\r", set()),
        # Quotes and FTS5 query syntax are literals too, never an error.
        ('love"lace', set()),
        ('"lovelace"', set()),
        ("lace* OR grace", set()),
        ("NEAR(ada", set()),
    ],
)
def test_text_search_matches_each_word_as_a_literal(shop, words, expected):
    orders.create_order(shop, order=order_data(), actor="t")
    orders.create_order(
        shop,
        order=order_data(
            customer={
                "first_name": "Grace",
                "last_name": "Hopper",
                "email": "grace@example.com",
                "phone": "+1 415 555 0100",
            }
        ),
        actor="t",
    )
    page = list_orders(shop, tab=Tab.ALL, filters=OrderFilter(text=words))
    assert {r.customer_email.split("@")[0] for r in page.rows} == expected
    assert page.total == len(expected)


def test_an_edit_that_changes_the_name_is_found_by_the_new_name(shop):
    change = orders.create_order(shop, order=order_data(), actor="t")
    orders.edit_order(
        shop,
        order_id=change.order_id,
        expected_version=None,
        actor="t",
        changes=order_data(customer__last_name="Byron"),
    )
    assert list_orders(shop, filters=OrderFilter(text="byron")).total == 1
    assert list_orders(shop, filters=OrderFilter(text="lovelace")).total == 0


def test_a_filtered_count_stops_at_the_limit(shop, monkeypatch):
    monkeypatch.setattr(queries, "COUNT_LIMIT", 5)
    seed_orders(shop, 12, batch=12)
    page = list_orders(shop, tab=Tab.ALL, filters=OrderFilter(text="example"), page_size=4)
    assert page.total == 6 and not page.total_is_exact
    unfiltered = list_orders(shop, tab=Tab.ALL, page_size=4)
    assert unfiltered.total == 12  # the kept counts are always exact


def test_reads_inside_an_open_reading_share_its_session_and_end_with_it(shop):
    orders.create_order(shop, order=order_data(), actor="t")
    with shop.reading() as outer:
        counts = tab_counts(shop)
        with shop.reading() as inner:
            assert inner is outer
        page = list_orders(shop, tab=Tab.PENDING, counts=counts)
        assert outer.in_transaction()
    assert not outer.in_transaction()
    assert [row.number for row in page.rows] == ["ORD-10001"] and counts[Tab.PENDING] == 1
    with shop.reading() as later:
        assert later is not outer
