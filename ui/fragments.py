"""Parts of a page that re-run without it: fragments, and dialogs (which are fragments too).

A part re-run on its own misses what the page's run does around it: the sign-in check
(`require_staff`) and the database trouble page (`database_trouble_page` in
dashboard/main.py). `on_its_own()` gives it both: a session ended meanwhile (signed out in
another tab) reads nothing more, and a database gone meanwhile re-runs the whole page, which
says so once however many parts found it gone (a change re-runs four at once). In a run of
the whole page it does nothing: the page has just checked, and its handler shows the trouble.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

import streamlit as st
from sqlalchemy.exc import DBAPIError
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.auth import signed_in
from ui.resources import is_outage

log = logging.getLogger("product_orders")

P = ParamSpec("P")
R = TypeVar("R")


def alone() -> bool:
    """Whether this run is of some fragments only, not of the whole page."""
    run = get_script_run_ctx()
    return run is not None and bool(run.fragment_ids_this_run)


# When the person last did something on the page: a click or an entry that re-ran a part of
# it (a fragment, a dialog), or a run of the whole page they asked for (`touched`). A part's
# timer (run_every) is not them.
LAST_TOUCH = "ui.last_touch"


def touched() -> None:
    st.session_state[LAST_TOUCH] = time.monotonic()


def quiet_for(seconds: float) -> bool:
    """Whether the person has done nothing on the page for `seconds`."""
    last = st.session_state.get(LAST_TOUCH)
    return last is None or time.monotonic() - last >= seconds


@contextmanager
def on_its_own(*, by_the_person: bool = True) -> Iterator[None]:
    """Around a part's body: the checks its page makes, when it runs without its page.

    Such a run is the person's doing (a click, a field filled in: `quiet_for`) unless
    `by_the_person` is False (a part's own timer)."""
    if not alone():
        yield
        return
    if by_the_person:
        touched()
    if not signed_in():
        st.rerun(scope="app")
    try:
        yield
    except DBAPIError as exc:
        if not is_outage(exc):
            raise
        log.warning("database lost in a part of the page; the page re-runs to say so")
        st.rerun(scope="app")


def fragment(
    *, key: str | None = None, run_every: timedelta | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """`st.fragment` whose body runs `on_its_own()`; its timer's runs (`run_every`) are not
    the person's."""

    def decorate(body: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(body)
        def part(*args: P.args, **kwargs: P.kwargs) -> R:
            with on_its_own(by_the_person=run_every is None):
                return body(*args, **kwargs)
            raise AssertionError("unreachable")  # on_its_own re-raises or re-runs

        made: Any = st.fragment(part, key=key, run_every=run_every)
        return made  # type: ignore[no-any-return]

    return decorate
