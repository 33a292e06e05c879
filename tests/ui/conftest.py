"""AppTest runs each page in this process against the test database."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from config import ROOT


@pytest.fixture(autouse=True)
def open_mode(monkeypatch):
    """Pages run in open local mode unless a test sets a sign-in up itself."""
    monkeypatch.delenv("DASHBOARD_PASSWORD", raising=False)


@pytest.fixture
def dry_run(monkeypatch):
    """No provider credentials: both channels only record their messages."""
    from tests.fakes.notify import provider_secrets

    for name in provider_secrets("http://127.0.0.1:9"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def configured(monkeypatch):
    """Both providers configured (pointing nowhere: pages never send)."""
    from tests.fakes.notify import provider_secrets

    for name, value in provider_secrets("http://127.0.0.1:9").items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def page_db(db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db.url)
    return db


def open_page(name: str, timeout: float = 30) -> AppTest:
    """AppTest of `pages/<name>.py`, as the dashboard would run it (see dashboard/main.py)."""
    path = str(ROOT / "pages" / f"{name}.py")
    return AppTest.from_function(_run_page, args=(path,), default_timeout=timeout)


def opened_order(at: AppTest):
    """The opened order's dialog: what is drawn in it, not elsewhere on the page.

    After a change made in the order, only the parts the change rewrote run again (its top
    and its history, ui/order_detail.py); AppTest then holds those parts where the dialog
    is, in a block of unknown type, and the rest of the dialog stays as the browser drew it.
    """
    [events] = [node for node in at._tree.children.values() if node.type == "event"]
    [dialog] = [node for node in events.children.values() if node.type in ("dialog", "unknown")]
    return dialog


def _run_page(path: str) -> None:
    import runpy

    from ui.flash import shown_once_complete

    with shown_once_complete():
        runpy.run_path(path)


@pytest.fixture(autouse=True)
def no_leftover_flashes():
    """Every AppTest has the same session id; one test's unshown message is not the next's."""
    from ui import flash

    flash._outbox.clear()
    yield
    flash._outbox.clear()


@pytest.fixture(autouse=True)
def fresh_sign_in_throttle():
    """Every AppTest comes from the same (unknown) address: one test's wrong guesses, and
    any lockout they caused, must not carry over to the next."""
    from ui import auth

    auth.THROTTLE.reset()
    yield
    auth.THROTTLE.reset()
