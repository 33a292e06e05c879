"""Products: the catalogue the Add Order dialog and the assistant sell from."""

import pandas as pd
import streamlit as st

from domain.money import format_money
from domain.order import OrderError
from queries import catalogue as catalogue_reads
from queries.orders import business_settings
from services import catalogue
from ui.auth import current_actor, require_staff
from ui.display import csv_download, explain, money_column, plural, selected_id, units
from ui.flash import flash, show_flashes
from ui.format import literal
from ui.resources import database

LABELS = {"sku": "SKU", "name": "Name", "category": "Category", "price": "Price"}

require_staff()  # before anything reads data
db = database()
settings = business_settings(db)
currency = settings.currency
st.session_state.setdefault("products.selected_id", None)
st.session_state.setdefault("products.uploads", 0)

st.title("Products")
st.caption(
    "The catalogue that the Add Order dialog and the AI assistant sell from. Prices are "
    "before tax; tax and shipping are added to each order from Settings."
)
show_flashes(banners=True)


def _done(message: str, product_id: int | None = None) -> None:
    flash(message)
    if product_id is not None:
        st.session_state["products.selected_id"] = product_id
    st.rerun()


def category_choice(label: str, current: str | None, key: str) -> str | None:
    names = [c.name for c in catalogue_reads.categories(db)]
    return st.selectbox(
        label,
        names,
        index=names.index(current) if current in names else None,
        placeholder="Choose one, or type a new category",
        accept_new_options=True,
        key=key,
    )


def add_product_form() -> None:
    with st.expander("Add a product", icon=":material/add:", key="products.add_expander"):
        with st.form("products.add_form", clear_on_submit=False, border=False):
            left, right = st.columns(2)
            sku = left.text_input("SKU", placeholder="e.g. TEA-006", key="products.add_sku")
            name = right.text_input(
                "Name", placeholder="e.g. Rooibos 100 g", key="products.add_name"
            )
            with left:
                category = category_choice("Category", None, "products.add_category")
            price = right.text_input(
                f"Price ({currency})", placeholder="e.g. 12.50", key="products.add_price"
            )
            added = st.form_submit_button("Add product", type="primary", key="products.add")
        if added:
            values = {"sku": sku, "name": name, "category": category, "price": price}
            try:
                new_id = catalogue.add_product(db, product=values, actor=current_actor())
            except OrderError as exc:
                st.error(explain(exc, LABELS))
            else:
                _done(f"Added {literal(name.strip())} ({literal(sku.strip())}).", new_id)


def product_frame(rows: list[catalogue_reads.CatalogueRow]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [r.id for r in rows],
            "sku": [r.sku for r in rows],
            "name": [r.name for r in rows],
            "category": [r.category or "—" for r in rows],
            "price": [units(r.price_cents) for r in rows],
            "status": ["Active" if r.active else "Inactive" for r in rows],
            "orders": [r.order_count for r in rows],
        }
    )


def product_table() -> catalogue_reads.CatalogueRow | None:
    names = [c.name for c in catalogue_reads.categories(db)]
    search_col, category_col, inactive_col = st.columns([3, 2, 1.4], vertical_alignment="bottom")
    search = search_col.text_input(
        "Search", placeholder="SKU or name", key="products.search", icon=":material/search:"
    )
    category = category_col.selectbox(
        "Category", names, index=None, placeholder="All categories", key="products.category"
    )
    inactive = inactive_col.toggle("Show inactive", value=True, key="products.show_inactive")
    rows = catalogue_reads.catalogue(
        db, search=search, category=category, include_inactive=inactive
    )
    if not rows:
        if search or category or not inactive:
            st.info("No products match these filters.", icon=":material/filter_alt_off:")
        else:
            st.info(
                "No products yet. Add your first one with **Add a product** above, or load a "
                "whole catalogue from a spreadsheet in the **Import / export** tab.",
                icon=":material/inventory_2:",
            )
        return None
    frame = product_frame(rows)
    event = st.dataframe(
        frame,
        key="products.table",
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        column_config={
            "id": None,
            "sku": st.column_config.TextColumn("SKU", width="small"),
            "name": st.column_config.TextColumn("Name"),
            "category": st.column_config.TextColumn("Category"),
            "price": money_column("Price", currency, width="small"),
            "status": st.column_config.TextColumn("Status", width="small"),
            "orders": st.column_config.NumberColumn(
                "On orders", width="small", help="How many orders include this product"
            ),
        },
    )
    st.caption(f"{len(rows):,} products. Select a row to edit it.")
    chosen = selected_id(event.selection.rows, frame, "products.selected_id")
    return catalogue_reads.product(db, product_id=chosen) if chosen else None


