"""Notifications: every message to customers, what is stuck, resending, and a preview."""

from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

import bootstrap
from notify.preview import preview_message, template_labels
from queries import notifications as outbox
from queries.notifications import NotificationFilter, OutboxRow
from queries.orders import business_settings, list_orders
from services.notifications import CannotResend, resend_notification
from ui.auth import current_actor, require_staff
from ui.flash import flash, show_flashes
from ui.format import literal, table_time
from ui.resources import database

STATUSES = ["queued", "sending", "sent", "delivered", "bounced", "undelivered"]
STATUSES += ["failed", "dead", "uncertain", "undeliverable", "dry_run"]
CHANNELS = {"email": "E-mail", "sms": "SMS", outbox.NO_CHANNEL: "None (undeliverable)"}

require_staff()  # before anything reads data
db = database()
settings = business_settings(db)

st.title("Notifications")

for missing in bootstrap.dry_run_channels():
    channel = missing.label[0].upper() + missing.label[1:]
    st.warning(
        f"**{channel} notifications are not being delivered.** "
        f"{missing.provider} is not configured, so {missing.label} messages are only recorded "
        f"here (dry run) and no customer receives them. Set {missing.settings} in the "
        "environment or under `[notifications]` in `.streamlit/secrets.toml`.",
        icon=":material/warning:",
    )

show_flashes(banners=True)

counts = outbox.status_counts(db)
queued, failed, dead, uncertain, dry_run = st.columns(5)
queued.metric("Queued", f"{counts['queued'] + counts['sending']:,}")
failed.metric("Failed", f"{counts['failed']:,}")
dead.metric("Dead", f"{counts['dead']:,}")
uncertain.metric("Uncertain", f"{counts['uncertain']:,}")
dry_run.metric(
    "Not sent (dry run)",
    f"{counts['dry_run']:,}",
    help="Only recorded: the channel has no provider configured, so no customer got these.",
)


def table(rows: list[OutboxRow], zone: ZoneInfo) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "#": [r.id for r in rows],
            f"Created ({zone.key})": [table_time(r.created_at, zone) for r in rows],
            "Order": [r.order_number for r in rows],
            "Message": [r.message for r in rows],
            "Channel": [CHANNELS[r.channel or outbox.NO_CHANNEL] for r in rows],
            "To": [r.recipient for r in rows],
            "Status": [r.status_text for r in rows],
            "Attempts": [r.attempts for r in rows],
            "Last error": [r.last_error or "" for r in rows],
            "Resend of": [f"#{r.resend_of_id}" if r.resend_of_id else "" for r in rows],
        }
    )


status_col, channel_col, dates_col = st.columns(3)
statuses = status_col.multiselect(
    "Status", STATUSES, format_func=outbox.status_text, key="notifications.status"
)
channels = channel_col.multiselect(
    "Channel", list(CHANNELS), format_func=CHANNELS.__getitem__, key="notifications.channel"
)
dates = dates_col.date_input("Created between", value=(), key="notifications.dates")
date_from, date_to = (list(dates) + [None, None])[:2] if isinstance(dates, tuple) else (dates, None)
filters = NotificationFilter(tuple(statuses), tuple(channels), date_from, date_to or date_from)
found = outbox.list_notifications(db, filters=filters, zone=settings.zone)

if found.total == 0 and not any(counts.values()):
    st.info(
        "No notifications yet. Each status change of an order writes one here — confirm an "
        "order on the Orders page and its message appears."
    )
elif found.total == 0:
    st.info("No notifications match these filters. Clear a filter to see more.")
else:
    if found.total > len(found.rows):
        st.caption(f"The newest {len(found.rows):,} of {found.total:,} matching notifications.")
    st.dataframe(
        table(found.rows, settings.zone),
        hide_index=True,
        width="stretch",
        key="notifications.table",
    )

st.subheader("Resend")
stuck = outbox.resendable(db)
if not stuck:
    st.caption("Nothing to resend: no failed, dead or uncertain notifications.")
else:
    by_id = {row.id: row for row in stuck}
    picked = st.selectbox(
        "Failed, dead or uncertain",
        list(by_id),
        format_func=lambda i: (
            f"#{i} · {by_id[i].order_number} · {by_id[i].message} to "
            f"{by_id[i].recipient} — {by_id[i].status}"
        ),
        key="notifications.resend_pick",
    )
    if picked is not None and by_id[picked].last_error:
        st.caption(f"Last error: {literal(by_id[picked].last_error)}")
    if st.button("Resend", key="notifications.resend", type="primary"):
        try:
            again = resend_notification(db, notification_id=picked, actor=current_actor())
        except CannotResend as exc:
            st.error(str(exc))
        else:
            flash(
                f"Queued again as #{again.id}: {again.channel} to {literal(again.recipient)} "
                f"for {again.order_number}."
            )
            st.rerun()

st.subheader("Preview a message")
recent = list_orders(db, page_size=100, zone=settings.zone).rows
if not recent:
    st.caption("Previews use a real order: add one on the Orders page first.")
else:
    labels = template_labels()
    order_col, template_col = st.columns(2)
    numbers = {row.id: f"{row.number} · {row.customer_name}" for row in recent}
    order_id = order_col.selectbox(
        "Order", list(numbers), format_func=numbers.__getitem__, key="notifications.preview_order"
    )
    template = template_col.selectbox(
        "Message", list(labels), format_func=labels.__getitem__, key="notifications.preview_tpl"
    )
    shown = preview_message(db, order_id=order_id, template=template)
    email_tab, sms_tab = st.tabs(["E-mail", "SMS"])
    with email_tab:
        st.markdown(
            f"**To:** {literal(shown.recipient_email)}  \n"
            f"**Subject:** {literal(shown.message.subject)}"
        )
        st.html(shown.message.html)
        st.code(shown.message.text, language=None, wrap_lines=True)
    with sms_tab:
        st.markdown(f"**To:** {literal(shown.recipient_phone or 'no phone on this order')}")
        st.code(shown.message.sms, language=None, wrap_lines=True)
        st.caption(f"{len(shown.message.sms)} characters")
