"""+ Add Order and Edit Order: one dialog in three steps — Customer, Products, Shipping.

What is typed lives in a draft in session state, so moving between steps, or a step that
does not validate, never loses anything. Totals are quoted live by the same service that
prices the saved order.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from db.database import Database
from db.unit_of_work import StaleOrder
from domain.addresses import MAX_POSTAL_CODE, MAX_STATE, hints
from domain.inputs import CustomerIn, InvalidInput, ShippingIn, parse
from domain.money import MAX_QUANTITY
from domain.order import OrderError
from queries.catalogue import list_categories, list_products
from queries.contacts import list_contacts
from queries.orders import OrderDetails, business_settings, order_details, quote_order
from services import orders
from ui.flash import flash
from ui.format import literal, money
from ui.fragments import on_its_own
from ui.order_keys import DIALOG, NEWEST_ID, SELECTED

STEP = "orders.form.step"
DRAFT = "orders.form.draft"
ERRORS = "orders.form.errors"
STEPS = ["Customer", "Products", "Shipping"]

CUSTOMER_FIELDS = {
    "first_name": "First Name *",
    "last_name": "Last Name *",
    "email": "Email *",
    "phone": "Phone",
}
SHIPPING_FIELDS = {
    "street": "Street Address *",
    "apartment": "Apartment/Suite",
    "city": "City *",
    "state": "State *",
    "zip": "ZIP Code *",
}
CHANNELS = {"email": "Email", "sms": "SMS"}


def key(name: str) -> str:
    return f"orders.form.{name}"


# ---- opening and closing ----


def open_add() -> None:
    _reset({"items": {}, "preferred_channel": "email"})
    st.session_state[DIALOG] = ("add", None)


def _start_edit(details: OrderDetails) -> None:
    draft: dict[str, Any] = {
        "first_name": details.first_name,
        "last_name": details.last_name,
        "email": details.email,
        "phone": details.phone or "",
        "preferred_channel": details.preferred_channel,
        "items": {item.sku: item.quantity for item in details.items},
        "street": details.street,
        "apartment": details.apartment or "",
        "city": details.city,
        "state": details.state,
        "zip": details.zip,
        "country": details.country,
        "version": details.version,
        "number": details.number,
    }
    _reset(draft)


def _reset(draft: dict[str, Any]) -> None:
    st.session_state[DRAFT] = draft
    st.session_state[STEP] = 0
    st.session_state[ERRORS] = {}
    for name in [*CUSTOMER_FIELDS, *SHIPPING_FIELDS, "contact", "preferred_channel"]:
        st.session_state.pop(key(name), None)


def close() -> None:
    st.session_state[DIALOG] = None
    st.session_state.pop(DRAFT, None)


# ---- the dialog ----


def show(db: Database, actor: str) -> None:
    mode, order_id = st.session_state[DIALOG]
    if mode == "edit" and st.session_state.get(DRAFT, {}).get("order_id") != order_id:
        details = order_details(db, order_id=order_id)
        if details is None:
            close()
            return
        _start_edit(details)
        st.session_state[DRAFT]["order_id"] = order_id
    title = "Add Order" if mode == "add" else f"Edit Order {st.session_state[DRAFT]['number']}"
    st.dialog(title, width="large", on_dismiss=close)(_body)(db, actor)


def _body(db: Database, actor: str) -> None:
    with on_its_own():
        step = st.session_state[STEP]
        st.markdown(
            "  ›  ".join(
                f"**{i + 1}. {name}**" if i == step else f":gray[{i + 1}. {name}]"
                for i, name in enumerate(STEPS)
            )
        )
        [_customer_step, _products_step, _shipping_step][step](db)
        _navigation(db, actor, step)


def _seed(name: str, default: Any = "") -> str:
    widget_key = key(name)
    if widget_key not in st.session_state:
        st.session_state[widget_key] = st.session_state[DRAFT].get(name, default)
    return widget_key


def _field(name: str, label: str, **options: Any) -> None:
    st.text_input(label, key=_seed(name), **options)
    error = st.session_state[ERRORS].get(name)
    if error:
        # A text input has no error slot of its own: the words go right under it, in a
        # container keyed to the field ("orders.form.zip.error").
        with st.container(key=key(f"{name}.error")):
            st.caption(f":red[{literal(_sentence(label, error))}]")


def _sentence(label: str, message: str) -> str:
    label, message = label.rstrip(" *"), message.rstrip(".")
    return f"{label} {message}." if message.startswith(("is ", "must ")) else f"{label}: {message}."


# ---- step 1: customer ----


def _fill_from_contact(db: Database) -> None:
    contact_id = st.session_state.get(key("contact"))
    contact = next((c for c in list_contacts(db, limit=1000) if c.id == contact_id), None)
    if contact is None:
        return
    values = {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "phone": contact.phone or "",
        "preferred_channel": contact.preferred_channel,
    }
    for name, value in values.items():
        st.session_state[key(name)] = value
        st.session_state[DRAFT][name] = value


def _customer_step(db: Database) -> None:
    contacts = {c.id: c for c in list_contacts(db, limit=1000)}
    st.selectbox(
        "Select Contact",
        options=list(contacts),
        index=None,
        format_func=lambda cid: f"{contacts[cid].name} · {contacts[cid].email}",
        placeholder="Search existing customers (optional)",
        key=key("contact"),
        on_change=_fill_from_contact,
        args=(db,),
    )
    first, last = st.columns(2)
    with first:
        _field("first_name", CUSTOMER_FIELDS["first_name"], max_chars=100)
    with last:
        _field("last_name", CUSTOMER_FIELDS["last_name"], max_chars=100)
    email, phone = st.columns(2)
    with email:
        _field("email", CUSTOMER_FIELDS["email"], max_chars=254)
    with phone:
        _field("phone", CUSTOMER_FIELDS["phone"], max_chars=30, placeholder="+1 415 555 2671")
    st.radio(
        "Preferred channel for updates",
        options=list(CHANNELS),
        format_func=CHANNELS.get,
        horizontal=True,
        key=_seed("preferred_channel", "email"),
    )


# ---- step 2: products ----


def _add_line() -> None:
    sku = st.session_state.get(key("product"))
    quantity = int(st.session_state.get(key("add_qty")) or 1)
    if not sku:
        st.session_state[ERRORS] = {"items": "choose a product first"}
        return
    items = st.session_state[DRAFT].setdefault("items", {})
    items[sku] = min(MAX_QUANTITY, items.get(sku, 0) + quantity)
    st.session_state[key(f"qty.{sku}")] = items[sku]
    st.session_state[ERRORS] = {}


def _remove_line(sku: str) -> None:
    st.session_state[DRAFT]["items"].pop(sku, None)
    st.session_state.pop(key(f"qty.{sku}"), None)


def _products_step(db: Database) -> None:
    products = list_products(db, active_only=True)
    if not products:
        st.info("There are no products to sell yet. Add some on the Products page first.")
        return
    categories = ["All categories", *list_categories(db)]
    category = st.selectbox("Category", categories, key=key("category"))
    shown = [p for p in products if category == "All categories" or p.category == category]
    by_sku = {p.sku: p for p in products}
    pick, quantity, add = st.columns([5, 2, 1], vertical_alignment="bottom")
    with pick:
        st.selectbox(
            "Product",
            options=[p.sku for p in shown],
            index=None,
            format_func=lambda s: f"{by_sku[s].name} · {money(by_sku[s].price_cents)} · {s}",
            placeholder="Choose a product",
            key=key("product"),
        )
    with quantity:
        st.number_input(
            "Quantity", min_value=1, max_value=MAX_QUANTITY, value=1, key=key("add_qty")
        )
    with add:
        st.button("Add", key=key("add"), on_click=_add_line, icon=":material/add:")
    _lines(db, by_sku)


def _lines(db: Database, by_sku: dict[str, Any]) -> None:
    items: dict[str, int] = st.session_state[DRAFT].setdefault("items", {})
    error = st.session_state[ERRORS].get("items")
    if error:
        st.caption(f":red[Products: {literal(error)}.]")
    if not items:
        st.caption("No products yet: choose one above and press Add.")
        return
    st.markdown("**In this order**")
    for sku in list(items):
        product = by_sku.get(sku)
        name = product.name if product else sku
        price = f" · {money(product.price_cents)} each" if product else ""
        label, qty, remove = st.columns([5, 2, 1], vertical_alignment="center")
        with label:
            st.markdown(f"{literal(name)}  \n:gray[{literal(sku)}{price}]")
        with qty:
            widget_key = key(f"qty.{sku}")
            st.session_state.setdefault(widget_key, items[sku])
            items[sku] = int(
                st.number_input(
                    f"Quantity of {literal(name)}",
                    min_value=1,
                    max_value=MAX_QUANTITY,
                    key=widget_key,
                    label_visibility="collapsed",
                )
            )
        with remove:
            st.button(
                "Remove",
                key=key(f"remove.{sku}"),
                on_click=_remove_line,
                args=(sku,),
                icon=":material/delete:",
            )
    quote = quote_order(db, quantities=items)
    rows = [
        ("Subtotal", quote.subtotal_cents),
        (f"Tax ({quote.tax_rate_bp / 100:g} %)", quote.tax_cents),
        ("Shipping", quote.shipping_cents),
    ]
    cols = st.columns(4)
    for col, (label, cents) in zip(cols, rows, strict=False):
        col.metric(label, money(cents, quote.currency))
    cols[3].metric("Total", money(quote.total_cents, quote.currency))


# ---- step 3: shipping ----


def _shipping_step(db: Database) -> None:
    # Examples in the order's country: an edited order keeps its own, a new one takes the
    # shop's.
    country = st.session_state[DRAFT].get("country") or business_settings(db).default_country
    state_hint, postal_hint = hints(country)
    _field("street", SHIPPING_FIELDS["street"], max_chars=200)
    _field("apartment", SHIPPING_FIELDS["apartment"], max_chars=100)
    city, state, zip_code = st.columns([3, 2, 2])
    with city:
        _field("city", SHIPPING_FIELDS["city"], max_chars=100)
    with state:
        _field(
            "state",
            SHIPPING_FIELDS["state"],
            max_chars=MAX_STATE,
            placeholder=state_hint or None,
        )
    with zip_code:
        _field(
            "zip",
            SHIPPING_FIELDS["zip"],
            max_chars=MAX_POSTAL_CODE,
            placeholder=postal_hint or None,
        )
    # The form has no country input (an edited order keeps its own): still say what is wrong
    # with it, or Next and Save would refuse without a word.
    country_error = st.session_state[ERRORS].get("country")
    if country_error:
        country = st.session_state[DRAFT].get("country") or ""
        st.caption(f":red[{literal(_sentence(f'Country {country}'.strip(), country_error))}]")


# ---- moving between steps and saving ----

STEP_FIELDS = [
    [*CUSTOMER_FIELDS, "preferred_channel"],
    [],
    list(SHIPPING_FIELDS),
]


def _keep(step: int) -> None:
    """Copy what the step's widgets hold into the draft."""
    draft = st.session_state[DRAFT]
    for name in STEP_FIELDS[step]:
        if key(name) in st.session_state:
            draft[name] = st.session_state[key(name)]


