"""Changing the catalogue: categories and products, and a CSV import checked row by row.

Products that were ever ordered are never deleted — order lines point at them — only
deactivated, which takes them off sale for the dashboard and the assistant alike.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import StringConstraints
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from db.database import Database
from db.models import Category, OrderItem, Product
from db.settings import load_settings
from db.unit_of_work import UnitOfWork, unless_taken
from domain.cells import unsafe_cell
from domain.inputs import FieldError, InvalidInput, Money, Strict, Text100, Text200, parse
from domain.money import format_money
from domain.order import OrderError
from queries.catalogue import CSV_COLUMNS

log = logging.getLogger("product_orders.audit")

PRODUCT = "the product"


Sku = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"
    ),
]


class ProductIn(Strict):
    sku: Sku
    name: Text200
    category: Text100 | None = None
    price: Money  # cents once validated; given as text such as "12.50" or as cents
    active: bool = True


class UnknownProduct(OrderError):
    def __init__(self, product_id: int) -> None:
        super().__init__(f"Product {product_id} does not exist (it may have just been deleted).")


class CatalogueChanged(OrderError):
    def __init__(self) -> None:
        super().__init__(
            "Someone else just added the same SKU or category. Nothing was saved; "
            "please look again and retry."
        )


class ProductInUse(OrderError):
    def __init__(self, name: str, orders: int) -> None:
        plural = "order" if orders == 1 else "orders"
        super().__init__(
            f"“{name}” is on {orders:,} {plural}, so it cannot be deleted. "
            "Deactivate it instead: it stays on those orders but can no longer be sold."
        )


# ---- products ------------------------------------------------------------------------------


def add_product(db: Database, *, product: ProductIn | dict[str, Any], actor: str) -> int:
    """Add a product to the catalogue; return its id."""
    data = _product_in(product)
    with unless_taken(db, CatalogueChanged) as uow:
        _check_sku_free(uow.session, data.sku, None)
        row = Product(
            sku=data.sku,
            name=data.name,
            category_id=_category_id(uow.session, data.category),
            price_cents=data.price,
            active=data.active,
        )
        uow.session.add(row)
        uow.flush()
        uow.commit()
    log.info("%s added product %s", actor, data.sku)
    return row.id


def edit_product(
    db: Database, *, product_id: int, product: ProductIn | dict[str, Any], actor: str
) -> None:
    """Change a product; orders already placed keep the name and price they were sold at."""
    data = _product_in(product)
    with unless_taken(db, CatalogueChanged) as uow:
        row = _load(uow.session, product_id)
        _check_sku_free(uow.session, data.sku, product_id)
        row.sku = data.sku
        row.name = data.name
        row.category_id = _category_id(uow.session, data.category)
        row.price_cents = data.price
        row.active = data.active
        uow.commit()
    log.info("%s edited product %s", actor, data.sku)


def set_product_active(db: Database, *, product_id: int, active: bool, actor: str) -> None:
    """Put a product on sale again, or take it off sale without touching past orders."""
    with UnitOfWork(db) as uow:
        row = _load(uow.session, product_id)
        row.active = active
        uow.commit()
    log.info("%s %s product %s", actor, "reactivated" if active else "deactivated", row.sku)


def delete_product(db: Database, *, product_id: int, actor: str) -> None:
    """Remove a product that was never ordered (a typo, a test); anything else is refused."""
    with UnitOfWork(db) as uow:
        row = _load(uow.session, product_id)
        orders = uow.session.scalar(
            select(func.count(distinct(OrderItem.order_id))).where(
                OrderItem.product_id == product_id
            )
        )
        if orders:
            raise ProductInUse(row.name, orders)
        uow.session.delete(row)
        uow.commit()
    log.info("%s deleted product %s", actor, row.sku)


def _product_in(product: ProductIn | dict[str, Any]) -> ProductIn:
    return product if isinstance(product, ProductIn) else parse(ProductIn, product, subject=PRODUCT)


def _load(session: Session, product_id: int) -> Product:
    row = session.get(Product, product_id)
    if row is None:
        raise UnknownProduct(product_id)
    return row


def _check_sku_free(session: Session, sku: str, product_id: int | None) -> None:
    owner = session.scalar(select(Product).where(Product.sku == sku))
    if owner is not None and owner.id != product_id:
        raise InvalidInput(
            [FieldError("sku", f"{sku} is already used by “{owner.name}”")], subject=PRODUCT
        )


def _category_id(session: Session, name: str | None) -> int | None:
    """The category of that name (any case), created when it is new; blank means none."""
    if not name:
        return None
    found = session.scalar(select(Category.id).where(func.lower(Category.name) == name.lower()))
    if found is not None:
        return found
    category = Category(name=name)
    session.add(category)
    session.flush()
    return category.id


# ---- categories ----------------------------------------------------------------------------

CategoryName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]


class CategoryIn(Strict):
    name: CategoryName


def add_category(db: Database, *, name: str, actor: str) -> int:
    data = parse(CategoryIn, {"name": name}, subject="the category")
    with unless_taken(db, CatalogueChanged) as uow:
        _check_category_free(uow.session, data.name, None)
        category_id = _category_id(uow.session, data.name)
        uow.commit()
    log.info("%s added category %s", actor, data.name)
    assert category_id is not None
    return category_id


def rename_category(db: Database, *, category_id: int, name: str, actor: str) -> None:
    data = parse(CategoryIn, {"name": name}, subject="the category")
    with unless_taken(db, CatalogueChanged) as uow:
        category = uow.session.get(Category, category_id)
        if category is None:
            raise OrderError(f"Category {category_id} does not exist.")
        _check_category_free(uow.session, data.name, category_id)
        old, category.name = category.name, data.name
        uow.commit()
    log.info("%s renamed category %s to %s", actor, old, data.name)


def _check_category_free(session: Session, name: str, category_id: int | None) -> None:
    owner = session.scalar(select(Category.id).where(func.lower(Category.name) == name.lower()))
    if owner is not None and owner != category_id:
        raise InvalidInput(
            [FieldError("name", f"a category called “{name}” already exists")],
            subject="the category",
        )


# ---- CSV import -------------------------------------------------------------------------------

REQUIRED_COLUMNS = ("sku", "name", "price")
MAX_IMPORT_BYTES = 2_000_000
MAX_IMPORT_ROWS = 5_000


class ImportFileError(OrderError):
    """The file as a whole cannot be read; nothing in it was looked at row by row."""


@dataclass(frozen=True)
class ImportRow:
    line: int
    sku: str
    name: str
    category: str
    price_cents: int
    active: bool
    action: Literal["add", "update", "unchanged"]
    changes: str = ""


@dataclass(frozen=True)
class RowError:
    line: int
    sku: str
    message: str


@dataclass(frozen=True)
class ImportPreview:
    rows: list[ImportRow]
    errors: list[RowError]
    new_categories: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def to_write(self) -> list[ImportRow]:
        return [row for row in self.rows if row.action != "unchanged"]


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    skipped: int  # rows with errors, left out


def preview_import(db: Database, *, data: bytes | str) -> ImportPreview:
    """What importing the file would do, row by row, without writing anything."""
    with db.reading() as session:
        return _preview(session, data)


def apply_import(db: Database, *, data: bytes | str, actor: str) -> ImportResult:
    """Write the file's valid rows in one transaction, checked again against the catalogue now."""
    with unless_taken(db, CatalogueChanged) as uow:
        preview = _preview(uow.session, data)
        existing = _existing(uow.session, [row.sku for row in preview.to_write])
        for row in preview.to_write:
            product = existing.get(row.sku) or Product(sku=row.sku)
            product.name = row.name
            product.category_id = _category_id(uow.session, row.category or None)
            product.price_cents = row.price_cents
            product.active = row.active
            uow.session.add(product)
        uow.commit()
    result = ImportResult(preview.count("add"), preview.count("update"), len(preview.errors))
    log.info("%s imported the catalogue: %s", actor, result)
    return result


