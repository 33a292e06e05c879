"""Delivery receipts: signed SendGrid events and Twilio status callbacks update the outbox."""

from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from api.webhooks import ROUTES, SENDGRID_PATH, TWILIO_PATH
from db.models import Contact, Notification, OrderEvent
from domain.enums import NotificationStatus
from notify.dispatch import Dispatcher
from services import orders
from tests.builders import SMS_CUSTOMER, add_catalogue, order_data
from tests.fakes.notify import AUTH_TOKEN, providers_for
from tests.fakes.provider_server import SENDGRID_PATH as SENDGRID_API
from tests.fakes.provider_server import FakeProviderServer

PUBLIC_CALLBACK = "https://shop.example/api/v1/webhooks/twilio"

pytestmark = pytest.mark.usefixtures("no_proxy")


class SendGridSigner:
    """A real ECDSA P-256 key pair, as SendGrid's signed Event Webhook uses."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(der).decode()

    def headers(self, payload: bytes, timestamp: str | None = None) -> dict[str, str]:
        timestamp = timestamp or str(int(time.time()))
        signature = self._key.sign(timestamp.encode() + payload, ec.ECDSA(hashes.SHA256()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
            "Content-Type": "application/json",
        }


@pytest.fixture
def signer(monkeypatch) -> SendGridSigner:
    made = SendGridSigner()
    monkeypatch.setenv("SENDGRID_WEBHOOK_PUBLIC_KEY", made.public_key)
    return made


@pytest.fixture
def client(db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.delenv("TWILIO_STATUS_CALLBACK_URL", raising=False)
    with TestClient(Starlette(routes=ROUTES)) as test_client:
        yield test_client


@pytest.fixture
def sent_email(db):
    """An order whose 'received' e-mail SendGrid accepted as message id 'sg-msg-1'."""
    add_catalogue(db)
    with FakeProviderServer() as fake:
        fake.script(SENDGRID_API, [(202, {"X-Message-Id": "sg-msg-1"}, None)])
        change = orders.create_order(db, order=order_data(), actor="staff")
        Dispatcher(db, providers_for(fake.url)).run_once()
    return change.order_id


@pytest.fixture
def sent_sms(db):
    add_catalogue(db)
    with FakeProviderServer() as fake:
        change = orders.create_order(db, order=order_data(customer=SMS_CUSTOMER), actor="staff")
        Dispatcher(db, providers_for(fake.url)).run_once()
    return change.order_id


def only_row(db) -> Notification:
    with db.reading() as session:
        return session.scalars(select(Notification)).one()


def notes(db) -> list[str]:
    with db.reading() as session:
        query = select(OrderEvent.detail).where(OrderEvent.kind == "notification")
        return list(session.scalars(query))


def events_body(*events: dict) -> bytes:
    return json.dumps(list(events)).encode()


def sendgrid_event(kind: str, **extra) -> dict:
    return {
        "email": "ada@example.com",
        "event": kind,
        "sg_event_id": f"evt-{kind}",
        "sg_message_id": "sg-msg-1.filterdrecv-5645d9c87f-6r2ch-1-5D2D1C9E-2B.0",
        "timestamp": int(time.time()),
        **extra,
    }


# ---- SendGrid --------------------------------------------------------------------------------


def test_a_signed_delivered_event_marks_the_email_delivered(db, client, signer, sent_email):
    payload = events_body(sendgrid_event("processed"), sendgrid_event("delivered"))

    response = client.post(SENDGRID_PATH, content=payload, headers=signer.headers(payload))

    assert response.status_code == 200
    assert response.json() == {"received": 2, "updated": 1}
    assert only_row(db).status is NotificationStatus.DELIVERED


def test_an_event_signed_with_another_key_is_refused_and_changes_nothing(
    db, client, signer, sent_email
):
    payload = events_body(sendgrid_event("bounce", reason="550 no such user"))
    forged = SendGridSigner().headers(payload)

    response = client.post(SENDGRID_PATH, content=payload, headers=forged)

    assert response.status_code == 403
    assert only_row(db).status is NotificationStatus.SENT


def test_a_body_changed_after_signing_is_refused(db, client, signer, sent_email):
    signed = events_body(sendgrid_event("delivered"))
    tampered = events_body(sendgrid_event("bounce"))

    response = client.post(SENDGRID_PATH, content=tampered, headers=signer.headers(signed))

    assert response.status_code == 403
    assert only_row(db).status is NotificationStatus.SENT


def test_an_unsigned_event_is_refused(db, client, signer, sent_email):
    payload = events_body(sendgrid_event("delivered"))

    response = client.post(SENDGRID_PATH, content=payload)

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_a_bounce_is_recorded_on_the_row_and_the_order_once_however_often_it_arrives(
    db, client, signer, sent_email
):
    payload = events_body(sendgrid_event("bounce", reason="550 5.1.1 no such user"))

    first = client.post(SENDGRID_PATH, content=payload, headers=signer.headers(payload))
    again = client.post(SENDGRID_PATH, content=payload, headers=signer.headers(payload))

    assert (first.json()["updated"], again.json()["updated"]) == (1, 0)
    row = only_row(db)
    assert (row.status, row.last_error) == (NotificationStatus.BOUNCED, "550 5.1.1 no such user")
    assert notes(db) == [
        "The “order received” e-mail to ada@example.com bounced: 550 5.1.1 no such user."
    ]


def test_a_late_delivered_event_does_not_undo_a_bounce(db, client, signer, sent_email):
    bounce = events_body(sendgrid_event("bounce"))
    delivered = events_body(sendgrid_event("delivered"))
    client.post(SENDGRID_PATH, content=bounce, headers=signer.headers(bounce))
    client.post(SENDGRID_PATH, content=delivered, headers=signer.headers(delivered))

    assert only_row(db).status is NotificationStatus.BOUNCED


def test_an_uncertain_email_is_resolved_by_its_reference_when_no_id_was_recorded(
    db, client, signer
):
    add_catalogue(db)
    orders.create_order(db, order=order_data(), actor="staff")
    with FakeProviderServer(hang_seconds=2) as slow:
        Dispatcher(db, providers_for(slow.url, timeout=0.2)).run_once()
    row = only_row(db)
    assert (row.status, row.provider_id) == (NotificationStatus.UNCERTAIN, None)
    event = sendgrid_event("delivered", notification_ref=row.dedupe_key, sg_message_id="late-1.x")
    payload = events_body(event)

    client.post(SENDGRID_PATH, content=payload, headers=signer.headers(payload))

    row = only_row(db)
    assert (row.status, row.provider_id) == (NotificationStatus.DELIVERED, "late-1")


def test_a_malformed_public_key_refuses_the_event_instead_of_failing(
    db, client, signer, monkeypatch, sent_email
):
    monkeypatch.setenv("SENDGRID_WEBHOOK_PUBLIC_KEY", "not a key")
    payload = events_body(sendgrid_event("delivered"))

    response = client.post(SENDGRID_PATH, content=payload, headers=signer.headers(payload))

    assert response.status_code == 403


def test_the_sendgrid_webhook_says_so_when_its_key_is_not_configured(
    db, client, monkeypatch, sent_email
):
    monkeypatch.delenv("SENDGRID_WEBHOOK_PUBLIC_KEY", raising=False)
    monkeypatch.setattr("config.secret", lambda name, section=None: None)
    response = client.post(SENDGRID_PATH, content=b"[]")
    assert response.status_code == 503


def test_a_signed_batch_nested_absurdly_deep_is_a_bad_request_not_a_crash(
    db, client, signer, sent_email
):
    payload = b"[" * 100_000 + b"]" * 100_000

    response = client.post(SENDGRID_PATH, content=payload, headers=signer.headers(payload))

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert only_row(db).status is NotificationStatus.SENT


@pytest.mark.parametrize("age", [11 * 60, -11 * 60], ids=["stale", "from-the-future"])
def test_a_signed_batch_outside_the_freshness_window_is_refused_and_applies_nothing(
    db, client, signer, sent_email, age
):
    # A captured request replayed later: the signature is good, the timestamp is not.
    payload = events_body(sendgrid_event("bounce", reason="550 no such user"))
    headers = signer.headers(payload, timestamp=str(int(time.time()) - age))

    response = client.post(SENDGRID_PATH, content=payload, headers=headers)

    assert response.status_code == 403
    assert only_row(db).status is NotificationStatus.SENT


def test_a_signed_batch_a_few_minutes_old_is_still_accepted(db, client, signer, sent_email):
    payload = events_body(sendgrid_event("delivered"))
    headers = signer.headers(payload, timestamp=str(int(time.time()) - 5 * 60))

    response = client.post(SENDGRID_PATH, content=payload, headers=headers)

    assert response.status_code == 200
    assert only_row(db).status is NotificationStatus.DELIVERED


# ---- Twilio ----------------------------------------------------------------------------------


def twilio_callback(client, url: str, form: dict[str, str], *, sign_url: str | None = None):
    signature = RequestValidator(AUTH_TOKEN).compute_signature(sign_url or url, form)
    return client.post(url, data=form, headers={"X-Twilio-Signature": signature})


def callback_form(row: Notification, status: str, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": row.provider_id or "",
        "MessageStatus": status,
        "To": row.recipient,
        "AccountSid": "AC" + "1" * 32,
        **extra,
    }


def test_a_signed_twilio_delivered_callback_marks_the_text_delivered(db, client, sent_sms):
    row = only_row(db)
    url = f"http://testserver{TWILIO_PATH}?ref={row.dedupe_key}"

    response = twilio_callback(client, url, callback_form(row, "delivered"))

    assert response.status_code == 204
    assert only_row(db).status is NotificationStatus.DELIVERED


def test_a_twilio_callback_with_a_forged_signature_is_refused(db, client, sent_sms):
    row = only_row(db)
    url = f"http://testserver{TWILIO_PATH}?ref={row.dedupe_key}"
    form = callback_form(row, "undelivered")
    forged = RequestValidator("not-the-token").compute_signature(url, form)

    response = client.post(url, data=form, headers={"X-Twilio-Signature": forged})

    assert response.status_code == 403
    assert only_row(db).status is NotificationStatus.SENT


def test_a_twilio_callback_signed_for_other_values_is_refused(db, client, sent_sms):
    row = only_row(db)
    url = f"http://testserver{TWILIO_PATH}"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, callback_form(row, "sent"))

    response = client.post(
        url, data=callback_form(row, "undelivered"), headers={"X-Twilio-Signature": signature}
    )

    assert response.status_code == 403


def test_an_undelivered_text_after_stop_opts_the_customer_out(db, client, sent_sms):
    row = only_row(db)
    url = f"http://testserver{TWILIO_PATH}?ref={row.dedupe_key}"

    twilio_callback(client, url, callback_form(row, "undelivered", ErrorCode="21610"))
    twilio_callback(client, url, callback_form(row, "undelivered", ErrorCode="21610"))

    assert only_row(db).status is NotificationStatus.UNDELIVERED
    with db.reading() as session:
        assert session.scalar(select(Contact.sms_opt_out)) is True
    assert len(notes(db)) == 2  # not delivered + opted out, each once


def test_a_callback_signed_for_the_public_url_is_accepted_behind_a_proxy(
    db, client, monkeypatch, sent_sms
):
    monkeypatch.setenv("TWILIO_STATUS_CALLBACK_URL", PUBLIC_CALLBACK)
    row = only_row(db)
    query = f"?ref={row.dedupe_key}"

    response = twilio_callback(
        client,
        f"http://testserver{TWILIO_PATH}{query}",
        callback_form(row, "delivered"),
        sign_url=PUBLIC_CALLBACK + query,
    )

    assert response.status_code == 204
    assert only_row(db).status is NotificationStatus.DELIVERED


def test_a_twilio_callback_bigger_than_twilio_sends_is_refused_unread(db, client):
    response = client.post(
        TWILIO_PATH,
        content=b"a=" + b"x" * (16 * 1024),
        headers={"X-Twilio-Signature": "sig", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


def test_a_twilio_callback_of_too_many_fields_is_a_bad_request(db, client):
    response = client.post(
        TWILIO_PATH,
        content=b"=&" * 200,
        headers={"X-Twilio-Signature": "sig", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize("path", [TWILIO_PATH, SENDGRID_PATH])
def test_a_webhook_without_its_signature_header_is_refused_before_its_size_matters(
    db, client, signer, path
):
    response = client.post(path, content=b"=&" * (3 * 1024 * 1024))
    assert response.status_code == 403
