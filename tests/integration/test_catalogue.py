"""The catalogue services on SQLite and PostgreSQL: products, categories, CSV in and out."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from db.models import Category, OrderItem, Product
from domain.inputs import InvalidInput
from queries import catalogue as catalogue_reads
from services import catalogue, orders
from services.catalogue import CatalogueChanged, ImportFileError, ProductInUse
from tests.builders import add_catalogue, order_data

ACTOR = "owner@example.com"


def product_values(**changes):
    values = {"sku": "TEA-900", "name": "Rooibos 100 g", "category": "Tea", "price": "9.75"}
    return {**values, **changes}


def stored(db, sku):
    with db.reading() as session:
        return session.scalar(select(Product).where(Product.sku == sku))


def product_count(db):
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(Product))


# ---- products and categories ---------------------------------------------------------------


def test_a_new_product_is_stored_in_cents_under_its_category(db):
    add_catalogue(db)
    new_id = catalogue.add_product(db, product=product_values(price="$1,234.50"), actor=ACTOR)
    row = catalogue_reads.product(db, product_id=new_id)
    assert (row.sku, row.category, row.price_cents, row.active) == ("TEA-900", "Tea", 123450, True)


def test_a_product_in_a_new_category_creates_the_category(db):
    catalogue.add_product(db, product=product_values(category="Herbal"), actor=ACTOR)
    assert [c.name for c in catalogue_reads.categories(db)] == ["Herbal"]


def test_a_category_is_matched_whatever_its_case(db):
    add_catalogue(db)
    catalogue.add_product(db, product=product_values(category="tea"), actor=ACTOR)
    assert [(c.name, c.product_count) for c in catalogue_reads.categories(db)] == [("Tea", 5)]


def test_a_sku_belongs_to_one_product_only(db):
    add_catalogue(db)
    with pytest.raises(InvalidInput) as caught:
        catalogue.add_product(db, product=product_values(sku="TEA-001"), actor=ACTOR)
    assert "already used by “Earl Grey”" in caught.value.for_field("sku")
    assert str(caught.value).startswith("Please correct the product")


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("12.345", "more than two decimal places"),
        ("twelve", "not an amount of money"),
        ("-1", "not an amount of money"),
        ("", "is required"),
        ("2000000", "must be at most $1,000,000.00"),
    ],
)
def test_a_price_that_is_not_money_is_refused_with_a_field_error(db, price, message):
    with pytest.raises(InvalidInput) as caught:
        catalogue.add_product(db, product=product_values(price=price), actor=ACTOR)
    assert message in caught.value.for_field("price")
    assert product_count(db) == 0


def test_a_sku_taken_by_a_concurrent_writer_is_refused_cleanly(db, monkeypatch):
    add_catalogue(db)
    # The other writer slips in between our check and our insert.
    monkeypatch.setattr(catalogue, "_check_sku_free", lambda *args: None)
    with pytest.raises(CatalogueChanged, match="Nothing was saved"):
        catalogue.add_product(db, product=product_values(sku="TEA-001"), actor=ACTOR)
    assert product_count(db) == 4


def test_a_sku_with_spaces_or_a_blank_name_is_refused(db):
    with pytest.raises(InvalidInput) as caught:
        catalogue.add_product(db, product=product_values(sku="TEA 9", name=" "), actor=ACTOR)
    assert caught.value.for_field("sku") and caught.value.for_field("name") == "is required"


def test_editing_a_product_leaves_the_orders_already_placed_as_they_were(db):
    ids = add_catalogue(db)
    change = orders.create_order(db, order=order_data(), actor=ACTOR)
    catalogue.edit_product(
        db,
        product_id=ids["TEA-001"],
        product=product_values(sku="TEA-001", name="Earl Grey Supreme", price="15.00"),
        actor=ACTOR,
    )
    assert stored(db, "TEA-001").price_cents == 1500
    with db.reading() as session:
        line = session.scalar(select(OrderItem).where(OrderItem.order_id == change.order_id))
    assert (line.name, line.unit_price_cents) == ("Earl Grey", 1200)


def test_a_product_cannot_take_another_products_sku(db):
    ids = add_catalogue(db)
    with pytest.raises(InvalidInput):
        catalogue.edit_product(
            db, product_id=ids["TEA-001"], product=product_values(sku="MUG-001"), actor=ACTOR
        )


def test_a_product_on_an_order_is_never_deleted_but_can_be_taken_off_sale(db):
    ids = add_catalogue(db)
    orders.create_order(db, order=order_data(), actor=ACTOR)
    with pytest.raises(ProductInUse, match="is on 1 order, so it cannot be deleted"):
        catalogue.delete_product(db, product_id=ids["TEA-001"], actor=ACTOR)
    catalogue.set_product_active(db, product_id=ids["TEA-001"], active=False, actor=ACTOR)
    assert stored(db, "TEA-001").active is False
    with pytest.raises(InvalidInput, match="is not for sale"):
        orders.create_order(db, order=order_data(), actor=ACTOR)
    catalogue.set_product_active(db, product_id=ids["TEA-001"], active=True, actor=ACTOR)
    orders.create_order(db, order=order_data(), actor=ACTOR)


def test_a_product_that_was_never_ordered_can_be_deleted(db):
    ids = add_catalogue(db)
    catalogue.delete_product(db, product_id=ids["MUG-001"], actor=ACTOR)
    assert stored(db, "MUG-001") is None


def test_the_catalogue_counts_orders_per_product_and_filters_in_sql(db):
    add_catalogue(db)
    orders.create_order(db, order=order_data(), actor=ACTOR)
    orders.create_order(db, order=order_data(), actor=ACTOR)
    rows = {r.sku: r for r in catalogue_reads.catalogue(db)}
    assert (rows["TEA-001"].order_count, rows["MUG-001"].order_count) == (2, 0)
    assert [r.sku for r in catalogue_reads.catalogue(db, search="mug")] == ["MUG-001"]
    assert "OLD-001" not in {r.sku for r in catalogue_reads.catalogue(db, include_inactive=False)}
    assert catalogue_reads.catalogue(db, search="100%") == []


def test_category_names_are_unique_whatever_their_case_and_can_be_renamed(db):
    first = catalogue.add_category(db, name="Tea", actor=ACTOR)
    with pytest.raises(InvalidInput, match="already exists"):
        catalogue.add_category(db, name=" TEA ", actor=ACTOR)
    catalogue.rename_category(db, category_id=first, name="Teas", actor=ACTOR)
    with db.reading() as session:
        assert session.scalars(select(Category.name)).all() == ["Teas"]


# ---- CSV -------------------------------------------------------------------------------------

GOOD_AND_BAD = (
    "sku,name,category,price,active\n"
    "TEA-001,Earl Grey,Tea,13.00,yes\n"  # line 2: a price change
    "TEA-900,Rooibos 100 g,Herbal,9.75,\n"  # line 3: new, in a new category
    "TEA-901,,Tea,9.75,yes\n"  # line 4: no name
    "TEA-902,Mate,Tea,twelve,yes\n"  # line 5: not money
    "TEA-900,Rooibos again,Tea,1.00,yes\n"  # line 6: SKU repeated
    "MUG-001,Stoneware Mug,Tea,18.00,yes\n"  # line 7: unchanged
    ",,,,\n"  # a blank row is skipped
)


def test_an_import_preview_reports_each_row_and_writes_nothing(db):
    add_catalogue(db)
    before = catalogue_reads.catalogue(db)
    preview = catalogue.preview_import(db, data=GOOD_AND_BAD.encode())
    assert [(r.line, r.sku, r.action) for r in preview.rows] == [
        (2, "TEA-001", "update"),
        (3, "TEA-900", "add"),
        (7, "MUG-001", "unchanged"),
    ]
    assert preview.rows[0].changes == "price $12.00 → $13.00"
    assert [(e.line, e.sku) for e in preview.errors] == [
        (4, "TEA-901"),
        (5, "TEA-902"),
        (6, "TEA-900"),
    ]
    assert preview.errors[0].message == "name: is required"
    assert "not an amount of money" in preview.errors[1].message
    assert preview.errors[2].message == "SKU TEA-900 is already on line 3"
    assert preview.new_categories == ["Herbal"]
    assert catalogue_reads.catalogue(db) == before


def test_applying_an_import_writes_the_valid_rows_and_leaves_out_the_others(db):
    add_catalogue(db)
    result = catalogue.apply_import(db, data=GOOD_AND_BAD.encode(), actor=ACTOR)
    assert (result.added, result.updated, result.skipped) == (1, 1, 3)
    assert stored(db, "TEA-001").price_cents == 1300
    assert stored(db, "TEA-900").name == "Rooibos 100 g"
    assert stored(db, "TEA-901") is None and stored(db, "TEA-902") is None
    assert "Herbal" in {c.name for c in catalogue_reads.categories(db)}


def test_an_import_is_checked_again_against_the_catalogue_when_it_is_applied(db):
    add_catalogue(db)
    data = b"sku,name,price\nTEA-900,Rooibos,9.75\n"
    assert catalogue.preview_import(db, data=data).rows[0].action == "add"
    catalogue.add_product(db, product=product_values(price="5.00"), actor=ACTOR)
    result = catalogue.apply_import(db, data=data, actor=ACTOR)
    assert (result.added, result.updated) == (0, 1)
    assert stored(db, "TEA-900").price_cents == 975


def test_columns_a_file_leaves_out_keep_what_the_catalogue_has(db):
    add_catalogue(db)
    catalogue.apply_import(
        db, data=b"sku,name,price,notes\nOLD-001,Retired Teapot,26.00,x\n", actor=ACTOR
    )
    old = stored(db, "OLD-001")
    assert (old.active, old.price_cents, old.category_id is not None) == (False, 2600, True)
    preview = catalogue.preview_import(db, data=b"sku,name,price,notes\nX-1,X,1,y\n")
    assert preview.ignored_columns == ["notes"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"code,title\nA,B\n", "has no sku, name, price column"),
        ("sku,name,price\nTÉ-1,Thé,1\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(db, data, message):
    with pytest.raises(ImportFileError, match=message):
        catalogue.preview_import(db, data=data)


def test_excels_byte_order_mark_and_capitalised_headers_are_accepted(db):
    data = "\ufeffSKU,Name,Price\nTEA-900,Rooibos,9.75\n".encode()
    assert [r.sku for r in catalogue.preview_import(db, data=data).rows] == ["TEA-900"]


def test_the_export_is_safe_in_a_spreadsheet_and_imports_back_unchanged(db):
    add_catalogue(db)
    catalogue.add_product(
        db, product=product_values(name='=HYPERLINK("http://evil.example","x")'), actor=ACTOR
    )
    exported = catalogue_reads.export_csv(db)
    rows = list(csv.DictReader(io.StringIO(exported)))
    evil = next(r for r in rows if r["sku"] == "TEA-900")
    assert evil["name"].startswith("'=HYPERLINK")
    assert evil["price"] == "9.75"
    assert {r["sku"]: r["active"] for r in rows}["OLD-001"] == "no"
    preview = catalogue.preview_import(db, data=exported.encode())
    assert {r.action for r in preview.rows} == {"unchanged"} and not preview.errors
