"""Product Orders: `streamlit run app.py` serves the dashboard and its JSON routes."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import streamlit as st
from sqlalchemy.exc import DBAPIError
from starlette.middleware import Middleware
from starlette.routing import Route

import bootstrap
from api import exports, health, intake, problems, status_page, webhooks
from api.framing import NoFraming
from db.migrate import SchemaOutOfDate
from notify.delivery import BackgroundDelivery
from ui import resources


def show_app_log() -> None:
    # Delivery runs in the background: its log lines are how an operator sees it work.
    logger = logging.getLogger("product_orders")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


@asynccontextmanager
async def lifespan(_app: st.App) -> AsyncIterator[None]:
    """Notifications go out while the server runs: after each commit, and by a dispatcher."""
    show_app_log()
    delivery = await asyncio.to_thread(start_delivery)
    try:
        yield
    finally:
        if delivery is not None:
            await asyncio.to_thread(delivery.stop)


def start_delivery() -> BackgroundDelivery | None:
    # Migrating the embedded SQLite here, before the first page, means no page load races
    # the dispatcher's first query. A database that is down or behind its migrations is
    # the pages' to explain; notifications wait for the next start.
    try:
        return bootstrap.background_delivery(bootstrap.database()).start()
    except (SchemaOutOfDate, DBAPIError) as exc:
        logging.getLogger("product_orders").warning("notifications wait for the database: %s", exc)
        return None


app = st.App(
    "dashboard/main.py",
    routes=[
        Route("/healthz", health.healthz),
        *intake.ROUTES,
        *webhooks.ROUTES,
        *exports.ROUTES,
        *status_page.ROUTES,
        *problems.NOT_FOUND_ROUTES,  # after every /api/v1/ route
    ],
    middleware=[Middleware(NoFraming)],
    lifespan=lifespan,
    on_script_error=resources.on_script_error,
)
