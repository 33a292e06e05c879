"""`GET /api/v1/openapi.json`: the API described as OpenAPI 3.1, generated from its models.

The request bodies and parameters are the pydantic models the routes validate with
(`domain.inputs.OrderIn`, `services.intake.OrderLookupIn`); the answers are the models
below, written to match what the handlers send. The three assistant operations take their
operationId, path, method and description from `api.tools`, so tools.json and this
document cannot name them differently. Import it into a GPT Action by its URL.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.problems import MEDIA_TYPE, endpoint
from api.tools import tools_document
from domain.inputs import OrderIn
from domain.order import OrderStatus, PaymentStatus
from services.intake import MAX_KEY_LENGTH, OrderLookupIn

PATH = "/api/v1/openapi.json"
TITLE = "Product Orders API"
VERSION = "1.0.0"
REF = "#/components/schemas/{model}"


# ---- what the routes answer --------------------------------------------------------------


class FieldProblem(BaseModel):
    field: str = Field(description="Where, e.g. `items[0].sku`.")
    message: str


class ProblemDetails(BaseModel):
    """An RFC 9457 problem document (`application/problem+json`)."""

    type: str | None = Field(
        None,  # absent from the webhooks' refusals
        description="Identifies the kind of problem; ends in e.g. `/problems/validation-error`.",
    )
    title: str
    status: int
    detail: str | None = Field(None, description="What to do about it.")
    errors: list[FieldProblem] | None = Field(
        None, description="For invalid input: each field and what is wrong with it."
    )


class OrderLine(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


class OrderPlaced(BaseModel):
    """The order as created (a replay gets the same document again)."""

    number: str
    status: OrderStatus
    payment_status: PaymentStatus
    currency: str
    subtotal_cents: int
    tax_cents: int
    shipping_cents: int
    total_cents: int
    items: list[OrderLine]


class Product(BaseModel):
    sku: str
    name: str
    category: str
    price_cents: int
    currency: str


class Products(BaseModel):
    products: list[Product]


class OrderStatusOut(BaseModel):
    number: str
    status: OrderStatus
    payment_status: PaymentStatus
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    updated_at: datetime


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["reachable", "needs migrating", "unreachable"]


class EventsReceived(BaseModel):
    received: int
    updated: int


class Tools(BaseModel):
    tools: list[dict[str, Any]]


MODELS: list[type[BaseModel]] = [
    OrderIn,
    OrderLookupIn,
    ProblemDetails,
    OrderPlaced,
    Products,
    OrderStatusOut,
    Health,
    EventsReceived,
    Tools,
]


EXAMPLE = {
    "customer": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
    "items": [{"sku": "TEA-001", "quantity": 2}],
    "shipping": {"street": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"},
    "conversation_ref": "chat-8841",
}


# ---- the document ------------------------------------------------------------------------


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel], description: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref(model)}},
        **extra,
    }


def _problems(*statuses: int) -> dict[str, Any]:
    return {str(status): {"$ref": f"#/components/responses/Problem{status}"} for status in statuses}


PROBLEM_DESCRIPTIONS = {
    400: "Bad request: `idempotency-key-required`, `malformed-json` (webhooks: not JSON, "
    "too many fields).",
    401: "`unauthorized`: no or wrong bearer token.",
    403: "The webhook's signature is missing, forged or stale.",
    404: "`order-not-found` (or `not-found`: no such path).",
    409: "`request-in-progress`: the same Idempotency-Key is still being processed; "
    "retry after `Retry-After` seconds.",
    413: "`body-too-large`.",
    422: "`validation-error` (see `errors`), `order-rejected` or `idempotency-key-reused`.",
    500: "`internal-error`.",
    503: "`intake-not-configured`, `database-unavailable` (retry after `Retry-After`), or "
    "the webhook's key is not set.",
}


def _tool(name: str) -> dict[str, Any]:
    return next(tool for tool in tools_document()["tools"] if tool["name"] == name)


def _operation(tool: str, **rest: Any) -> tuple[str, str, dict[str, Any]]:
    found = _tool(tool)
    operation = {
        "operationId": tool,
        "summary": tool.replace("_", " ").capitalize(),
        "description": found["description"],
        "security": [{"bearerAuth": []}],
        **rest,
    }
    return found["http"]["path"], found["http"]["method"].lower(), operation


def _lookup_parameters() -> list[dict[str, Any]]:
    fields = OrderLookupIn.model_json_schema()["properties"]
    return [
        {"name": "number", "in": "path", "required": True, "schema": fields["number"]},
        *(
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": "The customer's e-mail or phone (give one).",
                "schema": fields[name],
            }
            for name in ("email", "phone")
        ),
    ]


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    """The document, with no `servers` (the route adds the caller's own base URL)."""
    _, definitions = models_json_schema(
        [(model, "validation") for model in MODELS], ref_template=REF
    )
    operations = [
        _operation(
            "list_products",
            responses={
                "200": _json(Products, "The active catalogue."),
                **_problems(401, 500, 503),
            },
        ),
        _operation(
            "place_order",
            parameters=[{"$ref": "#/components/parameters/IdempotencyKey"}],
            requestBody={
                "required": True,
                "content": {"application/json": {"schema": _ref(OrderIn), "example": EXAMPLE}},
            },
            responses={
                "201": _json(
                    OrderPlaced,
                    "The order was placed (or, with `Idempotent-Replayed: true`, it had been).",
                    headers={
                        "Location": {"schema": {"type": "string"}},
                        "Idempotent-Replayed": {"schema": {"type": "string", "enum": ["true"]}},
                    },
                ),
                **_problems(400, 401, 409, 413, 422, 500, 503),
            },
        ),
        _operation(
            "get_order_status",
            parameters=_lookup_parameters(),
            responses={
                "200": _json(OrderStatusOut, "The order's status and tracking."),
                **_problems(401, 404, 422, 500, 503),
            },
        ),
    ]
    paths: dict[str, dict[str, Any]] = {}
    for path, method, operation in operations:
        paths.setdefault(path, {})[method] = operation
    paths["/api/v1/tools.json"] = {
        "get": {
            "operationId": "get_tools",
            "summary": "Tool definitions for assistants",
            "security": [],
            "responses": {"200": _json(Tools, "The tools, with their JSON Schemas.")},
        }
    }
    paths["/healthz"] = {
        "get": {
            "operationId": "healthz",
            "summary": "Is this process up and its database reachable?",
            "security": [],
            "responses": {
                "200": _json(Health, "Up, database reachable."),
                "503": _json(Health, "Up, database unreachable or not migrated."),
            },
        }
    }
    paths.update(_webhooks())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Place orders for a shop's customers, read its catalogue and look "
            "up an order's status. Errors are `application/problem+json`.",
        },
        "paths": paths,
        "components": {
            "schemas": definitions["$defs"],
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "One of INTAKE_API_TOKENS.",
                }
            },
            "parameters": {
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": True,
                    "description": "A new key per order; the same key when retrying that order.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
                }
            },
            "responses": {
                f"Problem{status}": {
                    "description": description,
                    "content": {MEDIA_TYPE: {"schema": _ref(ProblemDetails)}},
                }
                for status, description in PROBLEM_DESCRIPTIONS.items()
            },
        },
    }


