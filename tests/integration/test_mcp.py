"""The MCP server at /mcp, driven by the official MCP client against `streamlit run app.py`.

On SQLite and PostgreSQL, each with a server and a database of its own (intake_support).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx2
import mcp
import mcp_types as types
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import func, select

from db.models import Order
from tests import aio
from tests.builders import order_data
from tests.conftest import BACKENDS
from tests.integration.intake_support import OTHER_TOKEN, TOKEN, Api, Client, running_api

T = TypeVar("T")
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp(f"mcp-{request.param}")
    with running_api(request.param, folder, "mcp_server", f"{TOKEN}, {OTHER_TOKEN}") as running:
        yield running


@asynccontextmanager
async def mcp_session(url: str, token: str = TOKEN) -> AsyncIterator[ClientSession]:
    """The official client over Streamable HTTP, as an assistant's host would connect."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(f"{url}/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def with_session(api: Api, work: Callable[[ClientSession], Awaitable[T]]) -> T:
    async def main() -> T:
        async with mcp_session(api.url) as session:
            return await work(session)

    return aio.run(main)


def call(api: Api, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
    return with_session(api, lambda session: session.call_tool(name, arguments))


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


def new_key() -> str:
    return uuid.uuid4().hex


def an_order(**changes: Any) -> dict[str, Any]:
    """An order for a customer of its own, so tests never share contacts."""
    return order_data(**{"customer__email": f"{new_key()}@example.com", **changes})


def orders_numbered(api: Api, number: str) -> int:
    with api.db.reading() as session:
        return session.scalar(select(func.count()).where(Order.number == number)) or 0


# ---- the handshake and the tool list --------------------------------------------------------


def test_the_server_lists_its_three_tools_with_schemas_and_hints(api):
    async def work(session: ClientSession) -> types.ListToolsResult:
        return await session.list_tools()

    tools = {tool.name: tool for tool in with_session(api, work).tools}
    assert set(tools) == {"list_products", "place_order", "get_order_status"}
    for tool in tools.values():
        assert tool.description and len(tool.description) > 80
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema and tool.output_schema["type"] == "object"
        assert tool.annotations is not None
    assert tools["list_products"].annotations.read_only_hint is True
    assert tools["get_order_status"].annotations.read_only_hint is True
    assert tools["place_order"].annotations.read_only_hint is False

    place = tools["place_order"].input_schema
    assert set(place["properties"]) >= {"order_key", "customer", "items", "shipping", "note"}
    assert set(place["required"]) == {"order_key", "customer", "items", "shipping"}
    assert place["properties"]["order_key"]["maxLength"] == 255
    item = place["properties"]["items"]["items"]
    assert item["required"] == ["sku", "quantity"]
    assert item["properties"]["quantity"]["minimum"] == 1
    assert "$defs" not in place and "$ref" not in str(place)

    lookup = tools["get_order_status"].input_schema
    assert set(lookup["properties"]) == {"number", "email", "phone"}
    assert lookup["required"] == ["number"] and "anyOf" not in lookup
    assert set(tools["list_products"].input_schema["properties"]) == {"category", "query"}
    assert "replayed" in tools["place_order"].output_schema["properties"]


def test_a_client_on_the_2026_protocol_without_a_handshake_is_served_too(api):
    async def main() -> tuple[str, types.CallToolResult]:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            mcp.Client(streamable_http_client(f"{api.url}/mcp", http_client=http)) as client,
        ):
            found = await client.call_tool("list_products", {"query": "mug"})
            return client.protocol_version, found

    version, result = aio.run(main)
    assert version == "2026-07-28"
    assert [p["sku"] for p in result.structured_content["products"]] == ["MUG-001"]


# ---- the tools ------------------------------------------------------------------------------


def test_list_products_gives_the_active_catalogue_and_filters_it(api):
    everything = call(api, "list_products", {})
    assert not everything.is_error
    skus = [p["sku"] for p in everything.structured_content["products"]]
    assert sorted(skus) == ["HALF-01", "MUG-001", "TEA-001"]  # never the retired teapot
    tea = everything.structured_content["products"][skus.index("TEA-001")]
    assert tea == {
        "sku": "TEA-001",
        "name": "Earl Grey",
        "category": "Tea",
        "price_cents": 1200,
        "currency": "USD",
    }
    mugs = call(api, "list_products", {"query": "mug"}).structured_content["products"]
    assert [p["sku"] for p in mugs] == ["MUG-001"]
    assert len(call(api, "list_products", {"category": "TEA"}).structured_content["products"]) == 3
    assert call(api, "list_products", {"category": "Cakes"}).structured_content == {"products": []}


def test_place_order_creates_a_pending_order_the_status_tool_then_finds(api):
    order = an_order()
    placed = call(api, "place_order", {**order, "order_key": new_key()})
    assert not placed.is_error, text_of(placed)
    created = placed.structured_content
    assert created["number"].startswith("ORD-") and created["replayed"] is False
    assert (created["status"], created["total_cents"]) == ("pending", 3098)
    assert created["items"][0]["sku"] == "TEA-001" and created["items"][0]["quantity"] == 2
    assert orders_numbered(api, created["number"]) == 1

    email = order["customer"]["email"]
    status = call(api, "get_order_status", {"number": created["number"], "email": email.upper()})
    assert not status.is_error, text_of(status)
    assert status.structured_content["number"] == created["number"]
    assert status.structured_content["status"] == "pending"
    assert status.structured_content["tracking_number"] is None
    by_phone = call(api, "get_order_status", {"number": created["number"], "phone": "+14155552671"})
    assert by_phone.structured_content["number"] == created["number"]


