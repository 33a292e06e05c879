"""Product Orders: `streamlit run app.py` serves the dashboard and its JSON routes."""

import streamlit as st
from starlette.routing import Route

from api import health, intake

app = st.App("dashboard.py", routes=[Route("/healthz", health.healthz), *intake.ROUTES])