def edit_panel(product: catalogue_reads.CatalogueRow) -> None:
    state = "on sale" if product.active else "inactive — not for sale"
    orders = f"on {plural(product.order_count, 'order')}"
    with st.container(border=True):
        st.subheader(f"Edit {literal(product.name)}", anchor=False)
        price = format_money(product.price_cents, currency)
        st.caption(f"{literal(product.sku)} · {price} · {state} · {orders}")
        form_col, actions_col = st.columns([3, 1], gap="large")
        with form_col:
            edit_form(product)
        with actions_col:
            availability_buttons(product)


def edit_form(product: catalogue_reads.CatalogueRow) -> None:
    with st.form(f"products.edit_form.{product.id}", border=False):
        left, right = st.columns(2)
        sku = left.text_input("SKU", value=product.sku, key=f"products.edit_sku.{product.id}")
        name = right.text_input("Name", value=product.name, key=f"products.edit_name.{product.id}")
        with left:
            category = category_choice(
                "Category", product.category or None, f"products.edit_category.{product.id}"
            )
        price = right.text_input(
            f"Price ({currency})",
            value=f"{product.price_cents / 100:.2f}",
            key=f"products.edit_price.{product.id}",
            help="Orders already placed keep the price they were sold at.",
        )
        saved = st.form_submit_button("Save changes", type="primary", key="products.save")
    if saved:
        values = {
            "sku": sku,
            "name": name,
            "category": category,
            "price": price,
            "active": product.active,
        }
        try:
            catalogue.edit_product(db, product_id=product.id, product=values, actor=current_actor())
        except OrderError as exc:
            st.error(explain(exc, LABELS))
        else:
            _done(f"Saved {literal(name.strip())}.")


def availability_buttons(product: catalogue_reads.CatalogueRow) -> None:
    st.markdown("**Availability**")
    if product.active:
        st.caption("Deactivating takes it off sale; orders that have it keep it.")
        toggle = st.button("Deactivate", key="products.deactivate", icon=":material/block:")
    else:
        st.caption("Inactive: the assistant and Add Order cannot sell it.")
        toggle = st.button("Reactivate", key="products.reactivate", icon=":material/undo:")
    if toggle:
        catalogue.set_product_active(
            db, product_id=product.id, active=not product.active, actor=current_actor()
        )
        verb = "is for sale again" if not product.active else "is no longer for sale"
        _done(f"{literal(product.name)} {verb}.")
    if not product.order_count:
        with st.popover("Delete", icon=":material/delete:", key="products.delete_popover"):
            st.write(f"Delete **{literal(product.name)}** for good? It has never been ordered.")
            if st.button("Delete product", type="primary", key="products.delete"):
                try:
                    catalogue.delete_product(db, product_id=product.id, actor=current_actor())
                except OrderError as exc:
                    st.error(str(exc))
                else:
                    st.session_state["products.selected_id"] = None
                    _done(f"Deleted {literal(product.name)}.")
    if st.button("Close", key="products.close", icon=":material/close:", type="tertiary"):
        st.session_state["products.selected_id"] = None
        st.rerun()


def categories_tab() -> None:
    rows = catalogue_reads.categories(db)
    left, right = st.columns([3, 2])
    with left:
        if rows:
            st.dataframe(
                pd.DataFrame(
                    {"name": [c.name for c in rows], "products": [c.product_count for c in rows]}
                ),
                hide_index=True,
                key="products.categories_table",
                column_config={
                    "name": st.column_config.TextColumn("Category", width="large"),
                    "products": st.column_config.NumberColumn("Products", width="small"),
                },
            )
        else:
            st.info("No categories yet. Add one here, or type a new one when adding a product.")
    with right:
        with st.form("products.category_form", clear_on_submit=True):
            name = st.text_input("New category", key="products.category_name")
            if st.form_submit_button("Add category", key="products.add_category_button"):
                try:
                    catalogue.add_category(db, name=name, actor=current_actor())
                except OrderError as exc:
                    st.error(str(exc))
                else:
                    _done(f"Added the category {literal(name.strip())}.")
        if rows:
            rename_category_form(rows)


