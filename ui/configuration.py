"""The Settings page's "What is configured": sign-in, database, channels, API, links."""

from __future__ import annotations

import streamlit as st

from bootstrap import NEEDS, configuration_status
from db.database import Database
from ui.auth import Mode, sign_in_mode
from ui.display import plural


def show_configuration(db: Database) -> None:
    """What this deployment has configured, read-only: presence, never secret values."""
    status = configuration_status(db)
    st.subheader("What is configured")
    st.caption(
        "Read-only. Set these as environment variables or in `.streamlit/secrets.toml` "
        "(see `.streamlit/secrets.toml.example`); secret values are never shown."
    )
    with st.container(border=True):
        sign_in_status(sign_in_mode())
        st.divider()
        database_status(status.database_kind, status.database)
        st.divider()
        channel_status("E-mail", status.email_live, *NEEDS["email"][1:])
        st.divider()
        channel_status("SMS", status.sms_live, *NEEDS["sms"][1:])
        st.divider()
        intake_status(status.intake_tokens)
        st.divider()
        status_links_status(status.status_links, status.status_links_problem)


def database_status(kind: str, where: str) -> None:
    name = "SQLite" if kind == "sqlite" else "PostgreSQL"
    st.markdown(f"**Database** &nbsp; :blue-badge[{name}]")
    st.code(where, language=None, wrap_lines=True)
    if kind == "sqlite":
        st.warning(
            "On Streamlit Community Cloud the app's disk does not survive a reboot or a "
            "redeploy, so orders kept in this SQLite file would be lost there. Use a hosted "
            "PostgreSQL (set `DATABASE_URL` or `[connections.orders] url`).",
            icon=":material/warning:",
        )


SIGN_IN = {Mode.OIDC: "OpenID Connect", Mode.PASSWORD: "Shared password"}


def sign_in_status(mode: Mode) -> None:
    if mode is not Mode.LOCAL:
        st.markdown(f"**Sign-in** &nbsp; :green-badge[:material/check: {SIGN_IN[mode]}]")
        return
    st.markdown("**Sign-in** &nbsp; :orange-badge[:material/lock_open: Open local mode]")
    st.caption(
        "Anyone who can open this address can see and change orders. Before sharing it, set "
        "`DASHBOARD_PASSWORD`, or configure `[auth]` sign-in with `[access] staff`."
    )


def channel_status(channel: str, live: bool, provider: str, needs: str) -> None:
    if live:
        st.markdown(f"**{channel}** &nbsp; :green-badge[:material/check: {provider}]")
        st.caption(f"Messages are sent through {provider}.")
    else:
        st.markdown(f"**{channel}** &nbsp; :orange-badge[:material/science: Dry-run]")
        st.caption(
            f"Messages are recorded on each order but not sent. "
            f"To send through {provider}, set {needs}."
        )


def intake_status(tokens: int) -> None:
    if tokens:
        st.markdown(f"**Order intake API** &nbsp; :green-badge[{plural(tokens, 'token')}]")
        st.caption("The AI assistant can place orders with any of these tokens.")
    else:
        st.markdown("**Order intake API** &nbsp; :orange-badge[No tokens]")
        st.caption(
            'The AI assistant cannot place orders yet. Add `[intake] tokens = ["…"]` to the '
            "secrets, or set `INTAKE_API_TOKENS`."
        )


def status_links_status(base: str | None, problem: str | None) -> None:
    if base and not problem:
        st.markdown("**Order status links** &nbsp; :green-badge[:material/link: On]")
        st.caption(
            f"Every e-mail and SMS links to the customer's order page at `{base}/o/…`. "
            "Changing `ORDER_LINK_SECRET` turns every link already sent into “not found”."
        )
    else:
        st.markdown("**Order status links** &nbsp; :orange-badge[Off]")
        st.caption(
            f"Messages carry no link to the customer's order page: {problem}. Set "
            "`PUBLIC_BASE_URL` to the address customers reach this server at (e.g. "
            "`https://orders.your-shop.example`) and `ORDER_LINK_SECRET` to a long random "
            "string — as environment variables, or `public_base_url` and "
            "`order_link_secret` under `[app]` in the secrets — then restart the app."
        )
