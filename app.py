"""Product Orders: `streamlit run app.py` serves the dashboard and its JSON routes."""

import streamlit as st
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from streamlit.runtime.pages_manager import PagesManager

# Streamlit takes a `pages/` folder beside the entry point for an old-style multipage app
# until some session has called st.navigation: after a restart, a first visit straight to
# /products would run pages/products.py on its own — without dashboard.py's layout,
# navigation or sign-in. Our pages are the ones dashboard.py lists, always.
PagesManager.uses_pages_directory = False


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = st.App("dashboard.py", routes=[Route("/healthz", healthz)])
