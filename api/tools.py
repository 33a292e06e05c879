"""Tool (function) definitions for assistants, generated from the models the API validates with."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from domain.inputs import OrderIn, Strict
from services.intake import OrderLookupIn


class NoArguments(Strict):
    pass


@lru_cache(maxsize=1)
def tools_document() -> dict[str, Any]:
    return {
        "tools": [
            _tool(
                "list_products",
                "List the products for sale (SKU, name, category, price in cents, currency). "
                "Quote only these; prices are decided by the shop when the order is placed.",
                NoArguments,
                method="GET",
                path="/api/v1/products",
            ),
            _tool(
                "place_order",
                "Place an order for the customer once they have confirmed it. Items are SKUs "
                "and quantities; the shop prices them. The caller sends a fresh "
                "Idempotency-Key header per order and the same key when retrying it.",
                OrderIn,
                method="POST",
                path="/api/v1/orders",
                headers=["Authorization", "Idempotency-Key"],
            ),
            _tool(
                "get_order_status",
                "Look up an order's status and tracking for the customer. Needs the order "
                "number and the e-mail or phone the order was placed with.",
                OrderLookupIn,
                method="GET",
                path="/api/v1/orders/{number}",
                query=["email", "phone"],
            ),
        ]
    }


def _tool(
    name: str,
    description: str,
    model: type[BaseModel],
    *,
    method: str,
    path: str,
    headers: tuple[str, ...] | list[str] = ("Authorization",),
    query: list[str] | None = None,
) -> dict[str, Any]:
    http: dict[str, Any] = {"method": method, "path": path, "headers": list(headers)}
    if query:
        http["query"] = query
    return {
        "name": name,
        "description": description,
        "input_schema": inline_refs(model.model_json_schema()),
        "http": http,
    }


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with its `$defs` written in place: some assistants' tool APIs skip $ref."""
    definitions = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, list):
            return [resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = definitions[node["$ref"].rsplit("/", 1)[-1]]
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return resolve({**target, **rest})
        return {k: resolve(v) for k, v in node.items() if k != "$defs"}

    return dict(resolve(schema))
