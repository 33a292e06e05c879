"""Read services: plain data for the pages, filtered, sorted, counted and paged in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, Text, column, func, select, table, tuple_
from sqlalchemy.orm import Session

from db.database import Database
from db.models import (
    Contact,
    Notification,
    Order,
    OrderCount,
    OrderEvent,
    OrderItem,
    Product,
    customer_code,
)
from db.settings import load_settings
from domain.enums import Source
from domain.order import CURRENT, Action, OrderStatus, PaymentStatus, allowed_actions
from domain.pricing import PricedItem, ProductFacts, price_order
from domain.settings import BusinessSettings, within_days
from queries.search import found_in_any, search_terms, searchable


class Tab(StrEnum):
    PENDING = "pending"
    CURRENT = "current"
    ALL = "all"


TAB_STATUSES: dict[Tab, frozenset[OrderStatus] | None] = {
    Tab.PENDING: frozenset({OrderStatus.PENDING}),
    Tab.CURRENT: CURRENT,
    Tab.ALL: None,
}


class Sort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    TOTAL_HIGH = "total_high"
    TOTAL_LOW = "total_low"


# The column each sort orders by (with the id as tie-breaker), and whether it runs downwards.
SORT_KEYS: dict[Sort, tuple[Any, bool]] = {
    Sort.NEWEST: (Order.created_at, True),
    Sort.OLDEST: (Order.created_at, False),
    Sort.TOTAL_HIGH: (Order.total_cents, True),
    Sort.TOTAL_LOW: (Order.total_cents, False),
}


@dataclass(frozen=True)
class OrderFilter:
    text: str = ""
    statuses: tuple[OrderStatus, ...] = ()
    payments: tuple[PaymentStatus, ...] = ()
    sources: tuple[Source, ...] = ()
    date_from: date | None = None  # in the business's time zone, inclusive
    date_to: date | None = None


@dataclass(frozen=True)
class OrderRow:
    id: int
    number: str
    customer_name: str
    customer_email: str
    item_count: int
    items_summary: str
    total_cents: int
    currency: str
    status: OrderStatus
    payment_status: PaymentStatus
    source: Source
    external_ref: str | None
    created_at: datetime
    version: int
    cursor: tuple[Any, int] = (None, 0)

    @property
    def actions(self) -> list[Action]:
        return allowed_actions(self.status)


@dataclass(frozen=True)
class PageRequest:
    """Which page: the first, the last, or the one after / before a boundary row.

    Keyset paging: a page is found by seeking to its boundary in an index, so a deep page
    costs what page 1 costs, however many orders came before it.
    """

    direction: Literal["first", "after", "before", "last"] = "first"
    cursor: tuple[Any, int] | None = None  # (sort value, order id) of the boundary row

    @property
    def boundary(self) -> tuple[Any, int] | None:
        """The row the page starts after or ends before; None for the first and last pages."""
        return self.cursor if self.direction in ("after", "before") else None


@dataclass(frozen=True)
class OrderPage:
    rows: list[OrderRow]
    total: int  # exact, or COUNT_LIMIT + 1 meaning "more than COUNT_LIMIT"
    has_previous: bool
    has_next: bool
    page_size: int

    @property
    def total_is_exact(self) -> bool:
        return self.total <= COUNT_LIMIT

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def first_cursor(self) -> tuple[Any, int] | None:
        return self.rows[0].cursor if self.rows else None

    @property
    def last_cursor(self) -> tuple[Any, int] | None:
        return self.rows[-1].cursor if self.rows else None


# A filtered view counts its matches up to here; beyond, the page says "more than 10,000".
COUNT_LIMIT = 10_000

LIST_COLUMNS = (
    Order.id,
    Order.number,
    Order.customer_first_name,
    Order.customer_last_name,
    Order.customer_email,
    Order.item_count,
    Order.items_summary,
    Order.total_cents,
    Order.currency,
    Order.status,
    Order.payment_status,
    Order.source,
    Order.external_ref,
    Order.created_at,
    Order.version,
)


def tab_counts(db: Database) -> dict[Tab, int]:
    """Orders per tab, from the counts the database keeps (no scan of the orders)."""
    with db.reading() as session:
        return _tab_counts(session)


def _tab_counts(session: Session) -> dict[Tab, int]:
    rows = session.execute(
        select(OrderCount.status, func.sum(OrderCount.n)).group_by(OrderCount.status)
    ).all()
    by_status = {OrderStatus(status): int(n or 0) for status, n in rows}
    return {
        Tab.PENDING: by_status.get(OrderStatus.PENDING, 0),
        Tab.CURRENT: sum(by_status.get(s, 0) for s in CURRENT),
        Tab.ALL: sum(by_status.values()),
    }


def list_orders(
    db: Database,
    *,
    tab: Tab = Tab.ALL,
    filters: OrderFilter = OrderFilter(),
    sort: Sort = Sort.NEWEST,
    request: PageRequest = PageRequest(),
    page_size: int = 50,
    zone: ZoneInfo | None = None,
    counts: dict[Tab, int] | None = None,
) -> OrderPage:
    """One page of orders and how many match — each from indexes, never a scan of the table.

    `counts`: the tab counts the caller already read for this view, saving a query.
    """
    with db.reading() as session:
        zone = zone or load_settings(session).zone
        conditions = order_conditions(tab, filters, zone)
        fetched: Sequence[Any] | None = None
        if filters.text:
            index = _indexed_search(search_terms(filters.text)) if db.is_sqlite else None
            total, fetched = _search_page(session, conditions, index, sort, request, page_size)
        else:
            total = _count(session, tab, filters, conditions, counts)
        if fetched is None or total > COUNT_LIMIT:
            fetched = session.execute(_page_query(conditions, sort, request, page_size)).all()
    rows, has_previous, has_next = _paged([_row(r, sort) for r in fetched], request, page_size)
    return OrderPage(rows, total, has_previous, has_next, page_size)


def _count(
    session: Session,
    tab: Tab,
    filters: OrderFilter,
    conditions: list[Any],
    counts: dict[Tab, int] | None,
) -> int:
    """Exact up to COUNT_LIMIT, then COUNT_LIMIT + 1; an unfiltered tab from its counts."""
    if filters == OrderFilter():
        return (counts or _tab_counts(session))[tab]
    matching = select(Order.id).where(*conditions).limit(COUNT_LIMIT + 1).subquery()
    return session.scalar(select(func.count()).select_from(matching)) or 0


def _page_query(conditions: list[Any], sort: Sort, request: PageRequest, size: int) -> Any:
    column, _ = SORT_KEYS[sort]
    query = select(*LIST_COLUMNS).where(*conditions)
    return _keyset(query, column, Order.id, sort, request, size)


def _search_page(
    session: Session,
    conditions: list[Any],
    index: Any,
    sort: Sort,
    request: PageRequest,
    size: int,
) -> tuple[int, Sequence[Any]]:
    """A search's count and page from one pass over its matches (up to COUNT_LIMIT + 1).

    Left to itself the planner walks the date index newest first and tests every order on
    the way: quick when matches are everywhere, a scan of the table when they are rare. So
    the matches are read through the text index first — MATERIALIZED keeps it in front —
    and only they are sorted. Beyond COUNT_LIMIT matches are everywhere; the page is then
    not from here (the caller reads it newest first), only the count.
    """
    column, _ = SORT_KEYS[sort]
    matching = select(Order.id, column.label("sort_value")).where(*conditions)
    if index is not None:
        # The index as the outer loop, read as it goes, so the limit stops it early.
        fts = select(orders_fts.c.rowid).where(*index).subquery()
        matching = matching.join_from(fts, Order, Order.id == fts.c.rowid)
    matches = matching.limit(COUNT_LIMIT + 1).cte("matches").prefix_with("MATERIALIZED")
    keys = _keyset(select(matches.c.id), matches.c.sort_value, matches.c.id, sort, request, size)
    counted = select(func.count()).select_from(matches)
    query = select(*LIST_COLUMNS, counted.scalar_subquery().label("matched")).where(
        Order.id.in_(keys)
    )
    fetched = session.execute(_ordered(query, column, Order.id, sort, request)).all()
    if fetched:
        return fetched[0].matched, fetched
    if request.boundary is None:
        return 0, fetched  # no page from the start or from the end: nothing matches
    return session.scalar(counted) or 0, fetched


def _newest_first(sort: Sort, request: PageRequest) -> bool:
    # Read in the page's own order, or in reverse to fetch the rows just before a boundary.
    return SORT_KEYS[sort][1] != (request.direction in ("before", "last"))


def _ordered(query: Any, column: Any, id_column: Any, sort: Sort, request: PageRequest) -> Any:
    if _newest_first(sort, request):
        return query.order_by(column.desc(), id_column.desc())
    return query.order_by(column.asc(), id_column.asc())


def _keyset(
    query: Any, column: Any, id_column: Any, sort: Sort, request: PageRequest, size: int
) -> Any:
    """The query cut at the request's boundary row, in reading order, one row past the page."""
    if request.boundary is not None:
        key, boundary = tuple_(column, id_column), tuple_(*request.boundary)
        query = query.where(key < boundary if _newest_first(sort, request) else key > boundary)
    return _ordered(query, column, id_column, sort, request).limit(size + 1)