def _preview(session: Session, data: bytes | str) -> ImportPreview:
    reader, ignored = _reader(data)
    columns = set(reader.fieldnames or ())
    parsed: list[tuple[int, ProductIn]] = []
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    for count, raw in enumerate(reader, start=1):
        if count > MAX_IMPORT_ROWS:
            raise ImportFileError(f"The file has more than {MAX_IMPORT_ROWS:,} rows; split it.")
        number = reader.line_num
        cells = {k: unsafe_cell((v or "").strip()) for k, v in raw.items() if k in CSV_COLUMNS}
        if not any(cells.values()):
            continue
        try:
            product = parse(ProductIn, _row_data(cells), subject="this row")
        except InvalidInput as exc:
            message = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
            errors.append(RowError(number, cells.get("sku", ""), message))
            continue
        if product.sku in first_line:
            message = f"SKU {product.sku} is already on line {first_line[product.sku]}"
            errors.append(RowError(number, product.sku, message))
            continue
        first_line[product.sku] = number
        parsed.append((number, product))
    existing = _existing(session, [p.sku for _, p in parsed])
    category_names = _category_names(session)
    currency = load_settings(session).currency
    rows = [
        _compare(n, p, existing.get(p.sku), category_names, columns, currency) for n, p in parsed
    ]
    known = {name.lower() for name in category_names.values()}
    new_categories = sorted(
        {r.category for r in rows if r.category and r.category.lower() not in known}
    )
    return ImportPreview(rows, errors, new_categories, ignored)


