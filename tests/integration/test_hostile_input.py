"""Hostile input, one table, on SQLite and PostgreSQL: each value with its expected outcome.

Every value goes into an order through the service and over the HTTP API, and is either
stored exactly as sent (less the surrounding whitespace every text field drops) or refused
with a field error naming the field, storing nothing. What is stored is then shown on the
Orders page as itself — never as Markdown, HTML, a link or an icon — and exported so that
no spreadsheet runs it. Search strings with SQL or LIKE metacharacters are plain text.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import func, select

from db.models import Contact, Order
from domain.inputs import InvalidInput
from queries import catalogue as catalogue_reads
from queries.contacts import search_contacts
from queries.order_export import export_csv, export_excel
from queries.orders import OrderFilter, Tab, list_orders, order_details
from services import orders
from tests.builders import add_catalogue, order_data
from tests.conftest import BACKENDS
from tests.integration.intake_support import Api, running_api
from tests.ui.conftest import open_page
from ui.format import literal

UTC = ZoneInfo("UTC")
NUL = "must not contain a NUL character"
SURROGATE = "must be valid Unicode text"


@dataclass(frozen=True)
class Hostile:
    name: str
    field: str  # where it goes in the order, as the API names it
    value: str
    refused: str | None = None  # the field error's words, when it must be refused

    @property
    def stored(self) -> str:
        return self.value.strip()

    def __str__(self) -> str:
        return self.name


CASES = [
    # HTML and script: stored as typed, shown as text.
    Hostile("script tag", "customer.first_name", '<script>alert("x")</script>'),
    Hostile("img onerror", "shipping.street", "<img src=x onerror=alert(1)> 1 Main St"),
    Hostile("html entities", "note", "&lt;b&gt;not bold&lt;/b&gt; &amp; &#x3C;"),
    Hostile("iframe in a note", "note", '<iframe src="https://evil.example"></iframe>'),
    # Markdown and Streamlit's own Markdown extensions.
    Hostile("markdown emphasis and link", "note", "**urgent** [pay here](https://evil.example)"),
    Hostile("markdown heading", "customer.last_name", "# Heading"),
    Hostile("markdown list and quote", "note", "- not a list\n> not a quote\n1. nor this"),
    Hostile("streamlit colour and icon", "note", ":red[alarm] :material/warning: :smile:"),
    Hostile("latex", "note", r"$\frac{1}{0}$ costs $$5"),
    Hostile("bare url", "shipping.apartment", "www.evil.example/pay https://evil.example"),
    Hostile("backticks and backslashes", "note", r"`code` \*not bold\* C:\temp\new"),
    # Other scripts and characters.
    Hostile("emoji with joiners", "customer.first_name", "Zoë 👩‍👩‍👧 🎉"),
    Hostile("right-to-left arabic", "shipping.city", "القاهرة"),
    Hostile("right-to-left override", "customer.last_name", "\u202egnp.exe", "text-direction"),
    Hostile("left-to-right embedding", "customer.first_name", "Ann\u202a", "text-direction"),
    Hostile("directional isolate", "shipping.street", "1 Main\u2066 St\u2069", "text-direction"),
    Hostile("mixed direction", "note", "שלום 123 abc مرحبا"),
    Hostile("zero-width characters", "customer.first_name", "A\u200bd\u200da\ufeff"),
    Hostile("combining marks", "customer.last_name", "Z̴̡̪a̷l̵g̶o̸"),
    Hostile("newline inside a name", "customer.first_name", "Ann\nMarie", "one line"),
    Hostile("line break in a street", "shipping.street", "1 Main St\r\nPay at x", "one line"),
    Hostile("line separator in a city", "shipping.city", "Spring\u2028field", "one line"),
    # Names and address lines must show something, and nothing a terminal would act on.
    Hostile("only zero-width space", "customer.first_name", "\u200b", "visible text"),
    Hostile("only invisible characters", "customer.last_name", "\ufeff\u2060\u200b", "visible"),
    Hostile("invisible apartment", "shipping.apartment", "\u2060\u200d", "visible text"),
    Hostile("bell in a name", "customer.last_name", "Lovelace\x07", "control characters"),
    Hostile("escape sequence", "shipping.city", "\x1b[31mSpringfield", "control characters"),
    # Lengths: at the limit is stored (characters, not bytes), over it refused.
    Hostile("name of 100 four-byte emoji", "customer.first_name", "😀" * 100),
    Hostile("name over 100 characters", "customer.last_name", "x" * 101, "at most 100"),
    Hostile("note of 2000 characters", "note", "n" * 2000),
    Hostile("note over 2000 characters", "note", "n" * 2001, "at most 2000"),
    Hostile("street over 200 characters", "shipping.street", "s" * 201, "at most 200"),
    Hostile("only whitespace", "customer.first_name", " \t ", "is required"),
    # What neither database can store as it is.
    Hostile("NUL in a name", "customer.first_name", "Ann\x00Bob", NUL),
    Hostile("NUL in a note", "note", "\x00", NUL),
    Hostile("NUL in a SKU", "items[0].sku", "TEA-001\x00", NUL),
    Hostile("lone surrogate", "shipping.city", "Spring\ud800field", SURROGATE),
    # SQL and spreadsheet metacharacters: plain text.
    Hostile("sql injection", "customer.last_name", "O'Brien'); DROP TABLE orders;--"),
    Hostile("like wildcards", "shipping.street", r"100% _off_ \ lane"),
    Hostile("formula equals", "customer.first_name", '=HYPERLINK("https://evil.example","x")'),
    Hostile("formula plus", "shipping.street", "+1+cmd|' /C calc'!A0"),
    Hostile("formula at", "shipping.city", "@SUM(A1:A9)"),
    Hostile("formula minus", "conversation_ref", "-2+3"),
]
STORED = [case for case in CASES if case.refused is None]
NAME_FIELDS = ("customer.first_name", "customer.last_name")
ATTRIBUTE = {
    "customer.first_name": "first_name",
    "customer.last_name": "last_name",
    "shipping.street": "street",
    "shipping.apartment": "apartment",
    "shipping.city": "city",
    "note": "customer_note",
    "conversation_ref": "external_ref",
}


def test_the_table_holds_at_least_25_hostile_inputs_with_both_outcomes():
    assert len(CASES) >= 25
    assert len(STORED) < len(CASES)
    assert len({case.name for case in CASES}) == len(CASES)


def order_with(case: Hostile, email: str | None = None) -> dict[str, Any]:
    data = order_data(customer__email=email or f"{uuid.uuid4().hex}@example.com")
    if case.field == "items[0].sku":
        data["items"][0]["sku"] = case.value
    elif "." in case.field:
        section, name = case.field.split(".")
        data[section][name] = case.value
    else:
        data[case.field] = case.value
    return data


def stored_value(db, order_id: int, case: Hostile) -> str | None:
    return getattr(order_details(db, order_id=order_id), ATTRIBUTE[case.field])


def stored_counts(db) -> tuple[int, int]:
    with db.reading() as session:
        return (
            session.scalar(select(func.count()).select_from(Order)) or 0,
            session.scalar(select(func.count()).select_from(Contact)) or 0,
        )


@pytest.fixture
def shop(db):
    add_catalogue(db)
    return db


@pytest.fixture
def page(shop, monkeypatch):
    """The shop as the Orders page sees it (AppTest, open local mode)."""
    monkeypatch.setenv("DATABASE_URL", shop.url)
    monkeypatch.delenv("DASHBOARD_PASSWORD", raising=False)
    return shop


# ---- through the service --------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
def test_each_hostile_input_is_stored_intact_or_refused_by_the_service(shop, case):
    if case.refused:
        with pytest.raises(InvalidInput) as refused:
            orders.create_order(shop, order=order_with(case), actor="staff")
        assert case.refused in (refused.value.for_field(case.field) or "")
        assert stored_counts(shop) == (0, 0)
    else:
        change = orders.create_order(shop, order=order_with(case), actor="staff")
        assert stored_value(shop, change.order_id, case) == case.stored


@pytest.mark.parametrize(
    ("given", "field", "problem"),
    [
        ({"tracking_url": "javascript:alert(document.cookie)"}, "tracking_url", "web address"),
        ({"tracking_url": "data:text/html,<script>x</script>"}, "tracking_url", "web address"),
        ({"tracking_url": "/relative/path"}, "tracking_url", "web address"),
        ({"carrier": "c" * 101}, "carrier", "at most 100"),
        ({"tracking_number": "1Z\x00"}, "tracking_number", NUL),
        ({"tracking_url": "https://t.example/" + "x" * 500}, "tracking_url", "at most 500"),
    ],
)
def test_shipping_details_that_cannot_be_stored_or_linked_are_refused(shop, given, field, problem):
    change = orders.create_order(shop, order=order_data(), actor="staff")
    orders.confirm_order(shop, order_id=change.order_id, expected_version=None, actor="staff")
    details = {"carrier": "UPS", "tracking_number": "1Z999", **given}
    with pytest.raises(InvalidInput) as refused:
        orders.mark_shipped(
            shop, order_id=change.order_id, expected_version=None, actor="staff", **details,
            ship_unpaid=True,
        )  # fmt: skip
    assert problem in (refused.value.for_field(field) or "")
    assert order_details(shop, order_id=change.order_id).tracking_number is None


@pytest.mark.parametrize(
    ("text", "problem"), [("why\x00", NUL), ("r" * 1001, "at most 1,000"), ("\ud800", SURROGATE)]
)
def test_a_cancel_reason_that_cannot_be_stored_is_refused(shop, text, problem):
    change = orders.create_order(shop, order=order_data(), actor="staff")
    with pytest.raises(InvalidInput) as refused:
        orders.cancel_order(
            shop, order_id=change.order_id, expected_version=None, actor="staff", reason=text
        )
    assert problem in (refused.value.for_field("reason") or "")


@pytest.mark.parametrize(("text", "problem"), [("a\x00b", NUL), ("n" * 2001, "at most 2,000")])
def test_a_timeline_note_that_cannot_be_stored_is_refused(shop, text, problem):
    change = orders.create_order(shop, order=order_data(), actor="staff")
    with pytest.raises(InvalidInput) as refused:
        orders.add_note(shop, order_id=change.order_id, actor="staff", text=text)
    assert problem in (refused.value.for_field("note") or "")
    assert [e.kind for e in order_details(shop, order_id=change.order_id).events] == ["created"]


# ---- over HTTP ------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp(f"hostile-http-{request.param}")
    with running_api(request.param, folder, "hostile_http", "hostile-token") as running:
        running.client.token = "hostile-token"
        yield running


@pytest.mark.parametrize("case", CASES, ids=str)
def test_each_hostile_input_over_the_api_is_stored_intact_or_a_422(api, case):
    before = api.counts()["Order"]
    reply = api.client.post("/api/v1/orders", order_with(case), key=uuid.uuid4().hex)
    if case.refused:
        assert reply.status == 422, reply.body
        errors = {e["field"]: e["message"] for e in reply.json()["errors"]}
        assert case.refused in errors.get(case.field, ""), errors
        assert api.counts()["Order"] == before
    else:
        assert reply.status == 201, reply.body
        number = reply.json()["number"]
        with api.db.reading() as session:
            order_id = session.scalar(select(Order.id).where(Order.number == number))
        assert stored_value(api.db, order_id, case) == case.stored


# ---- shown as text ----------------------------------------------------------------------------


def rendered(at) -> dict[str, list[str]]:
    """What the page hands the browser, split into text shown as is and text read as Markdown."""
    markdown = [m.value for m in at.markdown] + [c.value for c in at.caption]
    for kind in ("info", "warning", "error", "success", "toast", "subheader", "title"):
        markdown += [str(e.value) for e in getattr(at, kind)]
    return {"text": [t.value for t in at.text], "markdown": markdown}


def test_stored_hostile_text_reads_as_itself_on_the_orders_page(page):
    placed = [
        (case, orders.create_order(page, order=order_with(case), actor="staff").number)
        for case in STORED
    ]
    at = open_page("orders").run()
    for case, number in placed:
        at.query_params["order"] = number
        at.run()
        assert not at.exception, (case, at.exception)
        assert at.subheader[0].value == number
        shown = rendered(at)
        if ATTRIBUTE[case.field] == "customer_note":
            assert f"Customer note: {literal(case.stored)}" in shown["markdown"], case
        elif case.field == "conversation_ref":
            assert any(literal(case.stored) in m for m in shown["markdown"]), case
        else:  # names and address lines are plain text blocks
            assert any(case.stored in t for t in shown["text"]), case
        escaped = literal(case.stored)
        if escaped != case.stored:
            raw = [m for m in shown["markdown"] if case.stored in m and escaped not in m]
            assert not raw, f"{case}: interpolated into Markdown unescaped: {raw}"
        if case.field in NAME_FIELDS:
            assert any(case.stored in cell for cell in at.dataframe[0].value["Customer"])


def test_a_note_and_a_reason_with_markup_stay_literal_on_the_timeline(page):
    change = orders.create_order(page, order=order_data(), actor="staff")
    note = "**paid** [receipt](https://evil.example) :material/check: <b>x</b>"
    orders.add_note(page, order_id=change.order_id, actor="staff", text=note)
    orders.cancel_order(
        page, order_id=change.order_id, expected_version=None, actor="staff", reason="# Oops"
    )
    at = open_page("orders")
    at.query_params["order"] = change.number
    at.run()
    shown = "\n".join(rendered(at)["markdown"])
    assert literal(note) in shown and note not in shown
    assert f"Cancelled: {literal('# Oops')}" in shown


@pytest.mark.parametrize(
    "link", ["[pay here](https://evil.example)", ":red[ORD-1]", "**ORD-1**", "ORD-1\x00"]
)
def test_a_hostile_deep_link_is_named_literally_and_opens_nothing(page, link):
    at = open_page("orders")
    at.query_params["order"] = link
    at.run()
    assert not at.exception, at.exception
    assert not at.subheader
    warning = at.warning[0].value
    assert warning.startswith("There is no order ")
    if literal(link) != link:
        assert literal(link) in warning and link not in warning


# ---- searched as literals ---------------------------------------------------------------------

PEOPLE = ["100% Cotton", "Under_Score", "O'Brien", "Back\\Slash", "Plain Person"]
MORE = ["Back\\Slash Smith", "Plain Person"]


@pytest.fixture
def people(shop):
    for index, name in enumerate(PEOPLE):
        first, last = name.split(" ") if " " in name else (name, "Smith")
        orders.create_order(
            shop,
            order=order_data(
                customer__first_name=first,
                customer__last_name=last,
                customer__email=f"person{index}@example.com",
            ),
            actor="staff",
        )
    return shop


def found(db, text: str) -> list[str]:
    page = list_orders(db, tab=Tab.ALL, filters=OrderFilter(text=text), page_size=50, zone=UTC)
    return sorted(row.customer_name for row in page.rows)


@pytest.mark.parametrize(
    ("search", "names"),
    [
        ("%", ["100% Cotton"]),
        ("_", ["Under_Score Smith"]),
        ("'", ["O'Brien Smith"]),
        ("\\", ["Back\\Slash Smith"]),
        ("' OR '1'='1", []),
        ("%' OR 1=1 --", []),
        ("'; DROP TABLE orders; --", []),
        ("%%%", []),
        ("[a-z]*", []),
        ('"cotton" OR x', []),  # FTS5 query syntax is no syntax here either
        ("cot\x00ton", ["100% Cotton"]),  # a NUL (never stored) separates words
        ("\x00", sorted(["100% Cotton", "Under_Score Smith", "O'Brien Smith", *MORE])),
        ("cott\ud800", ["100% Cotton"]),
    ],
)
def test_search_strings_with_metacharacters_match_only_literally(people, search, names):
    assert found(people, search) == names


def test_the_other_searches_take_metacharacters_literally_too(people):
    assert [p.name for p in search_contacts(people, search="%").rows] == ["100% Cotton"]
    assert search_contacts(people, search="' OR 1=1 --\x00").rows == []
    assert catalogue_reads.catalogue(people, search="%") == []
    assert [r.sku for r in catalogue_reads.catalogue(people, search="_0")] == []


def test_the_orders_page_searches_for_metacharacters_without_error(people, page):
    at = open_page("orders").run()
    at.text_input(key="orders.search").input("%' OR 1=1 --").run()
    assert not at.exception
    assert any("No orders match" in i.value for i in at.info)
    at.text_input(key="orders.search").input("100%").run()
    assert list(at.dataframe[0].value["Customer"]) == ["100% Cotton · person0@example.com"]


# ---- exported safely ----------------------------------------------------------------------------

FORMULAS = [case for case in STORED if case.name.startswith("formula")]


def test_exports_hand_no_spreadsheet_a_formula(shop):
    for case in FORMULAS:
        orders.create_order(shop, order=order_with(case), actor="staff")
    csv_cells = [
        cell
        for kind in ("orders", "items")
        for row in csv.reader(
            io.StringIO(
                export_csv(shop, kind=kind, tab=Tab.ALL, filters=OrderFilter(), zone=UTC).decode(
                    "utf-8-sig"
                )
            )
        )
        for cell in row
    ]
    book = openpyxl.load_workbook(
        io.BytesIO(export_excel(shop, kind="orders", tab=Tab.ALL, filters=OrderFilter(), zone=UTC))
    )
    excel = [cell for row in book.active.iter_rows() for cell in row]
    assert not [c.coordinate for c in excel if c.data_type == "f"], "a cell became a formula"
    # Excel: every cell holding one is a text cell, as typed (a text cell is never run as a
    # formula, so it needs no apostrophe); CSV has no cell types, so there it gets one.
    excel_text = [str(c.value) for c in excel if c.data_type == "s"]
    for case in FORMULAS:
        assert not [c for c in csv_cells if c.startswith(case.stored)], case
        assert any(case.stored in c and c.startswith("'") for c in csv_cells), case
        assert any(case.stored in c for c in excel_text), case
