"""Browser floor: the least a Streamlit re-run costs a person — a button that re-runs a page
with a 50-row table. Copied from the team's shared tools (browser_floor/floor_app.py) so the
bench runs where they are not; `bench/clicks.py` serves it with `streamlit run`."""

import pandas as pd
import streamlit as st

st.set_page_config(layout="wide")
st.title("Orders")
n = st.session_state.setdefault("n", 0)
if st.button("Next page"):
    st.session_state["n"] = n = n + 1
df = pd.DataFrame(
    {
        "Order #": [f"ORD-{10000 + 50 * n + i}" for i in range(50)],
        "Customer": ["Ada Lovelace · ada@example.com"] * 50,
        "Items": ["2 · 1× Earl Grey, 1× Mug"] * 50,
        "Total": ["$24.76"] * 50,
        "Status": ["Pending"] * 50,
        "Payment": ["Pending"] * 50,
        "Date": ["2026-11-30 09:04"] * 50,
        "Actions": ["Confirm Order · Cancel Order"] * 50,
    }
)
st.dataframe(df, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row")
st.caption(f"{50 * n + 1}–{50 * n + 50}")
