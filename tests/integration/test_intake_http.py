"""The order-intake API over HTTP, against `streamlit run app.py` on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import IdempotencyKey, Notification, Order
from queries.orders import order_details
from services.intake import client_scope, fingerprint
from tests.builders import order_data
from tests.conftest import BACKENDS
from tests.integration.intake_support import OTHER_TOKEN, TOKEN, Api, Client, Reply, running_api

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp(f"intake-http-{request.param}")
    with running_api(request.param, folder, "intake_http", f"{TOKEN}, {OTHER_TOKEN}") as running:
        yield running


@pytest.fixture(scope="module")
def unconfigured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("intake-http-no-tokens")
    with running_api("sqlite", folder, "unused", tokens="") as running:
        yield running


def new_key() -> str:
    return uuid.uuid4().hex


def customer(email: str | None = None) -> dict[str, Any]:
    """A body for a customer of their own, so tests never see each other's contacts."""
    return order_data(customer__email=email or f"{new_key()}@example.com")


def assert_problem(reply: Reply, status: int, kind: str) -> dict[str, Any]:
    assert reply.status == status, reply.body
    assert reply.headers["content-type"] == PROBLEM
    document = reply.json()
    assert document["type"].endswith(f"/problems/{kind}")
    assert document["status"] == status
    assert document["title"] and document["detail"]
    return document


# ---- placing orders ---------------------------------------------------------------------------


def test_an_order_is_created_pending_and_priced_by_the_shop(api):
    body = order_data(
        customer__email=f"{new_key()}@example.com",
        customer__preferred_channel="sms",
        shipping__country="US",
        note="Leave at the door",
        conversation_ref="chat-8841",
    )
    reply = api.client.post("/api/v1/orders", body, key=new_key())
    assert reply.status == 201 and reply.headers["content-type"] == "application/json"
    created = reply.json()
    assert created["number"].startswith("ORD-")
    assert reply.headers["location"] == f"/api/v1/orders/{created['number']}"
    assert {k: created[k] for k in ("status", "payment_status", "currency")} == {
        "status": "pending",
        "payment_status": "pending",
        "currency": "USD",
    }
    assert (created["subtotal_cents"], created["tax_cents"]) == (2400, 198)
    assert (created["shipping_cents"], created["total_cents"]) == (500, 3098)
    assert created["items"] == [
        {
            "sku": "TEA-001",
            "name": "Earl Grey",
            "quantity": 2,
            "unit_price_cents": 1200,
            "line_total_cents": 2400,
        }
    ]
    details = order_details(api.db, number=created["number"])
    assert details.source.value == "assistant" and details.external_ref == "chat-8841"
    assert details.preferred_channel == "sms"
    assert [n.template for n in details.notifications] == ["received"]


def test_the_same_key_and_body_get_the_first_response_again_and_no_second_order(api):
    body, key = customer(), new_key()
    first = api.client.post("/api/v1/orders", body, key=key)
    before = api.counts()
    again = api.client.post("/api/v1/orders", body, key=key)
    assert (again.status, again.body) == (201, first.body)
    assert again.headers["idempotent-replayed"] == "true"
    assert api.counts() == before


def test_the_same_key_with_a_changed_body_is_refused_and_stores_nothing(api):
    body, key = customer(), new_key()
    api.client.post("/api/v1/orders", body, key=key)
    before = api.counts()
    changed = {**body, "items": [{"sku": "TEA-001", "quantity": 3}]}
    reply = api.client.post("/api/v1/orders", changed, key=key)
    assert_problem(reply, 422, "idempotency-key-reused")
    assert api.counts() == before


def test_a_key_whose_first_request_is_still_running_answers_409(api):
    body, key = customer(), new_key()
    with api.db.writing() as session:  # what the first request's claim looks like
        session.add(
            IdempotencyKey(scope=client_scope(TOKEN), key=key, request_hash=fingerprint(body))
        )
        session.commit()
    before = api.counts()
    reply = api.client.post("/api/v1/orders", body, key=key)
    assert_problem(reply, 409, "request-in-progress")
    assert reply.headers["retry-after"]
    assert api.counts() == before