def _customer_payload(draft: dict[str, Any]) -> dict[str, Any]:
    return {
        "first_name": draft.get("first_name", ""),
        "last_name": draft.get("last_name", ""),
        "email": draft.get("email", ""),
        "phone": draft.get("phone") or None,
        "preferred_channel": draft.get("preferred_channel", "email"),
    }


def _shipping_payload(draft: dict[str, Any]) -> dict[str, Any]:
    payload = {name: draft.get(name, "") for name in SHIPPING_FIELDS}
    payload["apartment"] = payload["apartment"] or None
    if draft.get("country"):
        payload["country"] = draft["country"]
    return payload


def _step_errors(step: int, region: str) -> dict[str, str]:
    """The step's field errors, by the rules the service applies (the shop's country
    for a phone number and for an address without a country of its own)."""
    draft = st.session_state[DRAFT]
    try:
        if step == 0:
            parse(CustomerIn, _customer_payload(draft), region=region)
        elif step == 1 and not draft.get("items"):
            return {"items": "add at least one product"}
        elif step == 2:
            parse(ShippingIn, _shipping_payload(draft), region=region)
    except InvalidInput as exc:
        return {e.field.split(".")[-1]: e.message for e in exc.errors}
    return {}


def _back(step: int) -> None:
    _keep(step)
    st.session_state[ERRORS] = {}
    st.session_state[STEP] = step - 1


