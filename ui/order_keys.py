"""The session keys the Orders page, the opened order and the order form share.

Each is written in more than one module (the page opens an order from a deep link, the
details close it, the form opens the order it saved), so each is spelled only here.
"""

from __future__ import annotations

SELECTED = "orders.selected_id"  # the opened order's id, or None
DIALOG = "orders.dialog"  # ("add", None) or ("edit", order id) while the form is open
NEWEST_ID = "orders.newest_id"  # the newest order announced; newer ones get a toast

# Fragments of the Orders page, re-run by name (st.rerun(scope=[…])): after a change made in
# the opened order, the counts above the tabs and the table (with the parts of the order the
# change rewrote, ui.order_detail); after a click that opens an order, the opened order alone.
COUNTS_FRAGMENT = "orders.counts"
TABLE_FRAGMENT = "orders.table"
OPENED = "orders.opened"
