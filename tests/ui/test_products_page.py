"""The Products page in AppTest: add, edit, deactivate, delete, import."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Product
from services import orders
from tests.builders import add_catalogue, order_data
from tests.ui.conftest import open_page

IMPORT = (
    b"sku,name,category,price,active\n"
    b"TEA-001,Earl Grey,Tea,13.00,yes\n"
    b"TEA-900,Rooibos 100 g,Herbal,9.75,yes\n"
    b"TEA-901,,Tea,9.75,yes\n"
    b"TEA-902,Mate,Tea,twelve,yes\n"
)


def run_page():
    at = open_page("products").run()
    assert not at.exception
    return at


def select_row(at, index):
    at.session_state["products.table"] = {"selection": {"rows": [index], "columns": []}}
    return at.run()


def stored(db, sku):
    with db.reading() as session:
        return session.scalar(select(Product).where(Product.sku == sku))


def texts(elements):
    return [element.value for element in elements]


def table_with(at, *columns):
    """The first table showing these columns (tables that are not widgets have no key)."""
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def test_an_empty_catalogue_tells_a_new_owner_how_to_start(page_db):
    at = run_page()
    assert any("No products yet" in text for text in texts(at.info))


def test_a_product_added_in_the_form_is_stored_and_confirmed(page_db):
    add_catalogue(page_db)
    at = run_page()
    at.text_input(key="products.add_sku").set_value("TEA-900")
    at.text_input(key="products.add_name").set_value("Rooibos 100 g")
    at.selectbox(key="products.add_category").set_value("Tea")
    at.text_input(key="products.add_price").set_value("9.75")
    at.button(key="products.add").click().run()

    assert not at.exception and not at.error
    assert texts(at.toast) == ["Added Rooibos 100 g (TEA-900)."]
    assert stored(page_db, "TEA-900").price_cents == 975
    table = at.dataframe[0].value
    assert table.set_index("sku").loc["TEA-900", "price"] == 9.75
    # The new product opens for editing straight away.
    assert at.subheader[0].value == "Edit Rooibos 100 g"


def test_a_price_that_is_not_money_is_explained_and_nothing_is_added(page_db):
    add_catalogue(page_db)
    at = run_page()
    at.text_input(key="products.add_sku").set_value("TEA-900")
    at.text_input(key="products.add_name").set_value("Rooibos")
    at.text_input(key="products.add_price").set_value("9.999")
    at.button(key="products.add").click().run()
    assert texts(at.error) == ["Please check: **Price** '9.999' has more than two decimal places."]
    assert stored(page_db, "TEA-900") is None


def test_the_selected_product_is_edited_in_its_form(page_db):
    ids = add_catalogue(page_db)
    at = select_row(run_page(), 0)  # Earl Grey, first by category and name
    product_id = ids["TEA-001"]
    at.text_input(key=f"products.edit_price.{product_id}").set_value("14.50")
    at.text_input(key=f"products.edit_name.{product_id}").set_value("Earl Grey Supreme")
    at.button(key="products.save").click().run()
    assert texts(at.toast) == ["Saved Earl Grey Supreme."]
    product = stored(page_db, "TEA-001")
    assert (product.name, product.price_cents, product.active) == ("Earl Grey Supreme", 1450, True)


def test_a_product_on_an_order_can_be_deactivated_but_offers_no_delete(page_db):
    add_catalogue(page_db)
    orders.create_order(page_db, order=order_data(), actor="t")
    at = select_row(run_page(), 0)
    assert any(text.endswith("on sale · on 1 order") for text in texts(at.caption))
    assert not [b for b in at.button if b.key == "products.delete"]
    at.button(key="products.deactivate").click().run()
    assert texts(at.toast) == ["Earl Grey is no longer for sale."]
    assert stored(page_db, "TEA-001").active is False
    assert at.dataframe[0].value.set_index("sku").loc["TEA-001", "status"] == "Inactive"
    at.button(key="products.reactivate").click().run()
    assert stored(page_db, "TEA-001").active is True


def test_a_product_never_ordered_can_be_deleted(page_db):
    add_catalogue(page_db)
    at = select_row(run_page(), 3)  # Stoneware Mug
    assert at.subheader[0].value == "Edit Stoneware Mug"
    at.button(key="products.delete").click().run()
    assert texts(at.toast) == ["Deleted Stoneware Mug."]
    assert stored(page_db, "MUG-001") is None
    assert not [s for s in at.subheader if s.value.startswith("Edit")]


def test_an_import_previews_good_and_bad_rows_and_writes_only_when_confirmed(page_db):
    add_catalogue(page_db)
    at = run_page()
    at.file_uploader(key="products.import_file.0").set_value(("catalogue.csv", IMPORT, "text/csv"))
    at.run()

    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "New products": "1",
        "Updates": "1",
        "Unchanged": "0",
        "Rows with errors": "2",
    }
    errors = table_with(at, "problem")
    assert errors.to_dict("records") == [
        {"line": 4, "sku": "TEA-901", "problem": "name: is required"},
        {"line": 5, "sku": "TEA-902", "problem": "price: 'twelve' is not an amount of money"},
    ]
    preview = table_with(at, "action", "changes")
    assert preview[["sku", "action"]].to_dict("records") == [
        {"sku": "TEA-001", "action": "Update"},
        {"sku": "TEA-900", "action": "New"},
    ]
    assert stored(page_db, "TEA-900") is None  # nothing written yet
    assert stored(page_db, "TEA-001").price_cents == 1200

    confirm = at.button(key="products.import_confirm")
    assert confirm.label == "Import 2 products, skip 2 rows with errors"
    confirm.click().run()
    assert texts(at.toast) == ["Imported the catalogue: 1 added, 1 updated."]
    assert stored(page_db, "TEA-900").price_cents == 975
    assert stored(page_db, "TEA-001").price_cents == 1300
    assert stored(page_db, "TEA-901") is None
    # The uploader starts afresh, so the same file is not offered twice.
    assert at.file_uploader(key="products.import_file.1").value is None


def test_a_file_without_the_needed_columns_is_refused_with_a_reason(page_db):
    at = run_page()
    at.file_uploader(key="products.import_file.0").set_value(("x.csv", b"code\nA\n", "text/csv"))
    at.run()
    assert "has no sku, name, price column" in at.error[0].value


def test_a_category_is_added_and_renamed_on_its_tab(page_db):
    at = run_page()
    at.text_input(key="products.category_name").set_value("Tea")
    at.button(key="products.add_category_button").click().run()
    assert texts(at.toast) == ["Added the category Tea."]
    at.selectbox(key="products.rename_from").set_value("Tea")
    at.text_input(key="products.rename_to").set_value("Teas")
    at.button(key="products.rename_button").click().run()
    assert texts(at.toast) == ["Renamed Tea to Teas."]
    assert table_with(at, "name", "products")["name"].tolist() == ["Teas"]
