"""The dashboard's navigation script, served by app.py's st.App.

It lives in its own folder on purpose: Streamlit treats a `pages/` folder beside the entry
script as an old-style multipage app, and a first visit straight to /products after a
restart would then run that page alone — without this navigation, layout or sign-in.
"""

import streamlit as st

from ui.auth import account_bar, require_staff, signed_in
from ui.flash import shown_once_complete
from ui.resources import database_trouble_page
from ui.setup_notice import setup_notice

# The sidebar starts at 240 px, not Streamlit's 300: wide enough for "Catalogue & Customers",
# and the 60 px it gives back let the Orders table show all its columns on a 1,280 px laptop.
# The tab's icon is an emoji: Streamlit draws it as an inline SVG, where a ":material/…:"
# icon would be fetched from fonts.gstatic.com — not there on a shop's offline install.
st.set_page_config(
    page_title="Product Orders",
    page_icon="📦",
    layout="wide",
    initial_sidebar_state=240,
)

settings_page = st.Page("../pages/settings.py", title="Settings", icon=":material/settings:")
# The navigation is declared on every run, sign-in screen included, so that a visit straight
# to /products still lands on Products once signed in; it stays hidden until then, and no
# page runs before require_staff() lets someone in.
navigation = st.navigation(
    {
        "Bookings & Activity": [
            st.Page(
                "../pages/orders.py", title="Orders", icon=":material/receipt_long:", default=True
            ),
            st.Page(
                "../pages/notifications.py", title="Notifications", icon=":material/notifications:"
            ),
        ],
        "Catalogue & Customers": [
            st.Page("../pages/products.py", title="Products", icon=":material/inventory_2:"),
            st.Page("../pages/customers.py", title="Customers", icon=":material/group:"),
        ],
        "Insights & Setup": [
            st.Page("../pages/reports.py", title="Reports", icon=":material/monitoring:"),
            settings_page,
        ],
    },
    position="sidebar" if signed_in() else "hidden",
)
# Streamlit leaves 6rem above the page; the toolbar needs 3.75rem of it. The rest is given to
# the Orders table: at 1440 × 900 its first ten rows fit the first screen with room to spare.
st.html("<style>[data-testid='stMainBlockContainer'] { padding-top: 3.75rem; }</style>")
require_staff()  # no page, no data until someone is signed in
setup_notice(account_bar(), settings_page)  # one line, only when something is not set up
with shown_once_complete(), database_trouble_page():
    navigation.run()
