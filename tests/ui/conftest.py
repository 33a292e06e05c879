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
def page_db(db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db.url)
    return db


def open_page(name: str, timeout: float = 30) -> AppTest:
    """AppTest of `pages/<name>.py`, as the dashboard would run it."""
    return AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=timeout)