def _paged(
    fetched: list[OrderRow], request: PageRequest, size: int
) -> tuple[list[OrderRow], bool, bool]:
    backwards = request.direction in ("before", "last")
    more = len(fetched) > size
    rows = fetched[:size]
    if backwards:
        rows.reverse()
    has_previous = more if backwards else request.direction == "after"
    has_next = request.direction == "before" or (more and not backwards)
    return rows, has_previous, has_next


def _row(r: Any, sort: Sort = Sort.NEWEST) -> OrderRow:
    sort_value = r.created_at if SORT_KEYS[sort][0] is Order.created_at else r.total_cents
    return OrderRow(
        id=r.id,
        number=r.number,
        customer_name=f"{r.customer_first_name} {r.customer_last_name}",
        customer_email=r.customer_email,
        item_count=r.item_count,
        items_summary=r.items_summary,
        total_cents=r.total_cents,
        currency=r.currency,
        status=r.status,
        payment_status=r.payment_status,
        source=r.source,
        external_ref=r.external_ref,
        created_at=r.created_at,
        version=r.version,
        cursor=(sort_value, r.id),
    )


def order_conditions(tab: Tab, filters: OrderFilter, zone: ZoneInfo) -> list[Any]:
    conditions: list[Any] = []
    statuses = TAB_STATUSES[tab]
    if filters.statuses:
        statuses = (
            frozenset(filters.statuses) & statuses if statuses else frozenset(filters.statuses)
        )
    if statuses is not None:
        conditions.append(Order.status.in_(sorted(statuses)))
    if filters.payments:
        conditions.append(Order.payment_status.in_(filters.payments))
    if filters.sources:
        conditions.append(Order.source.in_(filters.sources))
    conditions += within_days(Order.created_at, filters.date_from, filters.date_to, zone)
    conditions.extend(found_in_any(term, Order.search_text) for term in search_terms(filters.text))
    return conditions