def rename_category_form(rows: list[catalogue_reads.CategoryRow]) -> None:
    by_name = {c.name: c.id for c in rows}
    with st.form("products.rename_form"):
        old = st.selectbox("Rename a category", list(by_name), key="products.rename_from")
        new = st.text_input("New name", key="products.rename_to")
        if st.form_submit_button("Rename", key="products.rename_button") and old:
            try:
                catalogue.rename_category(
                    db, category_id=by_name[old], name=new, actor=current_actor()
                )
            except OrderError as exc:
                st.error(str(exc))
            else:
                _done(f"Renamed {literal(old)} to {literal(new.strip())}.")


def transfer_tab() -> None:
    st.subheader("Export")
    st.caption(
        "The whole catalogue as CSV, in the columns the import reads — "
        "sku, name, category, price, active. Edit it in a spreadsheet and import it back."
    )
    st.download_button(
        "Download catalogue CSV",
        data=catalogue_reads.export_csv(db),
        file_name="catalogue.csv",
        mime="text/csv",
        key="products.export",
        icon=":material/download:",
    )
    st.subheader("Import")
    st.caption(
        "Rows are matched on SKU: new SKUs are added, known ones updated. Nothing is written "
        "until you confirm, and rows with errors are left out."
    )
    upload = st.file_uploader(
        "CSV file",
        type=["csv"],
        key=f"products.import_file.{st.session_state['products.uploads']}",
    )
    if upload is not None:
        import_preview(upload.getvalue())


def import_preview(data: bytes) -> None:
    try:
        preview = catalogue.preview_import(db, data=data)
    except OrderError as exc:
        st.error(str(exc))
        return
    new, changed = preview.count("add"), preview.count("update")
    cols = st.columns(4)
    cols[0].metric("New products", new)
    cols[1].metric("Updates", changed)
    cols[2].metric("Unchanged", preview.count("unchanged"))
    cols[3].metric("Rows with errors", len(preview.errors))
    if preview.errors:
        st.markdown("**Rows with errors** — left out of the import")
        errors = pd.DataFrame(
            {
                "line": [e.line for e in preview.errors],
                "sku": [e.sku for e in preview.errors],
                "problem": [e.message for e in preview.errors],
            }
        )
        st.dataframe(
            errors,
            hide_index=True,
            key="products.import_error_table",
            column_config={
                "line": st.column_config.NumberColumn("Line", width="small"),
                "sku": st.column_config.TextColumn("SKU", width="small"),
                "problem": st.column_config.TextColumn("Problem", width="large"),
            },
        )
        st.caption("Fix them in the file and upload it again, or import the other rows now.")
        csv_download(
            errors,
            file_name="import-errors.csv",
            key="products.import_errors",
            label="Download the errors",
        )
    if preview.new_categories:
        st.info(f"New categories will be created: {literal(', '.join(preview.new_categories))}.")
    if preview.ignored_columns:
        st.caption(f"Ignored columns: {literal(', '.join(preview.ignored_columns))}.")
    if not preview.to_write:
        st.info("Nothing to import: every valid row matches the catalogue already.")
        return
    st.markdown("**What the import will do**")
    st.dataframe(
        pd.DataFrame(
            {
                "line": [r.line for r in preview.to_write],
                "action": ["New" if r.action == "add" else "Update" for r in preview.to_write],
                "sku": [r.sku for r in preview.to_write],
                "name": [r.name for r in preview.to_write],
                "price": [units(r.price_cents) for r in preview.to_write],
                "changes": [r.changes for r in preview.to_write],
            }
        ),
        hide_index=True,
        key="products.import_preview",
        column_config={
            "line": st.column_config.NumberColumn("Line", width="small"),
            "action": st.column_config.TextColumn("Action", width="small"),
            "sku": st.column_config.TextColumn("SKU", width="small"),
            "name": st.column_config.TextColumn("Name"),
            "price": money_column("Price", currency, width="small"),
            "changes": st.column_config.TextColumn("Changes", width="large"),
        },
    )
    label = f"Import {plural(len(preview.to_write), 'product')}"
    if preview.errors:
        label += f", skip {plural(len(preview.errors), 'row')} with errors"
    if st.button(label, type="primary", key="products.import_confirm", icon=":material/upload:"):
        try:
            result = catalogue.apply_import(db, data=data, actor=current_actor())
        except OrderError as exc:
            st.error(str(exc))
            return
        st.session_state["products.uploads"] += 1
        _done(f"Imported the catalogue: {result.added} added, {result.updated} updated.")


add_product_form()
products, categories, transfer = st.tabs(["Products", "Categories", "Import / export"])
with products:
    selected = product_table()
    if selected is not None:
        edit_panel(selected)
with categories:
    categories_tab()
with transfer:
    transfer_tab()
