"""Packing slips and invoices as PDFs, read back with pypdf, on both databases."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from db.database import Database
from db.models import Order, OrderEvent
from domain.money import format_money
from domain.order import PaymentStatus
from queries.documents import invoice_documents, packing_slip, packing_slips
from services import orders
from services.invoices import invoice, invoices, issue_invoice
from services.settings import save_settings
from tests.builders import add_catalogue, order_data

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"  # as tests/e2e/conftest.py keeps its screenshots
ITEMS = [
    {"sku": "TEA-001", "quantity": 2},
    {"sku": "MUG-001", "quantity": 3},
    {"sku": "HALF-01", "quantity": 7},
]
NAMES = [("Zoë", "Núñez"), ("山田", "太郎"), ("Ωmega", "Σmith")]
SELLER = {
    "business_name": "Tea & Co",
    "timezone": "Europe/London",
    "currency": "USD",
    "default_country": "US",
    "tax_rate_percent": "8.25",
    "shipping_fee": "5.00",
    "seller_address": "12 Tea Lane\nSpringfield, IL 62701",
    "tax_id": "US-99-1234567",
}


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def place(db: Database, first: str = "Ada", last: str = "Lovelace", items=ITEMS) -> int:
    data = order_data(customer__first_name=first, customer__last_name=last, items=items)
    return orders.create_order(db, order=data, actor="owner").order_id


@pytest.fixture
def shop(db: Database) -> Database:
    add_catalogue(db)
    save_settings(db, values=SELLER, actor="owner")
    return db


def test_the_packing_slip_lists_every_sku_and_quantity_and_no_price(shop):
    order_id = place(shop)
    [text] = pages(packing_slip(shop, order_id))
    for item in ITEMS:
        assert re.search(rf"{item['sku']} .* {item['quantity']}\n", text), item
    assert "ORD-10001" in text and "Tea & Co" in text and "12 Tea Lane" in text
    assert "1 Main St, Apt 4" in text and "Springfield, IL 62701" in text
    assert "$" not in text and not re.search(r"\d+\.\d\d", text)  # no prices at all
    assert "3 lines · 12 units" in text


def test_many_orders_make_one_pdf_with_a_page_each_in_the_order_asked(shop):
    ids = [place(shop) for _ in range(3)]
    texts = pages(packing_slips(shop, [ids[2], ids[0], ids[1], 999_999]))
    numbers = [re.search(r"ORD-\d+", t).group() for t in texts]
    assert numbers == ["ORD-10003", "ORD-10001", "ORD-10002"]


def test_the_invoice_totals_are_the_orders(shop):
    order_id = place(shop)
    [text] = pages(invoice(shop, order_id=order_id, actor="owner"))
    with shop.reading() as session:
        order = session.get(Order, order_id)
        lines = list(order.items)
    for line in lines:
        unit, total = format_money(line.unit_price_cents), format_money(line.subtotal_cents)
        assert f"{line.sku} {line.name} {line.quantity} {unit} {total}" in text
    assert f"Subtotal {format_money(order.subtotal_cents)}" in text
    assert f"Tax (8.25 %) {format_money(order.tax_cents)}" in text
    assert f"Shipping {format_money(order.shipping_cents)}" in text
    assert f"Total (USD) {format_money(order.total_cents)}" in text
    assert "Payment status: Pending" in text and "All amounts in USD." in text
    assert "Tax ID: US-99-1234567" in text and re.search(r"Invoice INV-\d{4}-00001", text)
    assert "ada@example.com" in text  # the buyer


def test_an_invoice_number_is_given_once_stored_and_recorded_with_its_actor(shop):
    order_id = place(shop)
    first = issue_invoice(shop, order_id=order_id, actor="clerk@shop")
    again = issue_invoice(shop, order_id=order_id, actor="someone-else")
    assert first == again and re.fullmatch(r"INV-20\d\d-00001", first)
    assert issue_invoice(shop, order_id=place(shop), actor="clerk@shop").endswith("-00002")
    with shop.reading() as session:
        order = session.get(Order, order_id)
        events = session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order_id, OrderEvent.kind == "invoice")
        ).all()
    assert order.invoice_number == first and order.invoice_issued_at is not None
    assert order.version == 2  # one recorded change
    assert [(e.actor, e.to_value) for e in events] == [("clerk@shop", first)]
    # Printing it again prints the same number, and issues nothing new.
    assert first in pages(invoice(shop, order_id=order_id, actor="x"))[0]


def test_the_numbers_of_a_bulk_run_follow_the_order_given(shop):
    ids = [place(shop) for _ in range(3)]
    texts = pages(invoices(shop, [ids[1], ids[0], ids[2]], actor="owner"))
    found = [re.search(r"INV-\d{4}-(\d{5})", t).group(1) for t in texts]
    assert found == ["00001", "00002", "00003"]
    assert pages(invoice_documents(shop, [place(shop)])) == ["No invoices.\nPage 1"]


def test_cancelled_and_refunded_invoices_say_so(shop):
    cancelled, refunded = place(shop), place(shop)
    orders.cancel_order(
        shop, order_id=cancelled, expected_version=None, actor="owner", reason="Out of stock"
    )
    orders.set_payment_status(
        shop, order_id=refunded, expected_version=None, actor="owner", payment=PaymentStatus.PAID
    )
    orders.set_payment_status(
        shop, order_id=refunded, expected_version=None, actor="owner",
        payment=PaymentStatus.REFUNDED,
    )  # fmt: skip
    first, second = pages(invoices(shop, [cancelled, refunded], actor="owner"))
    assert "ORDER CANCELLED — nothing is due: Out of stock" in first
    assert "REFUNDED" in second and "Payment status: Refunded" in second
    assert "CANCELLED — do not ship" in pages(packing_slip(shop, cancelled))[0]


def test_names_in_any_script_come_back_as_written(shop):
    ids = [place(shop, first, last, ITEMS[:1]) for first, last in NAMES]
    slips = pages(packing_slips(shop, ids))
    bills = pages(invoices(shop, ids, actor="owner"))
    for (first, last), slip, bill in zip(NAMES, slips, bills, strict=True):
        assert f"{first} {last}" in slip and f"{first} {last}" in bill
    assert "?" not in "".join(slips)


def test_a_packing_slip_page_renders_to_an_image(shop, db: Database):
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (Debian poppler-utils) is not installed")
    order_id = place(shop, "山田", "太郎")
    documents = {
        "packing-slip": packing_slip(shop, order_id),
        "invoice": invoice(shop, order_id=order_id, actor="owner"),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    for name, data in documents.items():
        source = ARTIFACTS / f"{name}-{db.kind}.pdf"
        source.write_bytes(data)
        stem = str(source.with_suffix(""))
        command = ["pdftoppm", "-r", "80", "-png", "-singlefile", str(source), stem]
        subprocess.run(command, check=True, timeout=60)
        assert source.with_suffix(".png").stat().st_size > 10_000


def test_invoice_numbers_are_unique_and_gap_free_under_concurrent_issuing(shop, db: Database):
    if db.is_sqlite:
        pytest.skip("PostgreSQL: SQLite takes one writer at a time")
    ids = [place(shop, items=ITEMS[:1]) for _ in range(24)]
    issuers = Database(db.url, pool_size=8, max_overflow=0)
    start = threading.Barrier(8)
    given: dict[int, str] = {}
    errors: list[BaseException] = []

    def issue(chunk: list[int]) -> None:
        try:
            start.wait()
            for order_id in chunk:
                given[order_id] = issue_invoice(issuers, order_id=order_id, actor="thread")
                # Issuing again meanwhile, from another thread, gives the same number.
                assert issue_invoice(issuers, order_id=order_id, actor="thread") == given[order_id]
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=issue, args=(ids[i::8],)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        issuers.dispose()
    assert not errors
    sequence = sorted(int(number.rsplit("-", 1)[1]) for number in given.values())
    assert sequence == list(range(1, len(ids) + 1))
    with shop.reading() as session:
        stored = session.scalars(select(Order.invoice_number)).all()
    assert sorted(stored) == sorted(given.values())
