"""Confirmations that must survive a rerun: queued by a write, shown by the next run.

Why this is more than "pop and toast": docs/ARCHITECTURE.md, "Confirmations that survive a rerun".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal, NoReturn

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

Kind = Literal["success", "warning", "error", "info"]
Message = tuple[Kind, str]
ICONS = {
    "success": ":material/check_circle:",
    "warning": ":material/warning:",
    "error": ":material/error:",
    "info": ":material/info:",
}
BANNERS: dict[Kind, Callable[..., object]] = {
    "success": st.success,
    "warning": st.warning,
    "error": st.error,
    "info": st.info,
}
QUEUED = "flash.queued"  # [(kind, message)], oldest first
SHOWN = "flash.shown"  # how many of them this run has shown
PAGE = "page"  # where a message goes unless told: a toast from the page's next run
LATEST = "flash.latest"  # (place, [(kind, message)]): the last write's messages to a place

OUTBOX_KEPT_SECONDS = 3600.0


class _Waiting:
    """One session's messages not yet queued, and since when the oldest has waited."""

    def __init__(self) -> None:
        self.since = time.monotonic()
        self.messages: list[Message] = []


_outbox: dict[tuple[str, str], _Waiting] = {}  # (session id, place) → not yet queued
_outbox_lock = threading.Lock()


def flash(message: str, kind: Kind = "success", *, to: str = PAGE) -> None:
    """A message for the user: by default shown by the next run that shows flashes; `to` a
    place of its own, shown where that place is drawn (`show_latest`)."""
    with _outbox_lock:
        _drop_abandoned(time.monotonic() - OUTBOX_KEPT_SECONDS)
        _outbox.setdefault((_session_id(), to), _Waiting()).messages.append((kind, message))


def _drop_abandoned(waiting_since: float) -> None:
    for waited in [s for s, waiting in _outbox.items() if waiting.since < waiting_since]:
        del _outbox[waited]


def show_flashes(*, banners: bool = False) -> None:
    """Toast every queued message; a refusal (warning, error) also stays on the page as a
    banner until the next action, and with `banners=True` every message does."""
    queued = _take_outbox()
    st.session_state[SHOWN] = len(queued)
    for kind, message in queued:
        st.toast(message, icon=ICONS[kind])
        if banners or kind in ("warning", "error"):
            BANNERS[kind](message, icon=ICONS[kind])


@contextmanager
def shown_once_complete() -> Iterator[None]:
    """Run a page; if it returns, what it showed has been seen and leaves the queue.

    Nothing is caught: a run stopped or rerun exits by exception and keeps its messages.
    (After a stop even reading st.session_state raises again, so a stop cannot be counted
    here; a page that ends itself on purpose uses `stop()` below.)
    """
    st.session_state[SHOWN] = 0
    yield
    _forget_shown()


def show_latest(place: str) -> None:
    """Banners for what the last write flashed to `place`, drawn there.

    For a part of the page that re-runs without the page (a dialog): a toast sent by such a
    run never shows. The messages stay, drawn by every run of their place, until a newer
    write to it replaces them, another place shows its own, or `forget_latest()`.
    """
    with _outbox_lock:  # as in _take_outbox: kept in the session before the outbox lets go
        waiting = _outbox.get((_session_id(), place))
        if waiting:
            st.session_state[LATEST] = (place, waiting.messages)
            del _outbox[(_session_id(), place)]
    shown_for, messages = st.session_state.get(LATEST) or (place, [])
    if shown_for != place:
        forget_latest()
        return
    for kind, message in messages:
        BANNERS[kind](message, icon=ICONS[kind])


def forget_latest() -> None:
    """Drop the messages `show_latest` keeps, and those not yet drawn (their place was
    closed): reopened later, the place would otherwise say what a long-gone write did."""
    session = _session_id()
    with _outbox_lock:
        for waited in [key for key in _outbox if key[0] == session and key[1] != PAGE]:
            del _outbox[waited]
    st.session_state.pop(LATEST, None)


def stop() -> NoReturn:
    """st.stop() for a run that ends on purpose: what it showed counts as seen."""
    _forget_shown()
    st.stop()


def _take_outbox() -> list[Message]:
    """The queue, with what flash() has sent since; the outbox is emptied only once the
    queue holding its messages is stored (storing raises if this run is being stopped)."""
    waited = (_session_id(), PAGE)
    # One locked step: a stopping run and the run replacing it must not both move a message.
    with _outbox_lock:
        waiting = _outbox.get(waited)
        arrived = waiting.messages if waiting else []
        queued = [*st.session_state.get(QUEUED, []), *arrived]
        st.session_state[QUEUED] = queued
        _outbox.pop(waited, None)
    return queued


def _forget_shown() -> None:
    shown = st.session_state.get(SHOWN, 0)
    st.session_state[SHOWN] = 0
    if shown:
        st.session_state[QUEUED] = st.session_state.get(QUEUED, [])[shown:]


def _session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else ""