def _next(db: Database, step: int) -> None:
    _keep(step)
    st.session_state[ERRORS] = _step_errors(step, business_settings(db).default_country)
    if not st.session_state[ERRORS]:
        st.session_state[STEP] = step + 1


def _navigation(db: Database, actor: str, step: int) -> None:
    back, _, forward = st.columns([1, 2, 1])
    if step > 0:
        back.button(
            "Back", key=key("back"), icon=":material/arrow_back:", on_click=_back, args=(step,)
        )
    if step < len(STEPS) - 1:
        forward.button(
            "Next",
            key=key("next"),
            type="primary",
            icon=":material/arrow_forward:",
            on_click=_next,
            args=(db, step),
        )
        return
    mode, _ = st.session_state[DIALOG]
    label = "Create Order" if mode == "add" else "Save Changes"
    if forward.button(label, key=key("submit"), type="primary", icon=":material/check:"):
        _keep(step)
        _submit(db, actor)


def _submit(db: Database, actor: str) -> None:
    draft = st.session_state[DRAFT]
    payload = {
        "customer": _customer_payload(draft),
        "items": [{"sku": sku, "quantity": qty} for sku, qty in draft.get("items", {}).items()],
        "shipping": _shipping_payload(draft),
    }
    mode, order_id = st.session_state[DIALOG]
    try:
        if mode == "add":
            change = orders.create_order(db, order=payload, actor=actor)
            st.session_state[NEWEST_ID] = max(change.order_id, st.session_state.get(NEWEST_ID, 0))
            done = "added to Pending"
        else:
            change = orders.edit_order(
                db,
                order_id=order_id,
                expected_version=draft["version"],
                actor=actor,
                changes=payload,
            )
            done = "saved; totals recomputed"
    except InvalidInput as exc:
        _show_errors(exc)
        return
    except StaleOrder as exc:
        close()
        flash(str(exc), "warning")
        st.rerun()
    except OrderError as exc:
        st.error(str(exc))
        return
    close()
    st.session_state[SELECTED] = change.order_id
    flash(f"{change.number} {done}.")
    st.rerun()


def _show_errors(exc: InvalidInput) -> None:
    errors: dict[str, str] = {}
    first_step = len(STEPS)
    for error in exc.errors:
        section, _, name = error.field.partition(".")
        section = section.split("[")[0]
        step = {"customer": 0, "items": 1, "shipping": 2}.get(section, 0)
        first_step = min(first_step, step)
        errors["items" if section == "items" else name] = error.message
    st.session_state[ERRORS] = errors
    st.session_state[STEP] = min(first_step, len(STEPS) - 1)
    st.rerun()
