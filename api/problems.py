"""Errors as RFC 9457 problem documents (`application/problem+json`)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.nodelay import no_delay
from db.migrate import SchemaOutOfDate
from domain.inputs import FieldError, InvalidInput
from domain.order import OrderError
from services.intake import KeyInFlight, KeyReused

log = logging.getLogger("product_orders.api")

Handler = Callable[[Request], Awaitable[Response]]

MEDIA_TYPE = "application/problem+json"
# Identifiers, not links: clients compare them; the README lists them.
TYPE_BASE = "https://product-orders.example/problems/"


class Problem(Exception):
    """An error to answer with; raise it anywhere in a handler wrapped by `api.endpoint`."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}

    def document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "type": TYPE_BASE + self.kind,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors is not None:
            document["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        return document

    def response(self) -> JSONResponse:
        return JSONResponse(
            self.document(), status_code=self.status, headers=self.headers, media_type=MEDIA_TYPE
        )


def invalid(errors: list[FieldError]) -> Problem:
    return Problem(
        422,
        "validation-error",
        "The request is not valid",
        "Correct the fields listed in `errors` and send the request again.",
        errors=errors,
    )


def endpoint(handler: Handler) -> Handler:
    """Answer every failure of `handler` with a problem document, never a traceback."""

    @functools.wraps(handler)
    async def answer(request: Request) -> Response:
        no_delay(request)
        try:
            return await handler(request)
        except Problem as problem:
            return problem.response()
        except Exception as exc:
            return problem_for(exc).response()

    return answer


@endpoint
async def not_found(request: Request) -> Response:
    """Any /api/v1/ path no route claims: a problem, not the dashboard's HTML page."""
    raise Problem(
        404,
        "not-found",
        "Not found",
        f"There is no {request.method} {request.url.path}; GET /api/v1/tools.json lists the API.",
    )


def problem_for(exc: Exception) -> Problem:
    if isinstance(exc, InvalidInput):
        return invalid(exc.errors)
    if isinstance(exc, KeyInFlight):
        return Problem(
            409,
            "request-in-progress",
            "Request in progress",
            str(exc),
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, KeyReused):
        return Problem(422, "idempotency-key-reused", "Idempotency-Key reused", str(exc))
    if isinstance(exc, OrderError):
        return Problem(422, "order-rejected", "The order was not accepted", str(exc))
    if isinstance(exc, SchemaOutOfDate | OperationalError | InterfaceError):
        log.warning("order API: database unavailable (%s)", exc.__class__.__name__)
        return Problem(
            503,
            "database-unavailable",
            "Database unavailable",
            "The order database cannot be reached right now; retry later.",
            headers={"Retry-After": "5"},
        )
    log.exception("order API: unexpected error")
    return Problem(500, "internal-error", "Internal error", "Something went wrong; retry later.")


# Last among the API's routes: everything under /api/v1/ that no other route answered.
NOT_FOUND_ROUTES = [
    Route(
        "/api/v1/{rest:path}",
        not_found,
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    )
]
