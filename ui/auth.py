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

Password guesses are limited per client address across every session of the process
(`THROTTLE`): a browser opening many sessions gets no more guesses than one.

`st.logout` ends only the session it runs in: another tab of the same browser keeps its
`st.user` until it reconnects. So an OpenID sign-out is remembered per account for the
process (`SIGN_OUTS`), and a session of that account that began before it is signed out too.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import streamlit as st
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from streamlit.errors import StreamlitAPIException

from ui.format import literal

log = logging.getLogger("product_orders")

LOCAL_ACTOR = "staff (local mode)"
ACTOR = "auth.actor"
MODE = "auth.mode"
PASSWORD_MARK = "auth.password_mark"
OIDC_SINCE = "auth.oidc_since"  # when this session first ran signed in through OpenID
PASSWORD_ERROR = "auth.password_error"
PASSWORD_VARIABLE = "DASHBOARD_PASSWORD"
WRONG_PASSWORD_DELAY = 1.0  # seconds: slows guessing without bothering a person
FAILURES_PER_MINUTE = 5  # wrong passwords from one address before it is locked out
FIRST_LOCKOUT = 60.0  # seconds; each lockout within STRIKE_MEMORY doubles the next one
LONGEST_LOCKOUT = 3600.0
STRIKE_MEMORY = 86_400.0  # seconds without a lockout after which an address starts afresh
UNKNOWN_ADDRESS = "unknown"  # localhost, AppTest: no address is known
NAME_LIMIT = 100
RESERVED_ACTORS = {"assistant", "system"}  # the API's and the dispatcher's own names


class Mode(StrEnum):
    OIDC = "oidc"
    PASSWORD = "password"
    LOCAL = "local"


def current_actor() -> str:
    return st.session_state.get(ACTOR, LOCAL_ACTOR)


def sign_in_mode(secrets: Mapping[str, Any] | None = None) -> Mode:
    secrets = _secrets() if secrets is None else secrets
    if secrets.get("auth"):
        return Mode.OIDC
    if _dashboard_password(secrets):
        return Mode.PASSWORD
    return Mode.LOCAL


def signed_in() -> bool:
    """Whether require_staff() would let this session in now; draws nothing."""
    secrets = _secrets()
    mode = sign_in_mode(secrets)
    if mode is Mode.OIDC:
        email = str(st.user.get("email") or "").strip().lower()
        return _oidc_session_open() and _staff_member(email)
    if mode is Mode.PASSWORD:
        return st.session_state.get(PASSWORD_MARK) == _mark(_dashboard_password(secrets))
    return True


def require_staff() -> str:
    """The signed-in person's name for events; otherwise draw the sign-in screen and stop."""
    secrets = _secrets()
    mode = sign_in_mode(secrets)
    if mode is Mode.OIDC:
        actor = _oidc_staff()
    elif mode is Mode.PASSWORD:
        actor = _password_staff(_dashboard_password(secrets))
    else:
        actor = LOCAL_ACTOR
    st.session_state[ACTOR] = actor
    st.session_state[MODE] = mode.value
    return actor


def account_bar() -> Mode:
    """Who is signed in and a way out (sidebar); returns the sign-in mode. Once per run.

    Open local mode has no one to show: ui.setup_notice says so, with what else is not set up.
    """
    mode = Mode(st.session_state.get(MODE, Mode.LOCAL))
    if mode is Mode.LOCAL:
        return mode
    with st.sidebar:
        st.caption(f"Signed in as {literal(current_actor())}")
        st.button("Sign out", key="auth.sign_out", icon=":material/logout:", on_click=_sign_out)
    return mode


def _sign_out() -> None:
    if st.session_state.get(MODE) == Mode.OIDC:
        SIGN_OUTS.record(_oidc_account())
        st.logout()
        return
    for key in list(st.session_state.keys()):
        del st.session_state[key]


# ---- OpenID Connect ----


def _oidc_staff() -> str:
    if not _oidc_session_open():
        _login_screen()
        st.stop()
    email = str(st.user.get("email") or "").strip()
    if not _staff_member(email.lower()):
        log.warning("sign-in refused: not on the staff list")
        _not_authorised(email)
        st.stop()
    return email


def _oidc_account() -> str:
    return str(st.user.get("email") or st.user.get("sub") or "").strip().lower()


def _oidc_session_open() -> bool:
    """Signed in through OpenID, and not signed out since (in this tab or another one)."""
    if not st.user.get("is_logged_in"):
        return False
    since = st.session_state.setdefault(OIDC_SINCE, time.time())
    return not SIGN_OUTS.ended(_oidc_account(), since)


class SignOuts:
    """When each account last signed out, across all sessions of this process.

    A session whose sign-in began before its account's last sign-out is over. The record
    lives in memory: a restart forgets it, which is harmless, since a restart ends every
    session anyway and the signed-out browser no longer has its cookie.
    """

    def __init__(self) -> None:
        self._at: dict[str, float] = {}
        self._lock = threading.Lock()

    def record(self, account: str) -> None:
        if account:
            with self._lock:
                self._at[account] = time.time()

    def ended(self, account: str, session_since: float) -> bool:
        with self._lock:
            signed_out = self._at.get(account)
        return signed_out is not None and session_since <= signed_out

    def reset(self) -> None:
        with self._lock:
            self._at.clear()


