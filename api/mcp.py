"""The assistant's MCP server at /mcp: the intake API's three tools over Streamable HTTP.

Built on the official `mcp` SDK's low-level `Server`, so each tool's input schema is the one
the REST API validates with (`domain.inputs.OrderIn`, `services.intake.OrderLookupIn`) and
its output schema comes from the type of the structured result it returns. The session
manager runs stateless with JSON responses: every POST stands alone, so any of several app
processes can answer it and nothing is kept between requests.

The bearer token is checked before any MCP work (`McpEndpoint`), with the intake API's
tokens and answers: 401 for a missing or wrong token, 503 when none is configured. What a
tool cannot do — invalid arguments, an unknown SKU, an order not found, a reused order_key
— is a tool result with `isError: true` and a message per field, never a protocol error.

`place_order`'s `order_key` is the REST route's Idempotency-Key, in the same scope (a hash
of the token): one client placing the same order by either way in gets one order.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel, Field, StringConstraints, TypeAdapter
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from api.auth import authenticate
from api.intake import MAX_BODY_BYTES, in_worker
from api.nodelay import no_delay
from api.problems import Problem, problem_for
from api.tools import inline_refs
from domain.inputs import FieldError, InvalidInput, OrderIn, Strict, parse, text_problem
from services import intake

PATH = "/mcp"
# The JSON route's limit on an order, plus room for the JSON-RPC envelope around it.
MAX_REQUEST_BYTES = MAX_BODY_BYTES + 4 * 1024
CLIENT_SCOPE = "intake_client_scope"  # where McpEndpoint leaves the caller's scope
OrderKey = Annotated[str, StringConstraints(min_length=1, max_length=intake.MAX_KEY_LENGTH)]
Filter = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]


# ---- the tools' arguments -----------------------------------------------------------------


class ListProductsIn(Strict):
    category: Filter | None = Field(
        None, description="Only products in this category (any letter case), e.g. 'Tea'."
    )
    query: Filter | None = Field(
        None, description="Only products whose name or SKU contains this text (any letter case)."
    )


class PlaceOrderIn(OrderIn):
    order_key: OrderKey = Field(
        description="A new unique string (e.g. a UUID) for each new order; the same one, with "
        "the same arguments, when retrying that order after a timeout or error."
    )


def _lookup_schema() -> dict[str, Any]:
    schema = inline_refs(intake.OrderLookupIn.model_json_schema())
    # The model's top-level anyOf (email or phone) is refused by some assistants' tool
    # APIs; the descriptions say it instead, and the service still enforces it.
    schema.pop("anyOf", None)
    properties = schema["properties"]
    properties["number"]["description"] = "The order number, e.g. 'ORD-10042'."
    properties["email"]["description"] = "The e-mail the order was placed with (or give phone)."
    properties["phone"]["description"] = "The phone the order was placed with (or give email)."
    return schema


# ---- what they return ----------------------------------------------------------------------


class ProductsOut(BaseModel):
    products: list[intake.CatalogueEntry]


class PlacedItemOut(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


class PlacedOrderOut(BaseModel):
    number: str
    status: str
    payment_status: str
    currency: str
    subtotal_cents: int
    tax_cents: int
    shipping_cents: int
    total_cents: int
    items: list[PlacedItemOut]
    replayed: bool = Field(
        description="True when this order_key had already placed this order: no new order "
        "was made; this is the first call's result again."
    )


# The service's view as JSON: `updated_at` becomes an ISO 8601 string.
ORDER_STATUS = TypeAdapter(intake.OrderStatusView)


def _tool(
    name: str,
    title: str,
    description: str,
    arguments: dict[str, Any],
    result: dict[str, Any],
    **hints: bool,
) -> types.Tool:
    return types.Tool(
        name=name,
        title=title,
        description=description,
        input_schema=arguments,
        output_schema=inline_refs(result),
        annotations=types.ToolAnnotations(title=title, **hints),
    )


TOOLS = [
    _tool(
        "list_products",
        "List products",
        "List the products the shop sells now: SKU, name, category and unit price in "
        "cents (e.g. 1200 = 12.00 in `currency`). Call it before quoting or ordering: "
        "offer only these products and use their SKUs in place_order. Prices are "
        "decided by the shop when the order is placed. Optionally narrow the list by "
        "category or by a search text.",
        inline_refs(ListProductsIn.model_json_schema()),
        ProductsOut.model_json_schema(mode="serialization"),
        read_only_hint=True,
        open_world_hint=False,
    ),
    _tool(
        "place_order",
        "Place an order",
        "Place an order for the customer, only after they have confirmed the items, "
        "quantities, their name, e-mail (and phone if they want SMS) and shipping "
        "address. Items are SKUs from list_products with quantities; the shop prices "
        "them and the order starts as pending, for staff to confirm. The customer is "
        "told by e-mail or SMS. Give a new order_key for each new order and reuse it "
        "only to retry the same order with the same arguments: a retry then returns "
        "the first result (replayed: true) instead of ordering twice. If the result is "
        "an error, correct the fields it names and call again.",
        inline_refs(PlaceOrderIn.model_json_schema()),
        PlacedOrderOut.model_json_schema(mode="serialization"),
        read_only_hint=False,
        destructive_hint=False,
        idempotent_hint=True,  # per order_key
        open_world_hint=True,  # the customer is sent an e-mail or SMS
    ),
    _tool(
        "get_order_status",
        "Get an order's status",
        "Look up an order's status, payment status and shipment tracking for the "
        "customer. Needs the order number and the e-mail or the phone the order was "
        "placed with (ask the customer for them); an order is only shown when both match.",
        _lookup_schema(),
        ORDER_STATUS.json_schema(mode="serialization"),
        read_only_hint=True,
        open_world_hint=False,
    ),
]


# ---- the tools -----------------------------------------------------------------------------


class NotFound(Exception):
    pass


async def list_products(_client: str, arguments: dict[str, Any]) -> dict[str, Any]:
    wanted = parse(ListProductsIn, arguments, subject="the arguments")
    entries = await in_worker(intake.active_catalogue)
    category = (wanted.category or "").casefold()
    text = (wanted.query or "").casefold()
    products = [
        entry
        for entry in entries
        if (not category or entry.category.casefold() == category)
        and (not text or text in entry.name.casefold() or text in entry.sku.casefold())
    ]
    return ProductsOut(products=products).model_dump(mode="json")


async def place_order(client: str, arguments: dict[str, Any]) -> dict[str, Any]:
    key = arguments.get("order_key")
    problem = _key_problem(key)
    if problem:
        raise InvalidInput([FieldError("order_key", problem)])
    assert isinstance(key, str)
    # The order as the REST route's body would be: the same order gives the same
    # fingerprint, whichever way in it came.
    payload = {name: value for name, value in arguments.items() if name != "order_key"}
    placed = await in_worker(intake.place_order, scope=client, key=key, payload=payload)
    result = {**json.loads(placed.body), "replayed": placed.replayed}
    return PlacedOrderOut.model_validate(result).model_dump()


async def get_order_status(_client: str, arguments: dict[str, Any]) -> dict[str, Any]:
    found = await in_worker(intake.order_status, lookup=arguments)
    if found is None:
        raise NotFound(
            "No order with that number for that e-mail or phone. Check both with the "
            "customer (the number looks like ORD-10042) and try again."
        )
    return dict(ORDER_STATUS.dump_python(found, mode="json"))


Tool = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
HANDLERS: dict[str, Tool] = {
    "list_products": list_products,
    "place_order": place_order,
    "get_order_status": get_order_status,
}


def _key_problem(key: Any) -> str | None:
    if key is None:
        return "is required: a new unique string per order, the same one to retry it"
    if not isinstance(key, str):
        return "must be a string"
    if not 1 <= len(key) <= intake.MAX_KEY_LENGTH:
        return f"must be 1 to {intake.MAX_KEY_LENGTH} characters"
    return text_problem(key)


# ---- failures as tool results ------------------------------------------------------------


def failure(exc: Exception) -> str:
    """What a model should read when a tool could not do its work, and how to go on."""
    if isinstance(exc, InvalidInput):
        lines = [f"- {error.field}: {error.message}" for error in exc.errors]
        hint = (
            "\nUse SKUs from list_products."
            if any(error.field.endswith(".sku") for error in exc.errors)
            else ""
        )
        return (
            "The arguments are not valid. Correct these fields and call the tool again:\n"
            + "\n".join(lines)
            + hint
        )
    if isinstance(exc, intake.KeyReused):
        return (
            "This order_key was already used for an order with different arguments, so "
            "nothing was ordered. Use a new order_key for a new or changed order; reuse a "
            "key only to retry the same order with the same arguments."
        )
    if isinstance(exc, intake.KeyInFlight):
        return "An order with this order_key is still being placed; retry in a second."
    if isinstance(exc, NotFound):
        return str(exc)
    # The REST routes' answer: database outages, the order's rules, and — logged with
    # its traceback here, never shown — anything unexpected.
    return problem_for(exc).detail


def _text(text: str) -> list[types.ContentBlock]:
    return [types.TextContent(type="text", text=text)]


async def _list_tools(
    _ctx: ServerRequestContext[Any], _params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    return types.ListToolsResult(tools=TOOLS)


async def _call_tool(
    ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
) -> types.CallToolResult:
    tool = HANDLERS.get(params.name)
    if tool is None:
        raise MCPError(
            code=types.INVALID_PARAMS,
            message=f"Unknown tool {params.name!r}; the tools are {', '.join(HANDLERS)}.",
        )
    client = _client_scope(ctx)
    try:
        result = await tool(client, dict(params.arguments or {}))
    except Exception as exc:
        return types.CallToolResult(content=_text(failure(exc)), is_error=True)
    return types.CallToolResult(
        content=_text(json.dumps(result, ensure_ascii=False)), structured_content=result
    )


def _client_scope(ctx: ServerRequestContext[Any]) -> str:
    request = ctx.request
    scope = getattr(request, "scope", None) or {}
    client = scope.get("state", {}).get(CLIENT_SCOPE)
    if not isinstance(client, str):  # McpEndpoint always sets it; never serve without
        raise MCPError(code=types.INTERNAL_ERROR, message="The caller was not authenticated.")
    return client


server: Server[Any] = Server(
    "product-orders",
    title="Product Orders",
    instructions=(
        "The shop's order desk. Use list_products to see what is for sale, place_order "
        "once the customer has confirmed their order (a new order_key per order), and "
        "get_order_status when a customer asks about an order they placed."
    ),
    on_list_tools=_list_tools,
    on_call_tool=_call_tool,
)


# ---- HTTP: the token first, then the session manager ----------------------------------------


class McpEndpoint:
    """The ASGI app at /mcp: a request without a valid token never reaches MCP."""

    def __init__(self) -> None:
        self.manager: StreamableHTTPSessionManager | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        no_delay(request)
        try:
            client = authenticate(request)
            manager = self.manager
            if manager is None:
                raise Problem(
                    503,
                    "mcp-not-running",
                    "The MCP server is not running",
                    "The server is starting or stopping; retry shortly.",
                    headers={"Retry-After": "1"},
                )
        except Problem as problem:
            await problem.response()(scope, receive, send)
            return
        scope.setdefault("state", {})[CLIENT_SCOPE] = client
        await manager.handle_request(scope, receive, send)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve MCP while the app runs (a session manager runs once, so a new one each time)."""
        manager = StreamableHTTPSessionManager(
            app=server,
            stateless=True,
            json_response=True,
            max_request_body_size=MAX_REQUEST_BYTES,
        )
        async with manager.run():
            self.manager = manager
            try:
                yield
            finally:
                self.manager = None


endpoint = McpEndpoint()
serving = endpoint.running
ROUTES = [Route(PATH, endpoint)]
