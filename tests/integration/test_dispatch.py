"""The dispatcher on SQLite and PostgreSQL, with the real SDKs sending to a local fake API."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import event, select, update

from bootstrap import max_attempts
from config import ROOT
from db.models import Contact, Notification, Order, OrderEvent
from db.settings import store_settings
from domain.enums import NotificationStatus
from domain.settings import BusinessSettings
from notify.delivery import ImmediateDelivery
from notify.dispatch import Dispatcher, RetryPolicy
from queries.orders import order_details
from services import orders
from tests.builders import SMS_CUSTOMER, add_catalogue, order_data
from tests.fakes.notify import (
    ACCOUNT_SID,
    FakeClock,
    accepted_per_reference,
    provider_secrets,
    providers_for,
    requests_per_reference,
)
from tests.fakes.provider_server import SENDGRID_PATH, FakeProviderServer

ACTOR = "staff@example.com"
TWILIO_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"

pytestmark = pytest.mark.usefixtures("no_proxy")


@pytest.fixture
def catalogue(db):
    return add_catalogue(db)


@pytest.fixture
def fake():
    with FakeProviderServer() as server:
        yield server


def dispatcher(db, url, **options) -> Dispatcher:
    options.setdefault("policy", RetryPolicy(max_attempts=4, base_seconds=10, cap_seconds=60))
    return Dispatcher(db, providers_for(url, timeout=options.pop("timeout", 2.0)), **options)


def drain_received(db, fake) -> None:
    """Send the 'order received' messages so a test sees only what it causes next."""
    dispatcher(db, fake.url).run_once()


def confirmed_order(db, fake, **changes) -> int:
    change = orders.create_order(db, order=order_data(**changes), actor=ACTOR)
    drain_received(db, fake)
    orders.confirm_order(db, order_id=change.order_id, expected_version=None, actor=ACTOR)
    return change.order_id


def last_notification(db, order_id):
    return order_details(db, order_id=order_id).notifications[-1]


def system_notes(db, order_id) -> list[str]:
    with db.reading() as session:
        rows = session.scalars(
            select(OrderEvent).where(
                OrderEvent.order_id == order_id,
                OrderEvent.kind == "notification",
                OrderEvent.actor == "system",
            )
        )
        return [e.detail for e in rows]


def sent_to_sendgrid(fake) -> list:
    return [r for r in fake.requests if r.path == SENDGRID_PATH]


# ---- success ---------------------------------------------------------------------------------


def test_a_confirmation_is_emailed_once_with_settings_sender_and_the_provider_id_kept(
    db, catalogue, fake
):
    with db.writing() as session:
        store_settings(
            session, BusinessSettings(business_name="Corner Tea", reply_to_email="help@tea.example")
        )
        session.commit()
    order_id = confirmed_order(db, fake)
    fake.script(SENDGRID_PATH, [(202, {"X-Message-Id": "msg-confirmed-1"}, None)])

    assert dispatcher(db, fake.url).run_once() == Counter(sent=1)

    request = sent_to_sendgrid(fake)[-1]
    assert request.headers["authorization"].startswith("Bearer SG.")
    assert request.json["personalizations"][0]["to"] == [{"email": "ada@example.com"}]
    assert request.json["from"]["name"] == "Corner Tea"
    assert request.json["reply_to"] == {"email": "help@tea.example"}
    assert "is confirmed" in request.json["content"][0]["value"]
    row = last_notification(db, order_id)
    assert (row.status, row.provider_id, row.attempts) == ("sent", "msg-confirmed-1", 1)
    assert row.sent_at is not None


def test_an_sms_customer_gets_a_text_through_twilio_with_the_message_sid(db, catalogue, fake):
    order_id = confirmed_order(db, fake, customer=SMS_CUSTOMER)

    dispatcher(db, fake.url).run_once()

    request = fake.requests[-1]
    assert request.path == TWILIO_PATH
    assert request.form["To"] == "+14155552671"
    assert "is confirmed" in request.form["Body"]
    row = last_notification(db, order_id)
    assert row.status == "sent" and row.provider_id.startswith("SM")


# ---- retries ---------------------------------------------------------------------------------


def test_a_429_then_202_sends_once_after_waiting_at_least_the_retry_after(db, catalogue, fake):
    order_id = confirmed_order(db, fake)
    clock = FakeClock()
    fake.script(SENDGRID_PATH, [(429, {"Retry-After": "120"}, {"errors": [{"message": "slow"}]})])
    worker = dispatcher(db, fake.url, clock=clock)

    assert worker.run_once() == Counter(retry=1)
    clock.advance(119)
    assert worker.run_once() == Counter()  # not due yet: the provider asked for 120 s
    clock.advance(2)
    assert worker.run_once() == Counter(sent=1)

    row = last_notification(db, order_id)
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(sent_to_sendgrid(fake)) == 3  # received + 429 + the one that got through
    assert list(accepted_per_reference(fake).values()) == [1, 1]


def test_500_every_time_makes_the_notification_dead_after_the_last_attempt(db, catalogue, fake):
    order_id = confirmed_order(db, fake)
    clock = FakeClock()
    fake.script(SENDGRID_PATH, [(500, {}, {"errors": [{"message": "down"}]})] * 4)
    worker = dispatcher(db, fake.url, clock=clock)

    outcomes: Counter[str] = Counter()
    for _ in range(6):
        outcomes += worker.run_once()
        clock.advance(120)  # past the longest backoff of this policy

    assert outcomes == Counter(retry=3, dead=1)
    row = last_notification(db, order_id)
    assert (row.status, row.attempts) == ("dead", 4)
    assert row.last_error == "down (500)"
    assert system_notes(db, order_id) == [
        "The “order confirmed” e-mail to ada@example.com gave up after 4 attempts: down (500)."
    ]


def test_a_refused_connection_is_retried_later_and_then_sent(db, catalogue, fake):
    order_id = confirmed_order(db, fake)
    clock = FakeClock()
    with FakeProviderServer() as gone:
        closed_url = gone.url
    refused = dispatcher(db, closed_url, clock=clock)

    assert refused.run_once() == Counter(retry=1)
    row = last_notification(db, order_id)
    assert (row.status, row.attempts) == ("queued", 1)
    assert "(connection)" in row.last_error

    clock.advance(60)
    assert dispatcher(db, fake.url, clock=clock).run_once() == Counter(sent=1)
    assert last_notification(db, order_id).status == "sent"


def test_max_attempts_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("NOTIFY_MAX_ATTEMPTS", "3")
    assert max_attempts() == 3
    monkeypatch.setenv("NOTIFY_MAX_ATTEMPTS", "lots")
    assert max_attempts() == 8


# ---- permanent failures ----------------------------------------------------------------------


def test_a_400_from_sendgrid_fails_the_notification_without_a_retry(db, catalogue, fake):
    order_id = confirmed_order(db, fake)
    clock = FakeClock()
    bad = {"errors": [{"message": "Does not contain a valid address.", "field": "to"}]}
    fake.script(SENDGRID_PATH, [(400, {}, bad)])
    worker = dispatcher(db, fake.url, clock=clock)

    assert worker.run_once() == Counter(failed=1)
    clock.advance(3600)
    assert worker.run_once() == Counter()

    row = last_notification(db, order_id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "valid address" in system_notes(db, order_id)[0]


def twilio_error(code: int, message: str):
    return 400, {}, {"code": code, "message": message, "status": 400}


@pytest.mark.parametrize("code", [21211, 21614])
def test_a_bad_phone_number_fails_the_text_without_a_retry(db, catalogue, fake, code):
    order_id = confirmed_order(db, fake, customer=SMS_CUSTOMER)
    fake.script(TWILIO_PATH, [twilio_error(code, "not a valid phone number")])

    assert dispatcher(db, fake.url).run_once() == Counter(failed=1)
    assert last_notification(db, order_id).last_error == f"not a valid phone number ({code})"


def test_a_stop_reply_fails_the_text_opts_the_customer_out_and_the_next_message_is_emailed(
    db, catalogue, fake
):
    order_id = confirmed_order(db, fake, customer=SMS_CUSTOMER)
    fake.script(TWILIO_PATH, [twilio_error(21610, "Attempt to send to unsubscribed recipient")])

    assert dispatcher(db, fake.url).run_once() == Counter(failed=1)

    with db.reading() as session:
        assert session.scalar(select(Contact.sms_opt_out)) is True
    notes = system_notes(db, order_id)
    assert "refused by the provider" in notes[0]
    assert "opted out of SMS" in notes[1]
    orders.mark_shipped(
        db,
        order_id=order_id,
        expected_version=None,
        actor=ACTOR,
        carrier="UPS",
        tracking_number="1Z",
        ship_unpaid=True,
    )
    assert last_notification(db, order_id).channel == "email"


# ---- uncertain -------------------------------------------------------------------------------


def test_a_timeout_after_sending_is_uncertain_and_never_resent_automatically(db, catalogue):
    with FakeProviderServer() as fake:
        order_id = confirmed_order(db, fake)
    clock = FakeClock()
    with FakeProviderServer(hang_seconds=3) as slow:
        worker = dispatcher(db, slow.url, timeout=0.3, clock=clock)
        assert worker.run_once() == Counter(uncertain=1)
        clock.advance(86_400)
        assert worker.run_once() == Counter()
        assert len(slow.requests) == 1
    row = last_notification(db, order_id)
    assert row.status == "uncertain"
    assert "not resent automatically" in system_notes(db, order_id)[0]


# ---- leases ----------------------------------------------------------------------------------


def test_an_expired_lease_is_not_taken_over_the_row_turns_uncertain_and_the_holder_is_fenced(
    db, catalogue, fake
):
    order_id = confirmed_order(db, fake)
    clock = FakeClock()
    first = dispatcher(db, fake.url, clock=clock, lease_seconds=60)
    second = dispatcher(db, fake.url, clock=clock, lease_seconds=60)
    (held,) = first.claim()
    assert second.claim() == []  # leased: nobody else may take it

    clock.advance(61)
    # The holder may have reached the provider before it stopped: never send it again.
    assert second.run_once() == Counter(uncertain=1)
    assert second.claim() == []
    assert first.deliver_all([held]) == Counter(lost=1)  # a late holder cannot record over it

    row = last_notification(db, order_id)
    assert (row.status, row.attempts) == ("uncertain", 1)
    assert "lease expired" in row.last_error
    assert "not resent automatically" in system_notes(db, order_id)[-1]
    assert len(sent_to_sendgrid(fake)) == 2  # "received", then the first holder's one try


def test_a_row_leased_by_the_after_commit_path_is_left_to_the_loop_when_it_expires(
    db, catalogue, fake
):
    order_id = confirmed_order(db, fake)
    clock = FakeClock()
    worker = dispatcher(db, fake.url, clock=clock, lease_seconds=60)
    (held,) = worker.claim()
    clock.advance(61)

    assert worker.deliver_ids([held.id]) == Counter()  # not due: only the loop settles it
    assert last_notification(db, order_id).status == "sending"


def test_two_dispatchers_racing_over_500_due_rows_send_each_exactly_once(db, catalogue, fake):
    change = orders.create_order(db, order=order_data(), actor=ACTOR)
    with db.writing() as session:
        session.execute(Notification.__table__.delete())
        order = session.get(Order, change.order_id)
        for n in range(500):
            session.add(
                Notification(
                    order_id=order.id,
                    template="confirmed",
                    channel="email",
                    recipient=f"c{n}@example.com",
                    subject="s",
                    body_text="t",
                    dedupe_key=f"race-{n}",
                    next_attempt_at=order.created_at,
                )
            )
        session.commit()
    workers = [dispatcher(db, fake.url, batch_size=25) for _ in range(2)]
    results: list[Counter[str]] = []
    start = threading.Barrier(2)

    def race(worker: Dispatcher) -> None:
        start.wait()
        results.append(worker.run_once())

    threads = [threading.Thread(target=race, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    per_reference = requests_per_reference(fake)
    assert len(per_reference) == 500
    assert set(per_reference.values()) == {1}
    assert sum(results, Counter()) == Counter(sent=500)
    assert all(r["sent"] > 0 for r in results)  # both really took part
    with db.reading() as session:
        statuses = Counter(session.scalars(select(Notification.status)))
    assert statuses == Counter({NotificationStatus.SENT: 500})


def test_a_batch_of_sent_messages_is_recorded_in_one_statement_each_with_its_own_provider_id(
    db, catalogue, fake
):
    ids = [orders.create_order(db, order=order_data(), actor=ACTOR).order_id for _ in range(3)]
    fake.script(SENDGRID_PATH, [(202, {"X-Message-Id": f"msg-{n}"}, None) for n in range(3)])
    recording = []

    def seen(_conn, _cursor, statement, *_args):
        if statement.startswith("UPDATE notifications") and "sent_at" in statement:
            recording.append(statement)

    for engine in db.engines:
        event.listen(engine, "before_cursor_execute", seen)
    try:
        assert dispatcher(db, fake.url).run_once() == Counter(sent=3)
    finally:
        for engine in db.engines:
            event.remove(engine, "before_cursor_execute", seen)

    assert len(recording) == 1
    rows = [last_notification(db, order_id) for order_id in ids]
    assert {(row.status, row.attempts) for row in rows} == {("sent", 1)}
    assert sorted(row.provider_id for row in rows) == ["msg-0", "msg-1", "msg-2"]


def test_a_row_changed_during_a_batch_keeps_its_change_and_the_rest_are_recorded(
    db, catalogue, fake
):
    first, second = (
        orders.create_order(db, order=order_data(), actor=ACTOR).order_id for _ in range(2)
    )
    worker = dispatcher(db, fake.url)
    held = worker.claim()
    assert len(held) == 2
    with db.writing() as session:  # e.g. the loop found the lease run out meanwhile
        session.execute(
            update(Notification)
            .where(Notification.id == held[0].id)
            .values(status=NotificationStatus.UNCERTAIN)
        )
        session.commit()

    assert worker.deliver_all(held) == Counter(sent=1, lost=1)

    statuses = {last_notification(db, order_id).status for order_id in (first, second)}
    assert statuses == {"uncertain", "sent"}


# ---- after commit ----------------------------------------------------------------------------


def test_a_hanging_provider_does_not_slow_the_page_action_and_the_row_ends_uncertain(db, catalogue):
    with FakeProviderServer() as fake:
        change = orders.create_order(db, order=order_data(), actor=ACTOR)
        drain_received(db, fake)
    with FakeProviderServer(hang_seconds=5) as slow:
        immediate = ImmediateDelivery(dispatcher(db, slow.url, timeout=0.5)).start()
        try:
            started = time.monotonic()
            orders.confirm_order(db, order_id=change.order_id, expected_version=None, actor=ACTOR)
            elapsed = time.monotonic() - started
            assert immediate.wait_until_idle(10)
        finally:
            immediate.stop()
        assert len(slow.requests) == 1
    assert elapsed < 1.0
    assert last_notification(db, change.order_id).status == "uncertain"


def test_the_after_commit_path_sends_just_committed_rows_at_once(db, catalogue, fake):
    immediate = ImmediateDelivery(dispatcher(db, fake.url)).start()
    try:
        change = orders.create_order(db, order=order_data(), actor=ACTOR)
        assert immediate.wait_until_idle(10)
    finally:
        immediate.stop()
    assert last_notification(db, change.order_id).status == "sent"
    assert len(fake.requests) == 1


def test_a_service_call_that_fails_after_writing_its_outbox_row_sends_nothing(
    db, catalogue, fake, monkeypatch
):
    change = orders.create_order(db, order=order_data(), actor=ACTOR)
    drain_received(db, fake)
    real_enqueue = orders.notify.enqueue

    def enqueue_then_fail(uow, **kwargs):
        row = real_enqueue(uow, **kwargs)
        assert row is not None and row.id
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(orders.notify, "enqueue", enqueue_then_fail)
    immediate = ImmediateDelivery(dispatcher(db, fake.url)).start()
    try:
        with pytest.raises(RuntimeError):
            orders.confirm_order(db, order_id=change.order_id, expected_version=None, actor=ACTOR)
        assert immediate.wait_until_idle(10)
    finally:
        immediate.stop()
    assert dispatcher(db, fake.url).run_once() == Counter()
    assert len(fake.requests) == 1  # only the earlier "order received"


# ---- the command -----------------------------------------------------------------------------


def test_the_dispatch_command_sends_what_is_due_and_exits(db, catalogue, fake):
    change = orders.create_order(db, order=order_data(), actor=ACTOR)
    environment = {
        **os.environ,
        **provider_secrets(fake.url),
        "DATABASE_URL": db.url,
        "NO_PROXY": "127.0.0.1,localhost",
    }

    done = subprocess.run(
        [sys.executable, "-m", "notify.dispatch", "--once"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert "dispatched: 1 sent" in done.stdout
    assert last_notification(db, change.order_id).status == "sent"
    assert len(fake.requests) == 1


def test_a_dry_run_message_is_recorded_as_dry_run_never_as_sent(db, catalogue):
    """Without credentials a message is only logged: it is `dry_run`, with no sent time and
    nothing on the order's timeline (no problem to report, no delivery to claim)."""
    from notify.providers import build_providers

    no_credentials = build_providers(lambda name: None)
    change = orders.create_order(db, order=order_data(), actor=ACTOR)

    done = Dispatcher(db, no_credentials).run_once()

    assert done == Counter({"dry_run": 1})
    row = last_notification(db, change.order_id)
    assert row.status == NotificationStatus.DRY_RUN == "dry_run"
    with db.reading() as session:
        stored = session.get(Notification, row.id)
        assert stored.sent_at is None and stored.provider_id.startswith("dry-run-")
    assert system_notes(db, change.order_id) == []