def _indexed_search(terms: list[str]) -> Any:
    """SQLite's text index for a search: the orders holding every word it can look up.

    PostgreSQL's planner takes its trigram index for the LIKE conditions on its own; SQLite
    needs the FTS5 trigram table named. Words of three or more characters go to it as one
    MATCH of quoted phrases — each a substring, as with LIKE, found by intersecting the
    words inside the index (quicker than the same words as LIKE patterns); shorter
    ones, or ones holding LIKE's wildcard characters, are left to the LIKE conditions.
    None when no word can be looked up.
    """
    indexed = [t for t in terms if len(t) >= 3 and not set(t) & set("%_\\")]
    if not indexed:
        return None
    phrases = " AND ".join('"' + term.replace('"', '""') + '"' for term in indexed)
    return [orders_fts.c.search_text.match(phrases)]


# SQLite's FTS5 trigram table over orders.search_text (made in a migration; see there).
orders_fts = table("orders_fts", column("rowid", Integer), column("search_text", Text))


# ---- one order ----


@dataclass(frozen=True)
class ItemView:
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    subtotal_cents: int
    tax_cents: int
    total_cents: int


@dataclass(frozen=True)
class EventView:
    kind: str
    from_value: str | None
    to_value: str | None
    actor: str
    detail: str
    created_at: datetime


