"""The assistant's order-intake API: place orders, read the catalogue, look up an order.

Handlers parse HTTP, call one service in a worker thread (the database calls block), and
answer JSON; every failure becomes a problem document (api.problems).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TypeVar

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import bootstrap
from api.auth import authenticate
from api.problems import Problem, endpoint
from api.tools import tools_document
from services import intake

MAX_BODY_BYTES = 64 * 1024
T = TypeVar("T")


async def in_worker(service: Callable[..., T], **arguments: Any) -> T:
    """Run a blocking service on the routes' database, off the event loop."""

    def call() -> T:
        return service(bootstrap.database(), **arguments)

    return await run_in_threadpool(call)


@endpoint
async def post_order(request: Request) -> Response:
    scope = authenticate(request)
    key = _idempotency_key(request)
    payload = _json(await _body(request))
    placed = await in_worker(intake.place_order, scope=scope, key=key, payload=payload)
    headers = {"Location": f"/api/v1/orders/{placed.number}"}
    if placed.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(
        placed.body, status_code=placed.status, headers=headers, media_type="application/json"
    )


@endpoint
async def get_products(request: Request) -> Response:
    authenticate(request)
    entries = await in_worker(intake.active_catalogue)
    return JSONResponse({"products": [asdict(entry) for entry in entries]})


class LookupLimits:
    """How often order status may be asked for: order numbers are sequential, so guessing
    a customer's e-mail or phone, or walking the numbers, must be slow.

    Per client token, LOOKUPS_PER_MINUTE lookups of any order; per order number, whoever
    asks, WRONG_CONTACTS_PER_HOUR lookups that matched no order — after that every lookup
    of that number is refused until the hour's window moves on, the right contact's too
    (answering it would tell a guesser which guess was right). Moving windows, in memory:
    the counts are per server process, and start again when it restarts.
    """

    def __init__(self, *, per_minute: int = 60, wrong_per_hour: int = 10) -> None:
        self.per_client: RateLimitItem = RateLimitItemPerMinute(per_minute)
        self.wrong_contact: RateLimitItem = RateLimitItemPerHour(wrong_per_hour)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def admit(self, scope: str, number: str) -> None:
        """Count one lookup by `scope`; a 429 problem when it or `number` is over its limit."""
        if not self.limiter.hit(self.per_client, "lookup-client", scope):
            raise self._too_many(self.per_client, ("lookup-client", scope), "this API token")
        if not self.limiter.test(self.wrong_contact, "lookup-wrong", number):
            raise self._too_many(self.wrong_contact, ("lookup-wrong", number), "this order")

    def missed(self, number: str) -> None:
        """A lookup of `number` that matched no order (wrong contact, or no such order)."""
        self.limiter.hit(self.wrong_contact, "lookup-wrong", number)

    def reset(self) -> None:
        self.limiter.storage.reset()

    def _too_many(self, item: RateLimitItem, keys: tuple[str, str], whose: str) -> Problem:
        reset_at, _ = self.limiter.get_window_stats(item, *keys)
        wait = max(1, math.ceil(reset_at - time.time()))
        return Problem(
            429,
            "too-many-lookups",
            "Too many order lookups",
            f"Too many order status lookups for {whose} "
            f"(at most {item.amount} per {item.GRANULARITY.name}); retry in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )


# Built once, when the routes are first imported; shared by every request of this process.
LOOKUP_LIMITS = LookupLimits()


@endpoint
async def get_order(request: Request) -> Response:
    scope = authenticate(request)
    number = request.path_params["number"].strip().upper()
    LOOKUP_LIMITS.admit(scope, number)
    lookup = {**request.query_params, "number": request.path_params["number"]}
    found = await in_worker(intake.order_status, lookup=lookup)
    if found is None:
        LOOKUP_LIMITS.missed(number)
        # The same answer whether the order is missing or the contact is wrong.
        raise Problem(
            404,
            "order-not-found",
            "Order not found",
            "No order with that number for that e-mail or phone.",
        )
    view = asdict(found)
    view["updated_at"] = found.updated_at.isoformat()
    return JSONResponse(view)


@endpoint
async def get_tools(_request: Request) -> Response:
    return JSONResponse(tools_document())


def _idempotency_key(request: Request) -> str:
    key = request.headers.get("idempotency-key")
    if key is None or not 1 <= len(key) <= intake.MAX_KEY_LENGTH:
        raise Problem(
            400,
            "idempotency-key-required",
            "Idempotency-Key required",
            "Send an Idempotency-Key header of 1 to 255 characters: a new one per order, "
            "the same one when retrying that order.",
        )
    return key


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:  # a missing or understated Content-Length
            raise _too_large()
    return bytes(body)


def _too_large() -> Problem:
    return Problem(
        413,
        "body-too-large",
        "Request body too large",
        f"The body may be at most {MAX_BODY_BYTES // 1024} KiB.",
    )


def _json(body: bytes) -> Any:
    try:
        return json.loads(body, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise Problem(
            400,
            "malformed-json",
            "The body is not JSON",
            f"The body must be a JSON object ({exc}).",
        ) from None


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


ROUTES = [
    Route("/api/v1/orders", post_order, methods=["POST"]),
    Route("/api/v1/orders/{number}", get_order, methods=["GET"]),
    Route("/api/v1/products", get_products, methods=["GET"]),
    Route("/api/v1/tools.json", get_tools, methods=["GET"]),
]