def test_two_clients_may_use_the_same_key_for_their_own_orders(api):
    body, key = customer(), new_key()
    mine = api.client.post("/api/v1/orders", body, key=key).json()
    other = Client(api.url, token=OTHER_TOKEN)
    theirs = other.post("/api/v1/orders", body, key=key).json()
    assert mine["number"] != theirs["number"]


def test_a_returning_customer_is_matched_by_email_ignoring_case(api):
    email = f"{new_key()}@example.com"
    first = api.client.post("/api/v1/orders", customer(email), key=new_key()).json()
    second = api.client.post("/api/v1/orders", customer(email.upper()), key=new_key()).json()
    a = order_details(api.db, number=first["number"])
    b = order_details(api.db, number=second["number"])
    assert a.contact_id == b.contact_id


# ---- every way to be refused, and nothing stored --------------------------------------------


Spoil = Callable[[dict[str, Any]], Any]


def change(**changes: Any) -> Spoil:
    """The body with `section__field=value` or `field=value` changed."""

    def apply(body: dict[str, Any]) -> Any:
        for name, value in changes.items():
            section, _, field = name.partition("__")
            if field:
                body[section][field] = value
            else:
                body[section] = value
        return body

    return apply


def drop(section: str, name: str | None = None) -> Spoil:
    def apply(body: dict[str, Any]) -> Any:
        (body[section] if name else body).pop(name or section)
        return body

    return apply


VALID_SHIPPING = order_data()["shipping"]
MANY_LINES = [{"sku": "TEA-001", "quantity": 1} for _ in range(101)]
INVALID = [
    ("unknown SKU", change(items=[{"sku": "NOPE-1", "quantity": 1}]), "items[0].sku"),
    ("inactive SKU", change(items=[{"sku": "OLD-001", "quantity": 1}]), "items[0].sku"),
    ("quantity below 1", change(items=[{"sku": "TEA-001", "quantity": 0}]), "items[0].quantity"),
    ("quantity over 10,000", change(items=[{"sku": "TEA-001", "quantity": 10_001}]),
     "items[0].quantity"),
    ("quantity true", change(items=[{"sku": "TEA-001", "quantity": True}]), "items[0].quantity"),
    ("quantity as text", change(items=[{"sku": "TEA-001", "quantity": "3"}]), "items[0].quantity"),
    ("quantity 2.0", change(items=[{"sku": "TEA-001", "quantity": 2.0}]), "items[0].quantity"),
    ("country XX", change(shipping={**VALID_SHIPPING, "country": "XX"}), "shipping.country"),
    ("a US ZIP of letters", change(shipping__zip="ABCDE"), "shipping.zip"),
    ("a US ZIP of four digits", change(shipping__zip="9720"), "shipping.zip"),
    ("a state that is not one", change(shipping__state="Oregonia"), "shipping.state"),
    ("a Canadian state for a US address", change(shipping__state="ON"), "shipping.state"),
    ("a US ZIP for a Canadian address",
     change(shipping={**VALID_SHIPPING, "country": "CA", "state": "ON"}), "shipping.zip"),
    ("a Dutch postcode without letters",
     change(shipping={**VALID_SHIPPING, "country": "NL", "state": "NH", "zip": "1012"}),
     "shipping.zip"),
    ("a phone with an extension", change(customer__phone="+1 415 555 2671 ext. 12"),
     "customer.phone"),
    ("an invisible first name", change(customer__first_name="\u200b\ufeff"),
     "customer.first_name"),
    ("empty items", change(items=[]), "items"),
    ("more than 100 lines", change(items=MANY_LINES), "items"),
    ("a missing required field", drop("shipping", "city"), "shipping.city"),
    ("a missing section", drop("customer"), "customer"),
    ("an invalid email", change(customer__email="ada@"), "customer.email"),
    ("an invalid phone", change(customer__phone="12345"), "customer.phone"),
    ("an unknown field", change(coupon="FREE"), "coupon"),
    ("a price of its own", change(items=[{"sku": "TEA-001", "quantity": 1, "unit_price_cents": 1}]),
     "items[0].unit_price_cents"),
    ("not an object", lambda body: ["not", "an", "object"], "body"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "spoil", "field"), INVALID, ids=[c[0] for c in INVALID])