SIGN_OUTS = SignOuts()


def _staff_member(email: str) -> bool:
    # A provider that says it has not verified the address does not get to vouch for it.
    verified = st.user.get("email_verified") is not False
    return bool(email) and verified and email in staff_emails()


def staff_emails() -> set[str]:
    listed = (_secrets().get("access") or {}).get("staff") or []
    if isinstance(listed, str):
        listed = listed.split(",")
    return {str(email).strip().lower() for email in listed if str(email).strip()}


def _providers() -> list[str | None]:
    """None for the default provider (`[auth]` itself), else each `[auth.<name>]`."""
    auth = _secrets().get("auth") or {}
    named = [name for name, value in auth.items() if isinstance(value, Mapping)]
    return ([None] if "client_id" in auth or not named else []) + named


def _login_screen() -> None:
    with _centred():
        st.title("Product Orders", anchor=False)
        st.write("Sign in with your work account to see and manage orders.")
        if st.user.get("is_logged_in"):  # still signed in here, but signed out elsewhere
            st.info("You signed out in another tab, so this one is signed out too.")
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


@dataclass
class _Lockout:
    until: float
    strikes: int


@dataclass(frozen=True)
class Verdict:
    """The password was right, wrong, or not checked because the address must wait."""

    right: bool
    wait: float = 0.0  # seconds left of the address's lockout; > 0 means not checked


class SignInThrottle:
    """Wrong passwords per client address, counted across all sessions of this process.

    `FAILURES_PER_MINUTE` failures within a moving minute lock the address out; lockouts
    grow (doubling up to `LONGEST_LOCKOUT`), and an attempt during one is refused without
    the password even being checked, so a right guess then gains nothing either.
    """

    def __init__(
        self,
        *,
        failures_per_minute: int = FAILURES_PER_MINUTE,
        first_lockout: float = FIRST_LOCKOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.first_lockout = first_lockout
        self.clock = clock
        self._failures = RateLimitItemPerMinute(failures_per_minute)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._lockouts: dict[str, _Lockout] = {}
        # Check and count together, so parallel sessions cannot all slip past one check.
        self._lock = threading.Lock()

    def attempt(self, address: str, check: Callable[[], bool]) -> Verdict:
        """Run `check()` (is the password right?) unless the address is locked out."""
        with self._lock:
            now = self.clock()
            locked = self._lockouts.get(address)
            if locked is not None and now < locked.until:
                return Verdict(right=False, wait=locked.until - now)
            if check():
                return Verdict(right=True)
            self._limiter.hit(self._failures, address)
            if not self._limiter.test(self._failures, address):
                self._lock_out(address, locked, now)
            return Verdict(right=False)

    def _lock_out(self, address: str, earlier: _Lockout | None, now: float) -> None:
        if earlier is None or now - earlier.until > STRIKE_MEMORY:
            strikes = 1
        else:
            strikes = earlier.strikes + 1
        wait = min(LONGEST_LOCKOUT, self.first_lockout * 2 ** (strikes - 1))
        self._lockouts = {
            known: lockout
            for known, lockout in self._lockouts.items()
            if now - lockout.until <= STRIKE_MEMORY
        }
        self._lockouts[address] = _Lockout(now + wait, strikes)
        self._limiter.clear(self._failures, address)  # the lockout, not the window, now holds
        log.warning("sign-in locked for %.0f s: too many wrong passwords from %s", wait, address)

    def reset(self) -> None:
        with self._lock:
            self._lockouts.clear()
            self._limiter.storage.reset()


THROTTLE = SignInThrottle()


def client_address() -> str:
    """The connection's IP address; none for localhost, and AppTest answers with a mock."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else UNKNOWN_ADDRESS


def _check_password(password: str) -> None:
    given = str(st.session_state.get("auth.password") or "")
    st.session_state["auth.password"] = ""
    address = client_address()
    verdict = THROTTLE.attempt(address, lambda: _same(given, password))
    if verdict.wait:
        log.warning("sign-in refused: %s is locked out, password not checked", address)
        st.session_state[PASSWORD_ERROR] = (
            f"Too many attempts from your address; try again in {math.ceil(verdict.wait)} s."
        )
        return
    if not verdict.right:
        log.warning("sign-in refused: wrong dashboard password from %s", address)
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


def _dashboard_password(secrets: Mapping[str, Any]) -> str:
    """The environment, then `[access] DASHBOARD_PASSWORD`, then a top-level entry."""
    access = secrets.get("access") or {}
    value = (
        os.environ.get(PASSWORD_VARIABLE)
        or access.get(PASSWORD_VARIABLE)
        or secrets.get(PASSWORD_VARIABLE)
    )
    return str(value) if value else ""


def _secrets() -> Mapping[str, Any]:
    """Every secret, read once for the caller. With no secrets file at all, each read of
    `st.secrets` looks for one again (Streamlit keeps only a file it found): about a
    millisecond a time, and each part of a page that re-runs on its own checks the
    sign-in (ui/fragments.py), four of them after a change."""
    try:
        return st.secrets.to_dict()
    except (FileNotFoundError, StreamlitAPIException):
        return {}  # no secrets file at all: nothing configured


def _centred() -> Any:
    return st.columns([1, 2, 1])[1]
