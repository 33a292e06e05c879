"""Customer notifications: the outbox a change writes to, and the machinery that delivers it.

Services use only what this module exports; dispatch, delivery, receipts and the providers
are the machinery behind it, wired by `bootstrap`.
"""

from notify.outbox import (
    CHANNEL_NAMES,
    OrderFacts,
    choose_channel,
    enqueue,
    facts_of,
    label,
    note_on_order,
    status_url,
)
from notify.preview import render_for

__all__ = [
    "CHANNEL_NAMES",
    "OrderFacts",
    "choose_channel",
    "enqueue",
    "facts_of",
    "label",
    "note_on_order",
    "render_for",
    "status_url",
]