def _webhooks() -> dict[str, Any]:
    signed = "Refused (403) without a valid signature; 503 while its key is not set."
    return {
        "/api/v1/webhooks/sendgrid": {
            "post": {
                "operationId": "sendgrid_events",
                "summary": "SendGrid Event Webhook (delivery receipts)",
                "description": signed,
                "security": [],
                "parameters": [
                    _header("X-Twilio-Email-Event-Webhook-Signature"),
                    _header("X-Twilio-Email-Event-Webhook-Timestamp"),
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"type": "array", "items": {"type": "object"}}
                        }
                    },
                },
                "responses": {
                    "200": _json(EventsReceived, "The batch was recorded."),
                    **_problems(400, 403, 413, 503),
                },
            }
        },
        "/api/v1/webhooks/twilio": {
            "post": {
                "operationId": "twilio_status",
                "summary": "Twilio status callback (SMS delivery receipts)",
                "description": signed,
                "security": [],
                "parameters": [_header("X-Twilio-Signature")],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": {"type": "string"},
                            }
                        }
                    },
                },
                "responses": {
                    "204": {"description": "The status was recorded."},
                    **_problems(400, 403, 413, 503),
                },
            }
        },
    }


def _header(name: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "schema": {"type": "string"}}


@endpoint
async def get_openapi(request: Request) -> Response:
    base = str(request.base_url).rstrip("/")
    return JSONResponse({**openapi_document(), "servers": [{"url": base}]})


ROUTES = [Route(PATH, get_openapi, methods=["GET"])]
