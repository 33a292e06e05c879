"""The customer's order page: `GET /o/{token}`, plain HTML from one request.

The token is a signed order id (notify.links); a tampered, foreign or malformed token, a
missing order and a deployment without links all get the same plain 404 page, so a
guesser learns nothing. The page is server-rendered with Jinja2 (autoescaped: whatever
a customer or the assistant typed shows as text), has no JavaScript and no Streamlit,
and is never cached, indexed or leaked by a Referer. Lookups are limited per client
address (LOOKUPS_PER_MINUTE in a moving window, in this process's memory).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

import bootstrap
from domain.money import format_money
from queries.status_page import status_page

LOOKUPS_PER_MINUTE = 60
HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    # No script, no frames, nothing fetched: the page is its own inline style and text.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
}

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

_limiter = MovingWindowRateLimiter(MemoryStorage())
_lookups = RateLimitItemPerMinute(LOOKUPS_PER_MINUTE)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def order_page(request: Request) -> Response:
    if not _limiter.hit(_lookups, client_address(request)):
        return _page("too_many.html", 429, {"Retry-After": "60"})
    links = bootstrap.order_links()
    order_id = links.order_id_of(request.path_params["token"]) if links else None
    if order_id is None:
        return _page("not_found.html", 404)
    page = await run_in_threadpool(lambda: status_page(bootstrap.database(), order_id=order_id))
    if page is None:
        return _page("not_found.html", 404)
    return _page("order.html", 200, page=page)


def _page(
    name: str, status: int, headers: dict[str, str] | None = None, **context: object
) -> Response:
    html = TEMPLATES.get_template(name).render(money=_money, day=_day, **context)
    return HTMLResponse(html, status_code=status, headers={**HEADERS, **(headers or {})})


def _money(cents: int, currency: str) -> str:
    return format_money(cents, currency)


def _day(moment: datetime) -> str:
    # "3 May 2025, 14:05" — the business's own time, as the page says.
    return f"{moment.day} {moment:%b %Y, %H:%M}"


def reset_limits() -> None:
    """Forget every address's count (tests)."""
    _limiter.storage.reset()


ROUTES = [Route("/o/{token}", order_page, methods=["GET"])]
