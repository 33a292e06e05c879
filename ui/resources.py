"""Process-wide resources for the dashboard, created once with st.cache_resource."""

from __future__ import annotations

import logging

import streamlit as st
from sqlalchemy.exc import DBAPIError

import config
from db.database import Database
from db.migrate import SchemaOutOfDate, ensure_schema

log = logging.getLogger("product_orders")


@st.cache_resource(show_spinner=False)
def _database(url: str) -> Database:
    db = Database(url)
    ensure_schema(db)
    return db


def database() -> Database:
    """The shared database, or a clear page that says what to check (and a stop)."""
    url = config.database_url()
    try:
        return _database(url)
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


def _stop(title: str, body: str) -> None:
    st.error(f"### {title}\n\n{body}", icon=":material/error:")
    st.stop()
