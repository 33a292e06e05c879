"""The Orders page exports the view on screen: its filters and its sort."""

from __future__ import annotations

import csv
import io

import bootstrap
from tests.builders import add_catalogue
from tests.ui.test_orders_page import place, run_page, table


def test_the_export_follows_the_sort_chosen_on_the_page(page_db):
    add_catalogue(page_db)
    for quantity in (2, 5, 1):
        place(page_db, items=[{"sku": "TEA-001", "quantity": quantity}])
    at = run_page()
    at.selectbox(key="orders.sort").select("total_low").run()
    shown = list(table(at)["Order #"])

    at.button(key="orders.export.orders.csv.pending").click().run()

    assert not at.exception, at.exception
    [link] = at.get("link_button")
    found = bootstrap.export_files.take(link.proto.url.removeprefix("/exports/"))
    rows = list(csv.reader(io.StringIO(found.path.read_text(encoding="utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == shown == ["ORD-10003", "ORD-10001", "ORD-10002"]
