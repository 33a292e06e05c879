"""The dashboard's navigation script (served by app.py's st.App)."""

import streamlit as st

st.set_page_config(page_title="Product Orders", page_icon=":material/package_2:", layout="wide")

navigation = st.navigation(
    {
        "Bookings & Activity": [
            st.Page(
                "pages/orders.py", title="Orders", icon=":material/receipt_long:", default=True
            ),
            st.Page(
                "pages/notifications.py", title="Notifications", icon=":material/notifications:"
            ),
        ],
    }
)
navigation.run()
