"""Messages that must survive a rerun: set in a callback, shown as toasts on the next run."""

from __future__ import annotations

from typing import Literal

import streamlit as st

Kind = Literal["success", "warning", "error", "info"]
ICONS = {
    "success": ":material/check_circle:",
    "warning": ":material/warning:",
    "error": ":material/error:",
    "info": ":material/info:",
}
KEY = "flash.messages"


def flash(message: str, kind: Kind = "success") -> None:
    st.session_state.setdefault(KEY, []).append((kind, message))


def show_flashes() -> None:
    for kind, message in st.session_state.pop(KEY, []):
        st.toast(message, icon=ICONS[kind])
        if kind in ("warning", "error"):
            # A toast fades; a refused change also stays on the page until the next action.
            st.session_state["flash.banner"] = (kind, message)
    banner = st.session_state.pop("flash.banner", None)
    if banner:
        (st.warning if banner[0] == "warning" else st.error)(banner[1])
