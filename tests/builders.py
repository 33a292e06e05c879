"""Small builders for test data: a catalogue and a valid new order."""

from __future__ import annotations

import copy
from typing import Any

from db.database import Database
from db.models import Category, Product

PRODUCTS = [
    ("TEA-001", "Earl Grey", 1200, True),
    ("MUG-001", "Stoneware Mug", 1800, True),
    ("HALF-01", "Half Cent Tea", 1000, True),
    ("OLD-001", "Retired Teapot", 2500, False),
]

VALID_ORDER: dict[str, Any] = {
    "customer": {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "+14155552671",
    },
    "items": [{"sku": "TEA-001", "quantity": 2}],
    "shipping": {
        "street": "1 Main St",
        "apartment": "Apt 4",
        "city": "Springfield",
        "state": "IL",
        "zip": "62701",
    },
}

# A customer who prefers text messages (and has a phone to receive them).
SMS_CUSTOMER = {
    "first_name": "Grace",
    "last_name": "Hopper",
    "email": "grace@example.com",
    "phone": "+14155552671",
    "preferred_channel": "sms",
}


def add_catalogue(db: Database) -> dict[str, int]:
    with db.writing() as session:
        category = Category(name="Tea")
        session.add(category)
        session.flush()
        ids = {}
        for sku, name, price, active in PRODUCTS:
            product = Product(
                sku=sku, name=name, category_id=category.id, price_cents=price, active=active
            )
            session.add(product)
            session.flush()
            ids[sku] = product.id
        session.commit()
    return ids


def order_data(**changes: Any) -> dict[str, Any]:
    """VALID_ORDER with `section__field=value` changes, e.g. customer__email='x'."""
    data = copy.deepcopy(VALID_ORDER)
    for key, value in changes.items():
        if "__" in key:
            section, name = key.split("__", 1)
            data[section][name] = value
        else:
            data[key] = value
    return data