def test_the_same_order_key_and_arguments_give_one_order(api):
    arguments = {**an_order(), "order_key": new_key()}
    first = call(api, "place_order", arguments)
    before = api.counts()
    again = call(api, "place_order", arguments)
    assert not again.is_error, text_of(again)
    assert again.structured_content == {**first.structured_content, "replayed": True}
    assert api.counts() == before
    assert orders_numbered(api, first.structured_content["number"]) == 1


def test_the_same_order_key_with_other_arguments_is_a_tool_error(api):
    arguments = {**an_order(), "order_key": new_key()}
    call(api, "place_order", arguments)
    before = api.counts()
    changed = call(api, "place_order", {**arguments, "items": [{"sku": "TEA-001", "quantity": 3}]})
    assert changed.is_error and changed.structured_content is None
    assert "order_key was already used" in text_of(changed)
    assert api.counts() == before


def test_an_order_key_shares_the_rest_routes_idempotency_key_for_one_token(api):
    order, key = an_order(), new_key()
    rest = api.client.post("/api/v1/orders", order, key=key)
    assert rest.status == 201, rest.body
    before = api.counts()
    placed = call(api, "place_order", {**order, "order_key": key})
    assert placed.structured_content["number"] == rest.json()["number"]
    assert placed.structured_content["replayed"] is True
    assert api.counts() == before


# ---- what a model can correct ---------------------------------------------------------------


def test_invalid_arguments_are_a_tool_error_naming_each_field(api):
    before = api.counts()
    order = an_order(customer__email="not-an-address", items=[{"sku": "TEA-001", "quantity": 0}])
    del order["shipping"]
    result = call(api, "place_order", {**order, "order_key": new_key(), "colour": "red"})
    assert result.is_error
    message = text_of(result)
    assert "- customer.email: is not a valid e-mail address" in message
    assert "- items[0].quantity: must be at least 1" in message
    assert "- shipping: is required" in message
    assert "- colour: is not a known field" in message
    assert "Traceback" not in message
    assert api.counts() == before


def test_a_missing_or_oversized_order_key_is_a_tool_error(api):
    before = api.counts()
    missing = call(api, "place_order", an_order())
    assert missing.is_error and "- order_key: is required" in text_of(missing)
    long = call(api, "place_order", {**an_order(), "order_key": "k" * 256})
    assert long.is_error and "- order_key: must be 1 to 255 characters" in text_of(long)
    nul = call(api, "place_order", {**an_order(), "order_key": "a\x00b"})
    assert nul.is_error and "- order_key: must not contain a NUL" in text_of(nul)
    assert api.counts() == before


def test_an_unknown_sku_is_a_tool_error_pointing_at_list_products(api):
    before = api.counts()
    order = an_order(items=[{"sku": "NOPE-404", "quantity": 1}])
    result = call(api, "place_order", {**order, "order_key": new_key()})
    assert result.is_error
    assert "- items[0].sku: unknown product SKU “NOPE-404”" in text_of(result)
    assert "list_products" in text_of(result)
    assert api.counts() == before


def test_an_order_not_found_or_asked_for_without_a_contact_is_a_tool_error(api):
    missing = call(api, "get_order_status", {"number": "ORD-999999", "email": "who@example.com"})
    assert missing.is_error and "No order with that number" in text_of(missing)
    bare = call(api, "get_order_status", {"number": "ORD-000001"})
    assert bare.is_error and "- email: give the customer's e-mail or phone" in text_of(bare)
    wrong_type = call(api, "list_products", {"category": 7})
    assert wrong_type.is_error and "- category:" in text_of(wrong_type)


# ---- the token, checked before any MCP work -------------------------------------------------


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_no_or_a_wrong_token_is_refused_with_401(api, token):
    reply = Client(api.url, token=token).post("/mcp", INITIALIZE, headers=MCP_HEADERS)
    assert reply.status == 401, reply.body
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert reply.json()["type"].endswith("/unauthorized")


def test_the_right_token_gets_an_mcp_answer_over_plain_http(api):
    reply = api.client.post("/mcp", INITIALIZE, headers=MCP_HEADERS)
    assert reply.status == 200, reply.body
    assert reply.json()["result"]["serverInfo"]["name"] == "product-orders"


def test_a_request_larger_than_an_order_may_be_is_refused_with_413(api):
    huge = {**INITIALIZE, "params": {**INITIALIZE["params"], "padding": "x" * 100_000}}
    reply = api.client.post("/mcp", huge, headers=MCP_HEADERS)
    assert reply.status == 413, reply.body


def test_without_configured_tokens_the_mcp_server_answers_503(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mcp-no-tokens")
    with running_api("sqlite", folder, "unused", tokens="") as unconfigured:
        reply = unconfigured.client.post("/mcp", INITIALIZE, headers=MCP_HEADERS)
    assert reply.status == 503
    assert reply.json()["type"].endswith("/intake-not-configured")