def test_an_invalid_order_is_refused_field_by_field_and_nothing_is_stored(api, case, spoil, field):
    before = api.counts()
    reply = api.client.post("/api/v1/orders", spoil(customer()), key=new_key())
    document = assert_problem(reply, 422, "validation-error")
    messages = {error["field"]: error["message"] for error in document["errors"]}
    assert messages.get(field), document
    assert api.counts() == before


def test_a_zip_error_says_what_the_format_is(api):
    reply = api.client.post(
        "/api/v1/orders", change(shipping__zip="ABCDE")(customer()), key=new_key()
    )
    document = assert_problem(reply, 422, "validation-error")
    messages = {error["field"]: error["message"] for error in document["errors"]}
    assert list(messages) == ["shipping.zip"]
    assert "is not a valid postal code for United States" in messages["shipping.zip"]
    assert "5 digits or ZIP+4" in messages["shipping.zip"]


def test_a_state_by_name_and_a_spaced_zip_are_stored_as_codes(api):
    body = change(shipping={**VALID_SHIPPING, "state": "oregon", "zip": "97205 1234"})(customer())
    reply = api.client.post("/api/v1/orders", body, key=new_key())
    assert reply.status == 201, reply.body
    with api.db.reading() as session:
        order = session.scalar(select(Order).where(Order.number == reply.json()["number"]))
        assert (order.ship_state, order.ship_zip) == ("OR", "97205-1234")


def test_a_canadian_address_is_normalised_to_canada_posts_spelling(api):
    shipping = {**VALID_SHIPPING, "country": "ca", "state": "Québec", "zip": "h2x1y4"}
    reply = api.client.post("/api/v1/orders", change(shipping=shipping)(customer()), key=new_key())
    assert reply.status == 201, reply.body
    with api.db.reading() as session:
        order = session.scalar(select(Order).where(Order.number == reply.json()["number"]))
        assert (order.ship_country, order.ship_state, order.ship_zip) == ("CA", "QC", "H2X 1Y4")


def test_a_corrected_retry_with_the_same_key_is_accepted(api):
    key = new_key()
    refused = api.client.post("/api/v1/orders", order_data(items=[]), key=key)
    assert refused.status == 422
    assert api.client.post("/api/v1/orders", customer(), key=key).status == 201


HUGE_NOTE = "x" * (64 * 1024)


@pytest.mark.parametrize("chunked", [False, True], ids=["with Content-Length", "chunked"])
def test_a_body_over_64_kib_is_refused_with_413(api, chunked):
    before = api.counts()
    reply = api.client.post(
        "/api/v1/orders", customer() | {"note": HUGE_NOTE}, key=new_key(), chunked=chunked
    )
    assert_problem(reply, 413, "body-too-large")
    assert api.counts() == before


NOT_JSON = [b"customer=Ada", b"", b'{"items": [', b"\xff\xfe{", b"NaN", b"[" * 60_000]


@pytest.mark.parametrize(
    "raw", NOT_JSON, ids=["form", "empty", "cut off", "bad bytes", "NaN", "deep"]
)
def test_a_body_that_is_not_json_is_refused_with_400(api, raw):
    before = api.counts()
    reply = api.client.call("POST", "/api/v1/orders", raw=raw, key=new_key())
    assert_problem(reply, 400, "malformed-json")
    assert api.counts() == before


@pytest.mark.parametrize("key", [None, "", "k" * 256], ids=["missing", "empty", "too long"])
def test_an_order_without_a_proper_idempotency_key_is_refused_with_400(api, key):
    before = api.counts()
    headers = {} if key is None else {"Idempotency-Key": key}
    reply = api.client.post("/api/v1/orders", customer(), headers=headers)
    assert_problem(reply, 400, "idempotency-key-required")
    assert api.counts() == before


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer "],
    ids=["missing", "wrong", "not bearer", "empty"],
)
def test_a_request_without_a_valid_token_is_refused_with_401(api, authorization):
    client = Client(api.url, token=None)
    headers = {} if authorization is None else {"Authorization": authorization}
    before = api.counts()
    reply = client.post("/api/v1/orders", customer(), key=new_key(), headers=headers)
    assert_problem(reply, 401, "unauthorized")
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert_problem(client.get("/api/v1/products", headers=headers), 401, "unauthorized")
    assert api.counts() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/orders"),
        ("GET", "/api/v1/products"),
        ("GET", "/api/v1/orders/ORD-10001?email=ada@example.com"),
    ],
)
def test_without_a_configured_token_the_order_routes_answer_503(unconfigured, method, path):
    body = customer() if method == "POST" else None
    before = unconfigured.counts()
    reply = unconfigured.client.call(method, path, body=body, key=new_key())
    document = assert_problem(reply, 503, "intake-not-configured")
    assert "INTAKE_API_TOKENS" in document["detail"]
    assert unconfigured.counts() == before


