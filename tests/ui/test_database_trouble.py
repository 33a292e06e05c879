"""Database trouble in AppTest: unreachable at start, or gone mid-session, on both databases.

The dashboard must say what to check — never a traceback — and a write during the outage
must fail cleanly: nothing it did is stored, and nothing committed before is lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
from sqlalchemy import event, func, select
from streamlit.testing.v1 import AppTest

import bootstrap
from config import ROOT
from db.models import Notification, OrderEvent
from db.unit_of_work import UnitOfWork
from domain.order import OrderStatus, PaymentStatus
from queries.orders import order_details
from services import orders
from tests.builders import add_catalogue, order_data
from tests.e2e.conftest import free_port
from tests.ui.conftest import opened_order
from ui import resources


def dashboard() -> AppTest:
    return AppTest.from_file(str(ROOT / "dashboard" / "main.py"), default_timeout=30)


def errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


def assert_clean_trouble_page(at: AppTest, title: str) -> None:
    assert not at.exception, "a traceback reached the page"
    assert title in errors(at)
    assert "Check that" in errors(at)
    assert not at.dataframe


@contextmanager
def outage(url: str) -> Iterator[None]:
    """The page's own engines can no longer connect: every new connection is refused.

    Disposing the pools drops the connections they held, as a server restart would.
    """
    engines = bootstrap.database(url).engines
    dbapi = engines[0].dialect.loaded_dbapi

    def refuse(*_args, **_kwargs):
        raise dbapi.OperationalError("connection refused (test outage)")

    for engine in engines:
        event.listen(engine, "do_connect", refuse)
        engine.dispose()
    try:
        yield
    finally:
        for engine in engines:
            event.remove(engine, "do_connect", refuse)


def test_an_unreachable_database_at_start_gets_a_page_that_says_what_to_check(monkeypatch):
    closed = free_port()  # nothing listens there
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{closed}/x")
    at = dashboard().run()
    assert_clean_trouble_page(at, "Can't reach the database")
    assert f"127.0.0.1:{closed}" in errors(at)
    assert not at.metric


@pytest.fixture
def open_order(page_db):
    add_catalogue(page_db)
    change = orders.create_order(page_db, order=order_data(), actor="test")
    # Committed before the outage: must survive it.
    orders.set_payment_status(
        page_db,
        order_id=change.order_id,
        expected_version=None,
        actor="test",
        payment=PaymentStatus.PAID,
    )
    at = dashboard().run()
    at.session_state["orders.table.pending"] = {
        "selection": {"rows": [], "columns": [], "cells": [[0, "Customer"]]}
    }  # a click on any cell opens the order
    at.run()
    assert not at.exception and at.subheader[0].value == change.number
    return page_db, change, at


def counts(db, order_id: int) -> tuple[int, int]:
    with db.reading() as session:
        events = session.scalar(
            select(func.count()).select_from(OrderEvent).where(OrderEvent.order_id == order_id)
        )
        sent = session.scalar(
            select(func.count()).select_from(Notification).where(Notification.order_id == order_id)
        )
    return events, sent


def test_losing_the_database_mid_session_shows_what_to_check_not_a_traceback(open_order):
    db, _change, at = open_order
    with outage(db.url):
        at.run()
        assert_clean_trouble_page(at, "Lost the connection to the database")
    at.run()  # the database is back: so is the page
    assert not at.exception and at.dataframe and not at.error


def test_a_write_during_an_outage_fails_cleanly_and_loses_nothing(open_order):
    db, change, at = open_order
    before = counts(db, change.order_id)
    confirm = next(b for b in at.button if b.label == "Confirm Order")
    with outage(db.url):
        confirm.click().run()
        assert_clean_trouble_page(at, "Lost the connection to the database")
    details = order_details(db, order_id=change.order_id)
    assert details.status is OrderStatus.PENDING  # the confirm did not happen…
    assert details.payment_status is PaymentStatus.PAID  # …and the earlier change stands
    assert counts(db, change.order_id) == before

    at.run()  # back: the order says the change was not saved, and it can be done now
    assert at.subheader[0].value == change.number
    assert any("this change was not saved" in e.value for e in opened_order(at).error)
    next(b for b in at.button if b.label == "Confirm Order").click().run()
    assert order_details(db, order_id=change.order_id).status is OrderStatus.IN_PROGRESS


def test_the_servers_error_hook_turns_an_outage_into_the_trouble_page_and_leaves_others():
    lost = resources.OUTAGE[0]("SELECT 1", {}, Exception("server closed the connection"))
    at = AppTest.from_function(_hook_app, args=(lost,)).run()
    assert "Lost the connection to the database" in errors(at)
    at = AppTest.from_function(_hook_app, args=(ValueError("a bug"),)).run()
    assert at.markdown[0].value == "handled: None"


def _hook_app(exc: Exception) -> None:
    import streamlit as st

    from ui import resources

    st.markdown(f"handled: {resources.on_script_error(exc)}")


def test_losing_the_database_right_after_a_change_shows_the_trouble_page_once(
    open_order, monkeypatch
):
    """The change is saved; the parts of the page that then re-run to show it (the counts,
    the table, the order's top and history) all find the database gone: one trouble page,
    one Try again, no traceback."""
    db, change, at = open_order
    commit = UnitOfWork.commit
    lost = ExitStack()

    def commit_then_lose_the_database(uow: UnitOfWork) -> None:
        commit(uow)
        lost.enter_context(outage(db.url))

    monkeypatch.setattr(UnitOfWork, "commit", commit_then_lose_the_database)
    with lost:
        next(b for b in at.button if b.label == "Confirm Order").click().run()
        assert not at.exception, "a traceback reached the page"
        assert "Lost the connection to the database" in errors(at)
        assert [b.label for b in at.button].count("Try again") == 1
    monkeypatch.undo()
    assert order_details(db, order_id=change.order_id).status is OrderStatus.IN_PROGRESS
