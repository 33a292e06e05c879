"""The catalogue as read: products with their categories and how many orders hold each, and
the CSV export the import reads back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import distinct, func, select

from db.database import Database
from db.models import Category, OrderItem, Product
from domain.cells import csv_text
from queries.search import found_in_any, search_terms

# The CSV's columns, for the export and the import alike, so a file exported can go back in.
CSV_COLUMNS = ("sku", "name", "category", "price", "active")


@dataclass(frozen=True)
class ProductView:
    id: int
    sku: str
    name: str
    category: str
    price_cents: int
    active: bool


@dataclass(frozen=True)
class CatalogueRow(ProductView):
    order_count: int  # how many orders include it: such a product is never deleted


@dataclass(frozen=True)
class CategoryRow:
    id: int
    name: str
    product_count: int


def list_products(
    db: Database, *, active_only: bool = False, category: str | None = None
) -> list[ProductView]:
    query = select(Product, Category.name).outerjoin(Category, Product.category_id == Category.id)
    if active_only:
        query = query.where(Product.active.is_(True))
    if category:
        query = query.where(Category.name == category)
    query = query.order_by(Category.name, Product.name)
    with db.reading() as session:
        return [
            ProductView(p.id, p.sku, p.name, cat or "", p.price_cents, p.active)
            for p, cat in session.execute(query)
        ]


def list_categories(db: Database) -> list[str]:
    with db.reading() as session:
        return list(session.scalars(select(Category.name).order_by(Category.name)))


def catalogue(
    db: Database, *, search: str = "", category: str | None = None, include_inactive: bool = True
) -> list[CatalogueRow]:
    """The products with how many orders each is on, filtered in SQL."""
    query = _catalogue_query()
    if not include_inactive:
        query = query.where(Product.active.is_(True))
    if category:
        query = query.where(Category.name == category)
    for term in search_terms(search):
        query = query.where(found_in_any(term, func.lower(Product.sku), func.lower(Product.name)))
    with db.reading() as session:
        rows = session.execute(query.order_by(Category.name, Product.name, Product.id))
        return [_catalogue_row(row) for row in rows]


def product(db: Database, *, product_id: int) -> CatalogueRow | None:
    with db.reading() as session:
        row = session.execute(_catalogue_query().where(Product.id == product_id)).first()
        return _catalogue_row(row) if row else None


def _catalogue_query() -> Any:
    on_orders = (
        select(OrderItem.product_id, func.count(distinct(OrderItem.order_id)).label("orders"))
        .group_by(OrderItem.product_id)
        .subquery()
    )
    return (
        select(Product, Category.name, func.coalesce(on_orders.c.orders, 0))
        .outerjoin(Category, Product.category_id == Category.id)
        .outerjoin(on_orders, on_orders.c.product_id == Product.id)
    )


def _catalogue_row(row: Any) -> CatalogueRow:
    p, category, orders = row
    return CatalogueRow(p.id, p.sku, p.name, category or "", p.price_cents, p.active, int(orders))


def categories(db: Database) -> list[CategoryRow]:
    query = (
        select(Category.id, Category.name, func.count(Product.id))
        .outerjoin(Product, Product.category_id == Category.id)
        .group_by(Category.id, Category.name)
        .order_by(Category.name)
    )
    with db.reading() as session:
        return [CategoryRow(*row) for row in session.execute(query)]


def export_csv(db: Database) -> str:
    """The whole catalogue in the same columns the import reads."""
    rows = (
        (p.sku, p.name, p.category, f"{p.price_cents / 100:.2f}", "yes" if p.active else "no")
        for p in catalogue(db)
    )
    return csv_text(CSV_COLUMNS, rows)