@dataclass(frozen=True)
class NotificationView:
    id: int
    template: str
    channel: str | None
    recipient: str
    status: str
    attempts: int
    last_error: str | None
    provider_id: str | None
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class OrderDetails:
    id: int
    number: str
    version: int
    status: OrderStatus
    payment_status: PaymentStatus
    source: Source
    external_ref: str | None
    customer_note: str | None
    contact_id: int
    customer_code: str
    first_name: str
    last_name: str
    email: str
    phone: str | None
    preferred_channel: str
    street: str
    apartment: str | None
    city: str
    state: str
    zip: str
    country: str
    currency: str
    subtotal_cents: int
    tax_cents: int
    shipping_cents: int
    total_cents: int
    tax_rate_bp: int
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime
    items: list[ItemView] = field(default_factory=list)
    events: list[EventView] = field(default_factory=list)
    notifications: list[NotificationView] = field(default_factory=list)

    @property
    def actions(self) -> list[Action]:
        return allowed_actions(self.status)

    @property
    def customer_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


# Opening an order reads plain columns with Core (no ORM objects to build and throw away),
# and the customer's channel comes with the order in one statement.
DETAIL_QUERY = select(
    Order.__table__, Contact.__table__.c.preferred_channel.label("contacts_preferred_channel")
).outerjoin(Contact.__table__, Contact.__table__.c.id == Order.__table__.c.contact_id)
ITEM_COLUMNS = tuple(
    OrderItem.__table__.c[name]
    for name in ("sku", "name", "quantity", "unit_price_cents", "subtotal_cents", "tax_cents",
                 "total_cents")
)  # fmt: skip
EVENT_COLUMNS = tuple(
    OrderEvent.__table__.c[name]
    for name in ("kind", "from_value", "to_value", "actor", "detail", "created_at")
)
NOTIFICATION_COLUMNS = tuple(
    Notification.__table__.c[name]
    for name in (
        "id",
        "template",
        "channel",
        "recipient",
        "status",
        "attempts",
        "last_error",
        "provider_id",
        "created_at",
        "sent_at",
    )
)


def order_details(
    db: Database, *, order_id: int | None = None, number: str | None = None
) -> OrderDetails | None:
    with db.reading() as session:
        order = _find(session, order_id, number)
        if order is None:
            return None
        channel = order.contacts_preferred_channel
        return OrderDetails(
            id=order.id,
            number=order.number,
            version=order.version,
            status=order.status,
            payment_status=order.payment_status,
            source=order.source,
            external_ref=order.external_ref,
            customer_note=order.customer_note,
            contact_id=order.contact_id,
            customer_code=customer_code(order.contact_id),
            first_name=order.customer_first_name,
            last_name=order.customer_last_name,
            email=order.customer_email,
            phone=order.customer_phone,
            preferred_channel=channel.value if channel else "email",
            street=order.ship_street,
            apartment=order.ship_apartment,
            city=order.ship_city,
            state=order.ship_state,
            zip=order.ship_zip,
            country=order.ship_country,
            currency=order.currency,
            subtotal_cents=order.subtotal_cents,
            tax_cents=order.tax_cents,
            shipping_cents=order.shipping_cents,
            total_cents=order.total_cents,
            tax_rate_bp=order.tax_rate_bp,
            carrier=order.carrier,
            tracking_number=order.tracking_number,
            tracking_url=order.tracking_url,
            cancel_reason=order.cancel_reason,
            created_at=order.created_at,
            updated_at=order.updated_at,
            items=_items(session, order.id),
            events=_events(session, order.id),
            notifications=_notifications(session, order.id),
        )


