"""One compact line, above every page, for what is not set up yet — or nothing at all.

Open local mode (no sign-in) and dry-run messages (no provider credentials) used to be a
banner each, which on the Orders page pushed the table half off a laptop's first screen.
They are one line now, with a link to the Settings page, which says what to configure.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

import bootstrap
from ui.auth import Mode

NOTICE_KEY = "setup_notice"


def missing_setup(mode: Mode) -> list[str]:
    """What is not set up, in a few words each (empty: everything is)."""
    missing = []
    if mode is Mode.LOCAL:
        missing.append("**Open local mode**: anyone with this address can change orders")
    dry_run = [channel.label for channel in bootstrap.dry_run_channels()]
    if dry_run:
        missing.append(f"**dry run**: {' and '.join(dry_run)} messages are recorded, not sent")
    return missing


def setup_notice(mode: Mode, settings_page: Any) -> None:
    """The line, with a link to the Settings page (a page of this app: the session stays)."""
    missing = missing_setup(mode)
    if not missing:
        return
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key=NOTICE_KEY):
        st.markdown(":orange[:material/warning:] " + " · ".join(missing) + ".", width="content")
        st.page_link(settings_page, label="What to configure", icon=":material/settings:")
