"""Product Orders: `streamlit run app.py` serves the dashboard and its JSON routes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import streamlit as st
from starlette.middleware import Middleware

from api import app as api_app
from api import exports
from api.sign_in_return import SignInReturn
from ui import resources


@asynccontextmanager
async def lifespan(_app: st.App) -> AsyncIterator[None]:
    """Notifications go out while the server runs (after each commit, and by a dispatcher),
    and the MCP server's session manager runs beside the routes."""
    async with api_app.serving():
        yield


app = st.App(
    "dashboard/main.py",
    # The same routes `python -m api` serves (api/app.py), and the export downloads, which
    # only the process whose page wrote the file can answer.
    routes=[*exports.ROUTES, *api_app.ROUTES],
    # After an OpenID sign-in, back to the page that asked for it (the dashboard's alone).
    middleware=[*api_app.MIDDLEWARE, Middleware(SignInReturn)],
    lifespan=lifespan,
    on_script_error=resources.on_script_error,
)