# ---- the catalogue, order status, tools, health ---------------------------------------------


def test_the_catalogue_lists_the_active_products(api):
    reply = api.client.get("/api/v1/products")
    products = reply.json()["products"]
    assert reply.status == 200
    assert {
        "sku": "TEA-001",
        "name": "Earl Grey",
        "category": "Tea",
        "price_cents": 1200,
        "currency": "USD",
    } in products
    assert "OLD-001" not in {p["sku"] for p in products}


def test_an_order_status_is_given_for_the_customers_email_or_phone(api):
    email = f"{new_key()}@example.com"
    number = api.client.post("/api/v1/orders", customer(email), key=new_key()).json()["number"]
    for query in (f"email={email.upper()}", "phone=%28415%29%20555-2671"):
        reply = api.client.get(f"/api/v1/orders/{number}?{query}")
        assert reply.status == 200, reply.body
        status = reply.json()
        assert set(status) == {
            "number",
            "status",
            "payment_status",
            "carrier",
            "tracking_number",
            "tracking_url",
            "updated_at",
            "status_url",
        }
        assert (status["number"], status["status"], status["carrier"]) == (number, "pending", None)
        assert status["status_url"] is None  # this server has no PUBLIC_BASE_URL


def test_a_missing_order_and_a_wrong_contact_get_the_same_404(api):
    email = f"{new_key()}@example.com"
    number = api.client.post("/api/v1/orders", customer(email), key=new_key()).json()["number"]
    wrong_contact = api.client.get(f"/api/v1/orders/{number}?email=eve@example.com")
    missing = api.client.get(f"/api/v1/orders/ORD-99999?email={email}")
    assert_problem(wrong_contact, 404, "order-not-found")
    assert (wrong_contact.status, wrong_contact.body) == (missing.status, missing.body)


def test_an_order_lookup_without_email_or_phone_is_refused(api):
    document = assert_problem(api.client.get("/api/v1/orders/ORD-10001"), 422, "validation-error")
    assert document["errors"][0]["field"] == "email"


def test_the_tool_definitions_describe_the_three_calls_without_references(api):
    reply = Client(api.url, token=None).get("/api/v1/tools.json")
    tools = {tool["name"]: tool for tool in reply.json()["tools"]}
    assert reply.status == 200 and set(tools) == {
        "list_products",
        "place_order",
        "get_order_status",
    }
    order = tools["place_order"]["input_schema"]
    assert set(order["required"]) == {"customer", "items", "shipping"}
    assert order["properties"]["items"]["items"]["properties"]["quantity"]["maximum"] == 10_000
    assert tools["place_order"]["http"] == {
        "method": "POST",
        "path": "/api/v1/orders",
        "headers": ["Authorization", "Idempotency-Key"],
    }
    assert "$ref" not in reply.body.decode()


def test_the_health_check_reports_the_database_reachable(api):
    reply = Client(api.url, token=None).get("/healthz")
    assert (reply.status, reply.json()) == (200, {"status": "ok", "database": "reachable"})


# ---- the idempotency race -------------------------------------------------------------------


def place_until_answered(client: Client, body: dict[str, Any], key: str) -> Reply:
    """What a well-behaved assistant does: retry a 409 (first request still running) shortly."""
    deadline = time.monotonic() + 30
    while True:
        reply = client.post("/api/v1/orders", body, key=key)
        if reply.status != 409 or time.monotonic() > deadline:
            return reply
        time.sleep(0.02)


