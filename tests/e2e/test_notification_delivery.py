"""`streamlit run app.py` delivers notifications by itself: its lifespan runs the dispatcher."""

from __future__ import annotations

import signal
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import select, update

from db.database import Database
from db.models import Notification
from domain.enums import NotificationStatus
from services import orders
from tests.builders import order_data
from tests.e2e.conftest import start_server, stop_server, wait_for_app
from tests.fakes.notify import API_KEY, FROM_EMAIL, reference_of
from tests.fakes.provider_server import SENDGRID_PATH, FakeProviderServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def delivering_server(tmp_path):
    """A dashboard whose e-mail goes to a local fake SendGrid, on its own SQLite file."""
    from db.seed import main as seed

    database_url = f"sqlite:///{tmp_path / 'orders.db'}"
    seed(["--database-url", database_url])
    with FakeProviderServer() as fake:
        env = {
            "SENDGRID_API_KEY": API_KEY,
            "SENDGRID_FROM_EMAIL": FROM_EMAIL,
            "SENDGRID_API_HOST": fake.url,
            "TWILIO_AUTH_TOKEN": "",  # no SMS provider: the Twilio callback says so
            "NO_PROXY": "127.0.0.1,localhost",
        }
        server = start_server(database_url, tmp_path / "streamlit.log", env=env)
        try:
            yield server, fake
        finally:
            stop_server(server)


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    return predicate()


def test_the_server_emails_a_confirmation_placed_by_another_process(delivering_server):
    server, fake = delivering_server
    db = Database(server.database_url)
    try:
        change = orders.create_order(db, order=order_data(), actor="e2e")
        orders.confirm_order(db, order_id=change.order_id, expected_version=None, actor="e2e")

        # Nothing in this process sends: only the server's dispatcher loop can deliver these.
        emails = wait_for(lambda: len(fake.requests) >= 2 and fake.requests)
        with db.reading() as session:
            rows = {n.dedupe_key: n for n in session.scalars(select(Notification))}
    finally:
        db.dispose()

    assert emails, f"the fake SendGrid got nothing; server log:\n{server.log()}"
    assert [r.path for r in emails] == [SENDGRID_PATH, SENDGRID_PATH]
    assert sorted(reference_of(r) for r in emails) == sorted(rows)
    subjects = sorted(r.json["subject"] for r in emails)
    number = change.number
    assert subjects == [f"Order {number} confirmed", f"We received your order {number}"]
    assert all(row.status is NotificationStatus.SENT and row.provider_id for row in rows.values())


def test_the_server_answers_webhooks_and_refuses_unsigned_ones(delivering_server):
    server, _ = delivering_server
    request = urllib.request.Request(
        server.url + "/api/v1/webhooks/sendgrid", data=b"[]", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 503  # no SENDGRID_WEBHOOK_PUBLIC_KEY: said, not ignored


def test_the_server_stops_its_dispatcher_when_it_shuts_down(delivering_server):
    server, _ = delivering_server
    assert "notification delivery started" in server.log()

    server.process.send_signal(signal.SIGTERM)  # what a process manager sends
    server.process.wait(timeout=15)

    assert "notification delivery stopped" in server.log()
    assert "Traceback" not in server.log()


def test_the_notifications_page_shows_the_outbox_and_that_nothing_is_delivered(
    page, server, artifacts
):
    db = Database(server.database_url)
    try:
        first = orders.create_order(db, order=order_data(), actor="e2e")
        orders.confirm_order(db, order_id=first.order_id, expected_version=None, actor="e2e")
        with db.writing() as session:
            session.execute(
                update(Notification)
                .where(Notification.order_id == first.order_id)
                .values(status=NotificationStatus.DEAD, last_error="injected failure (500)")
            )
            session.commit()
    finally:
        db.dispose()
    page.goto(server.url)
    wait_for_app(page)
    page.get_by_role("link", name="Notifications").click()

    page.get_by_role("heading", name="Notifications").first.wait_for()
    page.get_by_text("Created between").wait_for()
    page.get_by_role("button", name="Resend").wait_for()
    page.get_by_text(f"We received your order {first.number}").first.wait_for()  # the preview
    assert page.get_by_text("E-mail notifications are not being delivered.").is_visible()
    assert page.get_by_text("SMS notifications are not being delivered.").is_visible()
    wait_for_app(page)
    page.screenshot(path=artifacts / "notifications-dry-run.png", full_page=True)
