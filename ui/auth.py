"""Who may use the dashboard, and who they are: the actor recorded on every event they cause.

The mode follows the secrets, first match wins:

1. `[auth]` configured → OpenID Connect through `st.login`; only the e-mails listed in
   `[access] staff` get in, everyone else sees "not authorised".
2. `DASHBOARD_PASSWORD` (environment or secrets) → one shared password, plus the person's
   name, which becomes the actor on their changes.
3. Neither → open local mode, with a banner saying so.

`require_staff()` runs before anything reads data: at the top of dashboard/main.py and of
every page, because a page can also run on its own (AppTest, an old-style URL). Until
someone is signed in it draws the sign-in screen and stops the run.

Secrets are read through `st.secrets`, so `st.App(secrets=...)` and AppTest's secrets count
the same as `.streamlit/secrets.toml`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from ui.format import literal

log = logging.getLogger("product_orders")

LOCAL_ACTOR = "staff (local mode)"
ACTOR = "auth.actor"
MODE = "auth.mode"
PASSWORD_MARK = "auth.password_mark"
PASSWORD_ERROR = "auth.password_error"
PASSWORD_VARIABLE = "DASHBOARD_PASSWORD"
WRONG_PASSWORD_DELAY = 1.0  # seconds: slows guessing without bothering a person
NAME_LIMIT = 100
RESERVED_ACTORS = {"assistant", "system"}  # the API's and the dispatcher's own names


class Mode(StrEnum):
    OIDC = "oidc"
    PASSWORD = "password"
    LOCAL = "local"


def current_actor() -> str:
    return st.session_state.get(ACTOR, LOCAL_ACTOR)


def sign_in_mode() -> Mode:
    if _secret("auth"):
        return Mode.OIDC
    if _dashboard_password():
        return Mode.PASSWORD
    return Mode.LOCAL


def signed_in() -> bool:
    """Whether require_staff() would let this session in now; draws nothing."""
    mode = sign_in_mode()
    if mode is Mode.OIDC:
        email = str(st.user.get("email") or "").strip().lower()
        return bool(st.user.get("is_logged_in")) and _staff_member(email)
    if mode is Mode.PASSWORD:
        return st.session_state.get(PASSWORD_MARK) == _mark(_dashboard_password())
    return True


def require_staff() -> str:
    """The signed-in person's name for events; otherwise draw the sign-in screen and stop."""
    mode = sign_in_mode()
    if mode is Mode.OIDC:
        actor = _oidc_staff()
    elif mode is Mode.PASSWORD:
        actor = _password_staff(_dashboard_password())
    else:
        actor = LOCAL_ACTOR
    st.session_state[ACTOR] = actor
    st.session_state[MODE] = mode.value
    return actor


def account_bar() -> None:
    """Who is signed in and a way out (sidebar), or the open-mode banner. Once per run."""
    mode = Mode(st.session_state.get(MODE, Mode.LOCAL))
    if mode is Mode.LOCAL:
        st.warning(
            "**Open local mode** — anyone who can open this address can see and change "
            "orders. Set `DASHBOARD_PASSWORD` or configure `[auth]` sign-in before sharing it.",
            icon=":material/lock_open:",
        )
        return
    with st.sidebar:
        st.caption(f"Signed in as {literal(current_actor())}")
        st.button("Sign out", key="auth.sign_out", icon=":material/logout:", on_click=_sign_out)


def _sign_out() -> None:
    if st.session_state.get(MODE) == Mode.OIDC:
        st.logout()
        return
    for key in list(st.session_state.keys()):
        del st.session_state[key]


# ---- OpenID Connect ----


def _oidc_staff() -> str:
    if not st.user.get("is_logged_in"):
        _login_screen()
        st.stop()
    email = str(st.user.get("email") or "").strip()
    if not _staff_member(email.lower()):
        log.warning("sign-in refused: not on the staff list")
        _not_authorised(email)
        st.stop()
    return email


def _staff_member(email: str) -> bool:
    # A provider that says it has not verified the address does not get to vouch for it.
    verified = st.user.get("email_verified") is not False
    return bool(email) and verified and email in staff_emails()


