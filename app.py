"""Product Orders: `streamlit run app.py` serves the dashboard and its JSON routes."""

import streamlit as st
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = st.App("dashboard.py", routes=[Route("/healthz", healthz)])
