"""The opened product on the Products page: its edit form, taking it off sale, deleting it.

Also the two pieces the page's Add form shares with it: the category picker and `done`.
"""

from __future__ import annotations

import streamlit as st

from db.database import Database
from domain.money import format_money
from domain.order import OrderError
from queries import catalogue as catalogue_reads
from queries.catalogue import CatalogueRow
from services import catalogue
from ui.auth import current_actor
from ui.display import explain, plural
from ui.flash import flash
from ui.format import literal

SELECTED = "products.selected_id"
LABELS = {"sku": "SKU", "name": "Name", "category": "Category", "price": "Price"}


def done(message: str, product_id: int | None = None) -> None:
    flash(message)
    if product_id is not None:
        st.session_state[SELECTED] = product_id
    st.rerun()


def category_choice(db: Database, label: str, current: str | None, key: str) -> str | None:
    names = [c.name for c in catalogue_reads.categories(db)]
    return st.selectbox(
        label,
        names,
        index=names.index(current) if current in names else None,
        placeholder="Choose one, or type a new category",
        accept_new_options=True,
        key=key,
    )


def render(db: Database, product: CatalogueRow, currency: str) -> None:
    state = "on sale" if product.active else "inactive — not for sale"
    orders = f"on {plural(product.order_count, 'order')}"
    with st.container(border=True):
        st.subheader(f"Edit {literal(product.name)}", anchor=False)
        price = format_money(product.price_cents, currency)
        st.caption(f"{literal(product.sku)} · {price} · {state} · {orders}")
        form_col, actions_col = st.columns([3, 1], gap="large")
        with form_col:
            _edit_form(db, product, currency)
        with actions_col:
            _availability_buttons(db, product)


def _edit_form(db: Database, product: CatalogueRow, currency: str) -> None:
    with st.form(f"products.edit_form.{product.id}", border=False):
        left, right = st.columns(2)
        sku = left.text_input("SKU", value=product.sku, key=f"products.edit_sku.{product.id}")
        name = right.text_input("Name", value=product.name, key=f"products.edit_name.{product.id}")
        with left:
            category = category_choice(
                db, "Category", product.category or None, f"products.edit_category.{product.id}"
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
            done(f"Saved {literal(name.strip())}.")


def _availability_buttons(db: Database, product: CatalogueRow) -> None:
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
        done(f"{literal(product.name)} {verb}.")
    if not product.order_count:
        _delete_button(db, product)
    if st.button("Close", key="products.close", icon=":material/close:", type="tertiary"):
        st.session_state[SELECTED] = None
        st.rerun()


def _delete_button(db: Database, product: CatalogueRow) -> None:
    with st.popover("Delete", icon=":material/delete:", key="products.delete_popover"):
        st.write(f"Delete **{literal(product.name)}** for good? It has never been ordered.")
        if st.button("Delete product", type="primary", key="products.delete"):
            try:
                catalogue.delete_product(db, product_id=product.id, actor=current_actor())
            except OrderError as exc:
                st.error(str(exc))
            else:
                st.session_state[SELECTED] = None
                done(f"Deleted {literal(product.name)}.")