def staff_emails() -> set[str]:
    listed = (_secret("access") or {}).get("staff") or []
    if isinstance(listed, str):
        listed = listed.split(",")
    return {str(email).strip().lower() for email in listed if str(email).strip()}


def _providers() -> list[str | None]:
    """None for the default provider (`[auth]` itself), else each `[auth.<name>]`."""
    auth = _secret("auth") or {}
    named = [name for name, value in auth.items() if isinstance(value, Mapping)]
    return ([None] if "client_id" in auth or not named else []) + named


def _login_screen() -> None:
    with _centred():
        st.title("Product Orders", anchor=False)
        st.write("Sign in with your work account to see and manage orders.")
        for provider in _providers():
            label = "Sign in" if provider is None else f"Sign in with {provider.title()}"
            if st.button(
                label, key=f"auth.login.{provider or 'default'}", type="primary", width="stretch"
            ):
                st.login(provider)


def _not_authorised(email: str) -> None:
    with _centred():
        st.title("Product Orders", anchor=False)
        who = f"**{literal(email)}**" if email else "This account"
        st.error(f"{who} is not authorised to use this dashboard.", icon=":material/block:")
        st.caption(
            "Ask the owner to add your e-mail address to the staff list (`[access] staff` "
            "in the app's secrets), or sign in with another account."
        )
        st.button("Sign out", key="auth.refused.sign_out", on_click=st.logout)


# ---- shared password ----


def _password_staff(password: str) -> str:
    # The mark ties the sign-in to this password: change the password and everyone signs in again.
    mark = _mark(password)
    if st.session_state.get(PASSWORD_MARK) == mark and st.session_state.get(ACTOR):
        return st.session_state[ACTOR]
    _password_screen(password)
    st.stop()


def _password_screen(password: str) -> None:
    with _centred():
        st.title("Product Orders", anchor=False)
        with st.form("auth.password_form"):
            st.text_input(
                "Your name",
                key="auth.name",
                max_chars=NAME_LIMIT,
                help="Recorded on every change you make.",
            )
            st.text_input("Password", key="auth.password", type="password")
            st.form_submit_button(
                "Sign in", type="primary", on_click=_check_password, args=(password,)
            )
        error = st.session_state.pop(PASSWORD_ERROR, None)
        if error:
            st.error(error, icon=":material/error:")


def _check_password(password: str) -> None:
    given = str(st.session_state.get("auth.password") or "")
    st.session_state["auth.password"] = ""
    if not _same(given, password):
        log.warning("sign-in refused: wrong dashboard password")
        time.sleep(WRONG_PASSWORD_DELAY)
        st.session_state[PASSWORD_ERROR] = "That password is not right. Please try again."
        return
    name = " ".join(str(st.session_state.get("auth.name") or "").split())
    problem = name_problem(name)
    if problem:
        st.session_state[PASSWORD_ERROR] = problem
        return
    st.session_state[ACTOR] = name
    st.session_state[PASSWORD_MARK] = _mark(password)


def name_problem(name: str) -> str | None:
    if not name:
        return "Please give your name: it is recorded on every change you make."
    if len(name) > NAME_LIMIT:
        return f"Please keep your name to {NAME_LIMIT} characters."
    if not name.isprintable():
        return "Your name may contain only printable characters."
    if name.lower() in RESERVED_ACTORS:
        return f"“{name}” is reserved for the system; please use your own name."
    return None


def _same(given: str, expected: str) -> bool:
    # Digests first, so the comparison takes the same time whatever the lengths.
    return hmac.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )


def _mark(password: str) -> str:
    return hmac.new(password.encode(), b"product-orders sign-in", hashlib.sha256).hexdigest()


# ---- where the settings come from ----


def _dashboard_password() -> str:
    """The environment, then `[access] DASHBOARD_PASSWORD`, then a top-level entry."""
    access = _secret("access") or {}
    value = (
        os.environ.get(PASSWORD_VARIABLE)
        or access.get(PASSWORD_VARIABLE)
        or _secret(PASSWORD_VARIABLE)
    )
    return str(value) if value else ""


def _secret(name: str) -> Any:
    try:
        return st.secrets.get(name)
    except (FileNotFoundError, StreamlitAPIException):
        return None  # no secrets file at all: nothing configured


def _centred() -> Any:
    return st.columns([1, 2, 1])[1]
