"""The dashboard's database, from the composition root.

And what the dashboard shows when its database goes away: a page that says what to check,
never a traceback. At start-up `database()` shows it; mid-session, dashboard/main.py wraps
each page in `database_trouble_page()`, write callbacks catch `OUTAGE` themselves, and
app.py's `on_script_error` catches whatever else escapes under the real server.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

import bootstrap
import config
from db.database import Database
from db.migrate import SchemaOutOfDate
from ui import flash

log = logging.getLogger("product_orders")


def database() -> Database:
    """The process's database, or a clear page that says what to check (and a stop)."""
    url = config.database_url()
    try:
        return bootstrap.database(url)
    except SchemaOutOfDate as exc:
        _stop("The database needs migrating", str(exc))
    except DBAPIError as exc:
        log.warning("database unreachable: %s", exc.__class__.__name__)
        where = Database.describe_url(url)
        _stop(
            "Can't reach the database",
            f"Product Orders could not connect to **{where}**. Check that the server is "
            "running and that `DATABASE_URL` (or `[connections.orders] url` in "
            "`.streamlit/secrets.toml`) is right, then reload this page.",
        )
    raise AssertionError("unreachable")


# A lost or refused connection; IntegrityError and friends are bugs, not outages.
OUTAGE = (OperationalError, InterfaceError)
NOT_SAVED = (
    "Lost the connection to the database, so this change was not saved. Everything saved "
    "before is safe. Try again once the database is back."
)


def is_outage(exc: BaseException) -> bool:
    return isinstance(exc, OUTAGE) or (
        isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)
    )


def show_database_trouble(exc: BaseException) -> None:
    log.warning("database unavailable mid-session: %s", exc.__class__.__name__)
    where = Database.describe_url(config.database_url())
    st.error(
        "### Lost the connection to the database\n\n"
        f"Product Orders could not reach **{where}** just now. Check that the database "
        "server is running and reachable from this app (a hosted database may be paused, "
        "restarting or out of connections) and that `DATABASE_URL` is right.\n\n"
        "Everything saved before is safe. A change made at the moment the connection "
        "dropped was not saved: check the order before doing it again.",
        icon=":material/cloud_off:",
    )
    st.button("Try again", key="resources.retry", icon=":material/refresh:")


@contextmanager
def database_trouble_page() -> Iterator[None]:
    """Run a page; if the database goes away meanwhile, end it with the trouble page."""
    try:
        yield
    except DBAPIError as exc:
        if not is_outage(exc):
            raise
        show_database_trouble(exc)
        flash.stop()  # the page may have shown a confirmation before the outage


def on_script_error(exc: Exception) -> bool | None:
    """st.App's hook for errors that escaped a page (e.g. in a widget callback)."""
    if not is_outage(exc):
        return None  # Streamlit's own error display
    show_database_trouble(exc)
    return True


def _stop(title: str, body: str) -> None:
    st.error(f"### {title}\n\n{body}", icon=":material/error:")
    st.stop()
