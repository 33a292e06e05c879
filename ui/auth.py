"""Who is using the dashboard: the actor recorded on every event they cause."""

from __future__ import annotations

import streamlit as st

LOCAL_ACTOR = "staff (local mode)"


def current_actor() -> str:
    return st.session_state.get("auth.actor", LOCAL_ACTOR)