def _reader(data: bytes | str) -> tuple[csv.DictReader[str], list[str]]:
    if isinstance(data, bytes):
        if len(data) > MAX_IMPORT_BYTES:
            raise ImportFileError(f"The file is larger than {MAX_IMPORT_BYTES // 1_000_000} MB.")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportFileError(
                "The file is not UTF-8 text. In Excel choose “CSV UTF-8” when saving it."
            ) from None
    reader = csv.DictReader(io.StringIO(data.lstrip("\ufeff"), newline=""))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    if not header:
        raise ImportFileError("The file is empty. It needs a header row: sku,name,category,price.")
    reader.fieldnames = header
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise ImportFileError(
            f"The file has no {', '.join(missing)} column. The first row must name the "
            f"columns: {','.join(CSV_COLUMNS)} (category and active are optional)."
        )
    return reader, [name for name in header if name and name not in CSV_COLUMNS]


def _row_data(cells: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sku": cells.get("sku", ""),
        "name": cells.get("name", ""),
        "price": cells.get("price", ""),
        "category": cells.get("category") or None,
    }
    if cells.get("active"):
        data["active"] = cells["active"]
    return data


def _existing(session: Session, skus: list[str]) -> dict[str, Product]:
    found: dict[str, Product] = {}
    for start in range(0, len(skus), 500):
        chunk = skus[start : start + 500]
        found.update(
            {p.sku: p for p in session.scalars(select(Product).where(Product.sku.in_(chunk)))}
        )
    return found


def _category_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Category.id, Category.name)).all())


def _compare(
    line: int,
    data: ProductIn,
    current: Product | None,
    category_names: dict[int, str],
    columns: set[str],
    currency: str,
) -> ImportRow:
    if current is None:
        return ImportRow(
            line, data.sku, data.name, data.category or "", data.price, data.active, "add"
        )
    current_category = category_names.get(current.category_id or -1, "")
    # A column the file leaves out keeps what the catalogue has.
    category = (data.category or "") if "category" in columns else current_category
    active = data.active if "active" in columns else current.active
    changes = []
    if data.name != current.name:
        changes.append(f"name “{current.name}” → “{data.name}”")
    if category.lower() != current_category.lower():
        changes.append(f"category “{current_category or '—'}” → “{category or '—'}”")
    if data.price != current.price_cents:
        changes.append(
            f"price {format_money(current.price_cents, currency)} → "
            f"{format_money(data.price, currency)}"
        )
    if active != current.active:
        changes.append("reactivated" if active else "deactivated")
    action: Literal["update", "unchanged"] = "update" if changes else "unchanged"
    return ImportRow(
        line, data.sku, data.name, category, data.price, active, action, "; ".join(changes)
    )