def test_200_concurrent_requests_with_50_repeated_keys_make_exactly_150_orders(api):
    originals = [(new_key(), customer()) for _ in range(150)]
    requests = originals + random.Random(5).sample(originals, 50)
    random.Random(6).shuffle(requests)
    before = api.counts()
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        replies = list(pool.map(lambda r: place_until_answered(api.client, r[1], r[0]), requests))
    assert {reply.status for reply in replies} == {201}
    numbers: dict[str, set[str]] = {}
    for (key, _body), reply in zip(requests, replies, strict=True):
        numbers.setdefault(key, set()).add(reply.json()["number"])
    assert all(len(given) == 1 for given in numbers.values())  # duplicates got the original's
    assert len({n for given in numbers.values() for n in given}) == 150
    assert api.counts()["Order"] - before["Order"] == 150
    assert api.counts()["IdempotencyKey"] - before["IdempotencyKey"] == 150

    key, body = originals[0]
    changed = {**body, "items": [{"sku": "MUG-001", "quantity": 1}]}
    assert_problem(
        api.client.post("/api/v1/orders", changed, key=key), 422, "idempotency-key-reused"
    )
    with api.db.reading() as session:
        orders_for_email = select(func.count()).where(
            Order.customer_email == body["customer"]["email"]
        )
        assert session.scalar(orders_for_email) == 1


# ---- unknown paths and framing ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_api_path_is_a_problem_not_the_dashboard(api, method):
    reply = api.client.call(method, "/api/v1/no-such-thing", body={})
    assert_problem(reply, 404, "not-found")


@pytest.mark.parametrize("path", ["/", "/api/v1/products", "/healthz", "/api/v1/nope"])
def test_no_page_may_be_framed_by_another_site(api, path):
    reply = api.client.get(path)
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["content-security-policy"] == "frame-ancestors 'none'"


def test_an_assistant_order_cannot_put_a_link_into_the_customers_message(api):
    body = order_data(
        customer__email=f"{new_key()}@example.com",
        customer__first_name="your parcel is held. Pay the fee at https://evil.example/p, call",
        customer__preferred_channel="sms",
    )
    reply = api.client.post("/api/v1/orders", body, key=new_key())
    assert reply.status == 201, reply.body
    with api.db.reading() as session:
        order_id = session.scalar(select(Order.id).where(Order.number == reply.json()["number"]))
        sent = session.scalars(select(Notification).where(Notification.order_id == order_id)).all()
    assert sent, "the order was received, so a message was written"
    for message in sent:
        for body_part in (message.subject, message.body_text, message.body_html):
            assert "evil.example" not in body_part and "https://" not in body_part, body_part


# ---- lookups are rate limited (kept last: the server's counts outlive each test) ------------


def test_ten_wrong_contacts_for_one_order_lock_its_lookups_for_the_hour(api):
    email = f"{new_key()}@example.com"
    number = api.client.post("/api/v1/orders", customer(email), key=new_key()).json()["number"]
    other_email = f"{new_key()}@example.com"
    other = api.client.post("/api/v1/orders", customer(other_email), key=new_key()).json()
    for guess in range(10):
        reply = api.client.get(f"/api/v1/orders/{number}?email=guess{guess}@example.com")
        assert_problem(reply, 404, "order-not-found")
    locked = api.client.get(f"/api/v1/orders/{number.lower()}?email=guess10@example.com")
    document = assert_problem(locked, 429, "too-many-lookups")
    assert 1 <= int(locked.headers["retry-after"]) <= 3600
    assert "this order" in document["detail"]
    # The right contact is refused too, or the 429 would tell a guesser which guess was right.
    right = Client(api.url, token=OTHER_TOKEN).get(f"/api/v1/orders/{number}?email={email}")
    assert_problem(right, 429, "too-many-lookups")
    # Other orders answer as before.
    assert api.client.get(f"/api/v1/orders/{other['number']}?email={other_email}").status == 200


def test_one_token_may_look_up_60_orders_a_minute(api):
    email = f"{new_key()}@example.com"
    number = api.client.post("/api/v1/orders", customer(email), key=new_key()).json()["number"]
    client = Client(api.url, token=OTHER_TOKEN)
    answers = [client.get(f"/api/v1/orders/{number}?email={email}") for _ in range(61)]
    assert {a.status for a in answers[:59]} == {200}
    document = assert_problem(answers[-1], 429, "too-many-lookups")
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
    assert "this API token" in document["detail"]
    # Another token is counted on its own.
    assert api.client.get(f"/api/v1/orders/{number}?email={email}").status == 200