def _find(session: Session, order_id: int | None, number: str | None) -> Any:
    """The order's row (its columns and its customer's channel), or None."""
    table = Order.__table__.c
    if order_id is not None:
        return session.execute(DETAIL_QUERY.where(table.id == order_id)).one_or_none()
    if number:
        wanted = searchable(number).strip().upper()
        return session.execute(DETAIL_QUERY.where(table.number == wanted)).one_or_none()
    return None


def _items(session: Session, order_id: int) -> list[ItemView]:
    table = OrderItem.__table__.c
    rows = session.execute(
        select(*ITEM_COLUMNS).where(table.order_id == order_id).order_by(table.id)
    )
    return [ItemView(*row) for row in rows]


def _events(session: Session, order_id: int) -> list[EventView]:
    table = OrderEvent.__table__.c
    rows = session.execute(
        select(*EVENT_COLUMNS)
        .where(table.order_id == order_id)
        .order_by(table.created_at, table.id)
    )
    return [EventView(*row) for row in rows]


def _notifications(session: Session, order_id: int) -> list[NotificationView]:
    table = Notification.__table__.c
    rows = session.execute(
        select(*NOTIFICATION_COLUMNS).where(table.order_id == order_id).order_by(table.id)
    )
    return [
        NotificationView(
            n.id,
            n.template,
            n.channel.value if n.channel else None,
            n.recipient,
            n.status.value,
            n.attempts,
            n.last_error,
            n.provider_id,
            n.created_at,
            n.sent_at,
        )
        for n in rows
    ]


# ---- settings ----


def business_settings(db: Database) -> BusinessSettings:
    with db.reading() as session:
        return load_settings(session)


# ---- live totals for the Add/Edit Order form ----


@dataclass(frozen=True)
class Quote:
    lines: tuple[PricedItem, ...]
    subtotal_cents: int
    tax_cents: int
    shipping_cents: int
    total_cents: int
    currency: str
    tax_rate_bp: int
    item_count: int
    items_summary: str


def quote_order(db: Database, *, quantities: dict[str, int]) -> Quote:
    """What an order of these SKUs would cost now — the same rules the order will be saved with."""
    with db.reading() as session:
        settings = load_settings(session)
        products = {
            p.sku: ProductFacts(p.id, p.sku, p.name, p.price_cents)
            for p in session.execute(
                select(Product.id, Product.sku, Product.name, Product.price_cents).where(
                    Product.sku.in_(list(quantities))
                )
            )
        }
    priced = price_order(
        ((products[sku], n) for sku, n in quantities.items() if sku in products and n >= 1),
        settings.pricing,
    )
    return Quote(
        priced.items,
        priced.subtotal_cents,
        priced.tax_cents,
        priced.shipping_cents,
        priced.total_cents,
        settings.currency,
        settings.tax_rate_bp,
        priced.item_count,
        priced.items_summary,
    )


# ---- what is new, for the live refresh ----


@dataclass(frozen=True)
class NewestOrder:
    id: int
    number: str
    source: Source
    customer_name: str


def orders_after(
    db: Database, *, after_id: int, up_to: int | None = None, limit: int = 5
) -> list[NewestOrder]:
    """Orders placed after `after_id` (and, given `up_to`, not after that id), newest first
    (an index-only look on the primary key)."""
    window = [Order.id > after_id] + ([Order.id <= up_to] if up_to is not None else [])
    query = (
        select(
            Order.id,
            Order.number,
            Order.source,
            Order.customer_first_name,
            Order.customer_last_name,
        )
        .where(*window)
        .order_by(Order.id.desc())
        .limit(limit)
    )
    with db.reading() as session:
        return [
            NewestOrder(r.id, r.number, r.source, f"{r.customer_first_name} {r.customer_last_name}")
            for r in session.execute(query)
        ]


def newest_order_id(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.max(Order.id))) or 0
