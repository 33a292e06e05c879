"""The JSON API as a Starlette app of its own: `python -m api`, or uvicorn with a factory.

    uvicorn api.app:build_app --factory --host 127.0.0.1 --port 8000 --workers 2

`ROUTES` is the one list of the API's routes: this app serves it, and `app.py`'s `st.App`
serves the same list beside the dashboard (plus the export downloads, which only the
dashboard's process can answer). `delivery()` is the notification delivery both run while
they serve: after-commit sending and the dispatcher loop (bootstrap.background_delivery).
Several processes may run it against one PostgreSQL: the dispatcher claims rows with a
lease, so each notification is sent once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

import bootstrap
from api import health, intake, mcp, openapi, problems, status_page, webhooks
from api.framing import NoFraming
from db.migrate import SchemaOutOfDate
from notify.delivery import BackgroundDelivery

log = logging.getLogger("product_orders")

ROUTES: list[BaseRoute] = [
    Route("/healthz", health.healthz),
    *intake.ROUTES,
    *openapi.ROUTES,
    *webhooks.ROUTES,
    *mcp.ROUTES,
    *status_page.ROUTES,  # the customer's order page, /o/{token}
    *problems.NOT_FOUND_ROUTES,  # after every /api/v1/ route
]

MIDDLEWARE = [Middleware(NoFraming)]


def show_app_log() -> None:
    # Delivery runs in the background: its log lines are how an operator sees it work.
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def start_delivery() -> BackgroundDelivery | None:
    # Migrating the embedded SQLite here, before the first request, means no request races
    # the dispatcher's first query. A database that is down or behind its migrations is
    # the routes' (and the pages') to explain; notifications wait for the next start.
    try:
        return bootstrap.background_delivery(bootstrap.database()).start()
    except (SchemaOutOfDate, DBAPIError) as exc:
        log.warning("notifications wait for the database: %s", exc)
        return None


@asynccontextmanager
async def delivery() -> AsyncIterator[None]:
    """Notifications go out while the server runs: after each commit, and by a dispatcher."""
    show_app_log()
    running = await asyncio.to_thread(start_delivery)
    try:
        yield
    finally:
        if running is not None:
            await asyncio.to_thread(running.stop)


@asynccontextmanager
async def serving(*, dispatcher: bool = True) -> AsyncIterator[None]:
    """What runs beside the routes: the MCP session manager, and (unless another process
    does it) the notification delivery."""
    if not dispatcher:
        show_app_log()
    async with delivery() if dispatcher else _nothing(), mcp.serving():
        yield


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


def build_app(*, dispatcher: bool = True) -> Starlette:
    """The API without the dashboard; with `dispatcher`, it delivers notifications too."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with serving(dispatcher=dispatcher):
            yield

    return Starlette(routes=ROUTES, middleware=MIDDLEWARE, lifespan=lifespan)


def build_app_without_dispatcher() -> Starlette:
    """For uvicorn's --factory when another process delivers the notifications."""
    return build_app(dispatcher=False)
