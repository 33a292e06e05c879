"""Products: the catalogue the Add Order dialog and the assistant sell from."""

import pandas as pd
import streamlit as st

from domain.order import OrderError
from queries import catalogue as catalogue_reads
from queries.orders import business_settings
from services import catalogue
from ui import catalogue_import, product_panel
from ui.auth import current_actor, require_staff
from ui.display import explain, money_column, selected_id, units
from ui.flash import show_flashes
from ui.format import literal
from ui.product_panel import LABELS, category_choice, done
from ui.resources import database

require_staff()  # before anything reads data
db = database()
settings = business_settings(db)
currency = settings.currency
st.session_state.setdefault(product_panel.SELECTED, None)
st.session_state.setdefault(catalogue_import.UPLOADS, 0)

st.title("Products")
st.caption(
    "The catalogue that the Add Order dialog and the AI assistant sell from. Prices are "
    "before tax; tax and shipping are added to each order from Settings."
)
show_flashes(banners=True)


def add_product_form() -> None:
    with st.expander("Add a product", icon=":material/add:", key="products.add_expander"):
        with st.form("products.add_form", clear_on_submit=False, border=False):
            left, right = st.columns(2)
            sku = left.text_input("SKU", placeholder="e.g. TEA-006", key="products.add_sku")
            name = right.text_input(
                "Name", placeholder="e.g. Rooibos 100 g", key="products.add_name"
            )
            with left:
                category = category_choice(db, "Category", None, "products.add_category")
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
                done(f"Added {literal(name.strip())} ({literal(sku.strip())}).", new_id)


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
    chosen = selected_id(event.selection.rows, frame, product_panel.SELECTED)
    return catalogue_reads.product(db, product_id=chosen) if chosen else None


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
                    done(f"Added the category {literal(name.strip())}.")
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
                done(f"Renamed {literal(old)} to {literal(new.strip())}.")


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
    catalogue_import.render(db, currency)


add_product_form()
products, categories, transfer = st.tabs(["Products", "Categories", "Import / export"])
with products:
    selected = product_table()
    if selected is not None:
        product_panel.render(db, selected, currency)
with categories:
    categories_tab()
with transfer:
    transfer_tab()
