"""Orders: what needs review, what is in flight, and everything else."""

import streamlit as st

from services.queries import Tab, tab_counts
from ui.resources import database

db = database()
counts = tab_counts(db)

st.title("Orders")
pending, current, everything = st.tabs(
    [
        f"Pending Orders ({counts[Tab.PENDING]:,})",
        f"Current Orders ({counts[Tab.CURRENT]:,})",
        f"All Orders ({counts[Tab.ALL]:,})",
    ]
)
with everything:
    if counts[Tab.ALL] == 0:
        st.info("No orders yet. Run `python -m db.seed --orders 50` to load sample data.")
