"""Real SendGrid / Twilio SDKs against a local fake API (127.0.0.1 only, never the internet)."""

import base64
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from notify.providers import (
    Attachment,
    Message,
    Receipt,
    build_providers,
    parse_retry_after,
    seconds_until_epoch,
)
from notify.providers.dry_run import DryRunProvider
from notify.providers.sendgrid_email import SendGridEmailProvider
from notify.providers.twilio_sms import TwilioSmsProvider
from tests.fakes.provider_server import DROP, SENDGRID_PATH, FakeProviderServer

API_KEY = "SG.fakeKey123.fakeSecret456"
ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "authtoken" + "7" * 23
FROM_EMAIL = "shop@example.com"
FROM_NUMBER = "+15005550006"
TWILIO_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
HANG_TIMEOUT = 0.5

EMAIL = Message(
    channel="email",
    to="customer@example.org",
    subject="Order #1042 shipped",
    text="Your order is on its way.",
    html="<p>Your order is on its way.</p>",
    reply_to="help@example.com",
    sender_name="Corner Shop",
    reference="notif-1042",
)
SMS = Message(channel="sms", to="+15558675310", subject="", text="Order #1042 shipped")


pytestmark = pytest.mark.usefixtures("no_proxy")  # see tests/conftest.py


@pytest.fixture
def server() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as fake:
        yield fake


def sendgrid(url: str, timeout: float = 2.0) -> SendGridEmailProvider:
    return SendGridEmailProvider(api_key=API_KEY, from_email=FROM_EMAIL, host=url, timeout=timeout)


def twilio(url: str, timeout: float = 2.0, **overrides: str) -> TwilioSmsProvider:
    options = {"from_number": FROM_NUMBER, **overrides}
    return TwilioSmsProvider(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        api_base_url=url,
        timeout=timeout,
        **options,
    )


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def twilio_error(status: int, code: int, message: str) -> tuple[int, dict[str, str], dict]:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return status, {}, body


def assert_no_secrets(receipt: Receipt) -> None:
    for secret in (API_KEY, AUTH_TOKEN, "fakeSecret456"):
        assert secret not in receipt.error


# --- SendGrid ---


def test_sendgrid_posts_mail_send_with_bearer_key_recipient_and_body(server):
    sendgrid(server.url).send(EMAIL)

    (request,) = server.requests
    assert (request.method, request.path) == ("POST", SENDGRID_PATH)
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.json["personalizations"][0]["to"][0]["email"] == "customer@example.org"
    assert request.json["from"] == {"email": FROM_EMAIL, "name": "Corner Shop"}
    assert request.json["reply_to"] == {"email": "help@example.com"}
    assert request.json["subject"] == "Order #1042 shipped"
    assert request.json["content"] == [
        {"type": "text/plain", "value": "Your order is on its way."},
        {"type": "text/html", "value": "<p>Your order is on its way.</p>"},
    ]
    assert request.json["custom_args"] == {"notification_ref": "notif-1042"}


def test_sendgrid_leaves_out_html_reply_to_name_and_custom_args_when_not_given(server):
    plain = Message(channel="email", to="a@example.org", subject="Hi", text="plain only")
    sendgrid(server.url).send(plain)

    body = server.requests[0].json
    assert body["content"] == [{"type": "text/plain", "value": "plain only"}]
    assert body["from"] == {"email": FROM_EMAIL}
    assert "reply_to" not in body
    assert "custom_args" not in body


def test_sendgrid_sends_attachments_as_base64_files_with_their_name_type_and_disposition(
    server,
):
    pdf = b"%PDF-1.4 not really\n"
    attached = Attachment("invoice-INV-2026-00001.pdf", pdf)
    sendgrid(server.url).send(replace(EMAIL, attachments=(attached,)))

    assert server.requests[0].json["attachments"] == [
        {
            "content": base64.b64encode(pdf).decode("ascii"),
            "filename": "invoice-INV-2026-00001.pdf",
            "type": "application/pdf",
            "disposition": "attachment",
        }
    ]


def test_sendgrid_202_is_sent_with_the_x_message_id(server):
    server.script(SENDGRID_PATH, [(202, {"X-Message-Id": "abc123XYZ"}, None)])

    assert sendgrid(server.url).send(EMAIL) == Receipt("sent", provider_id="abc123XYZ")


def test_sendgrid_429_with_retry_after_is_retry_with_that_delay(server):
    server.script(SENDGRID_PATH, [(429, {"Retry-After": "7"}, {"errors": [{"message": "slow"}]})])

    receipt = sendgrid(server.url).send(EMAIL)

    assert (receipt.outcome, receipt.error_code) == ("retry", "429")
    assert receipt.retry_after_seconds == 7


def test_sendgrid_429_with_rate_limit_reset_waits_until_the_reset(server):
    reset_at = str(int(time.time()) + 30)
    server.script(SENDGRID_PATH, [(429, {"X-RateLimit-Reset": reset_at}, {"errors": []})])

    receipt = sendgrid(server.url).send(EMAIL)

    assert receipt.outcome == "retry"
    assert 28 <= receipt.retry_after_seconds <= 30


def test_sendgrid_500_is_retry(server):
    server.script(SENDGRID_PATH, [(500, {}, {"errors": [{"message": "internal error"}]})])

    receipt = sendgrid(server.url).send(EMAIL)

    assert receipt == Receipt("retry", error="internal error", error_code="500")


def test_sendgrid_400_is_failed_with_the_body_message(server):
    body = {"errors": [{"message": "Does not contain a valid address.", "field": "to.email"}]}
    server.script(SENDGRID_PATH, [(400, {}, body)])

    receipt = sendgrid(server.url).send(EMAIL)

    assert receipt == Receipt("failed", error="Does not contain a valid address.", error_code="400")


def test_sendgrid_connection_refused_is_retry_with_connection_code():
    receipt = sendgrid(closed_port_url()).send(EMAIL)

    assert (receipt.outcome, receipt.error_code) == ("retry", "connection")


def test_sendgrid_server_hanging_past_the_timeout_is_uncertain_and_returns_promptly():
    with FakeProviderServer(hang_seconds=5) as slow:
        started = time.monotonic()
        receipt = sendgrid(slow.url, timeout=HANG_TIMEOUT).send(EMAIL)
        elapsed = time.monotonic() - started

        assert len(slow.requests) == 1  # it did reach the provider
    assert (receipt.outcome, receipt.error_code) == ("uncertain", "timeout")
    assert elapsed < HANG_TIMEOUT + 1


def test_sendgrid_connection_dropped_after_the_request_is_uncertain(server):
    server.script(SENDGRID_PATH, [DROP])

    receipt = sendgrid(server.url).send(EMAIL)

    assert (receipt.outcome, receipt.error_code) == ("uncertain", "connection_lost")


def test_sendgrid_body_that_looks_like_an_api_key_fails_without_a_request(server):
    leaky = Message(channel="email", to="a@example.org", subject="Hi", text=API_KEY)

    receipt = sendgrid(server.url).send(leaky)

    assert (receipt.outcome, receipt.error_code) == ("failed", "invalid_message")
    assert server.requests == []


@pytest.mark.parametrize("status", [400, 401, 500])
def test_sendgrid_error_text_never_contains_the_api_key(server, status):
    echo = {"errors": [{"message": f"bad header: Bearer {API_KEY}"}]}
    server.script(SENDGRID_PATH, [(status, {}, echo)])

    receipt = sendgrid(server.url).send(EMAIL)

    assert receipt.outcome in ("failed", "retry")
    assert_no_secrets(receipt)


# --- Twilio ---


def test_twilio_posts_messages_json_with_basic_auth_recipient_and_body(server):
    twilio(server.url).send(SMS)

    (request,) = server.requests
    assert (request.method, request.path) == ("POST", TWILIO_PATH)
    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert request.form == {"To": "+15558675310", "From": FROM_NUMBER, "Body": SMS.text}


def test_twilio_201_is_sent_with_the_message_sid(server):
    receipt = twilio(server.url).send(SMS)

    assert receipt.outcome == "sent"
    assert receipt.provider_id.startswith("SM") and len(receipt.provider_id) == 34


def test_twilio_uses_the_messaging_service_when_there_is_no_from_number(server):
    twilio(server.url, from_number="", messaging_service_sid="MG" + "2" * 32).send(SMS)

    form = server.requests[0].form
    assert form["MessagingServiceSid"] == "MG" + "2" * 32
    assert "From" not in form


def test_twilio_status_callback_carries_the_reference(server):
    provider = twilio(server.url, status_callback="https://shop.example/twilio/status?v=1")
    provider.send(Message(channel="sms", to="+15558675310", subject="", text="x", reference="n-9"))

    callback = server.requests[0].form["StatusCallback"]
    assert callback == "https://shop.example/twilio/status?v=1&ref=n-9"


def test_twilio_keeps_a_path_prefix_of_the_base_url(server):
    twilio(server.url + "/twilio").send(SMS)

    assert server.requests[0].path == "/twilio" + TWILIO_PATH


def test_twilio_429_with_retry_after_is_retry_with_that_delay(server):
    status, _, body = twilio_error(429, 20429, "Too Many Requests")
    server.script(TWILIO_PATH, [(status, {"Retry-After": "3"}, body)])

    receipt = twilio(server.url).send(SMS)

    assert (receipt.outcome, receipt.error_code) == ("retry", "20429")
    assert receipt.retry_after_seconds == 3


def test_twilio_500_is_retry(server):
    server.script(TWILIO_PATH, [(500, {}, "Internal Server Error")])

    receipt = twilio(server.url).send(SMS)

    assert (receipt.outcome, receipt.error_code) == ("retry", "500")


@pytest.mark.parametrize(
    ("code", "message", "outcome", "opted_out"),
    [
        (21211, "The 'To' number +15558675310 is not a valid phone number.", "failed", False),
        (21614, "'To' number is not a valid mobile number", "failed", False),
        (21610, "Attempt to send to unsubscribed recipient", "failed", True),
        (20429, "Too Many Requests", "retry", False),
    ],
)
def test_twilio_error_codes_map_to_outcomes(server, code, message, outcome, opted_out):
    server.script(TWILIO_PATH, [twilio_error(400, code, message)])

    receipt = twilio(server.url).send(SMS)

    assert receipt == Receipt(outcome, error=message, error_code=str(code), opted_out=opted_out)


def test_twilio_connection_refused_is_retry_with_connection_code():
    receipt = twilio(closed_port_url()).send(SMS)

    assert (receipt.outcome, receipt.error_code) == ("retry", "connection")


def test_twilio_server_hanging_past_the_timeout_is_uncertain_and_returns_promptly():
    with FakeProviderServer(hang_seconds=5) as slow:
        started = time.monotonic()
        receipt = twilio(slow.url, timeout=HANG_TIMEOUT).send(SMS)
        elapsed = time.monotonic() - started

        assert len(slow.requests) == 1
    assert (receipt.outcome, receipt.error_code) == ("uncertain", "timeout")
    assert elapsed < HANG_TIMEOUT + 1


def test_twilio_connection_dropped_after_the_request_is_uncertain(server):
    server.script(TWILIO_PATH, [DROP])

    receipt = twilio(server.url).send(SMS)

    assert (receipt.outcome, receipt.error_code) == ("uncertain", "connection_lost")


@pytest.mark.parametrize("status", [400, 401, 500])
def test_twilio_error_text_never_contains_the_auth_token(server, status):
    server.script(TWILIO_PATH, [twilio_error(status, 20003, f"bad token {AUTH_TOKEN}")])

    receipt = twilio(server.url).send(SMS)

    assert receipt.outcome in ("failed", "retry")
    assert_no_secrets(receipt)


# --- fake server fault injection ---


def test_failure_rate_injects_500s_reproducibly_and_they_become_retries():
    def outcomes() -> list[str]:
        with FakeProviderServer(failure_rate=0.5, seed=42) as flaky:
            provider = sendgrid(flaky.url)
            return [provider.send(EMAIL).outcome for _ in range(12)]

    first = outcomes()
    assert set(first) == {"sent", "retry"}
    assert outcomes() == first


# --- factory and dry run ---


def secrets(**values: str):
    return lambda name: values.get(name)


def test_build_providers_picks_dry_run_without_credentials():
    providers = build_providers(secrets())

    assert isinstance(providers["email"], DryRunProvider)
    assert isinstance(providers["sms"], DryRunProvider)
    assert providers["email"].dry_run and providers["sms"].dry_run
    assert (providers["email"].channel, providers["sms"].channel) == ("email", "sms")


def test_build_providers_treats_blank_secrets_and_a_missing_sms_sender_as_not_configured():
    providers = build_providers(
        secrets(
            SENDGRID_API_KEY="  ",
            SENDGRID_FROM_EMAIL=FROM_EMAIL,
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        )
    )

    assert providers["email"].dry_run and providers["sms"].dry_run


def test_build_providers_picks_real_providers_that_send_to_the_configured_hosts(server):
    providers = build_providers(
        secrets(
            SENDGRID_API_KEY=API_KEY,
            SENDGRID_FROM_EMAIL=FROM_EMAIL,
            SENDGRID_API_HOST=server.url,
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            TWILIO_MESSAGING_SERVICE_SID="MG" + "3" * 32,
            TWILIO_API_BASE_URL=server.url,
            TWILIO_STATUS_CALLBACK_URL="https://shop.example/status",
        ),
        timeout=2.0,
    )

    assert isinstance(providers["email"], SendGridEmailProvider)
    assert isinstance(providers["sms"], TwilioSmsProvider)
    assert not providers["email"].dry_run and not providers["sms"].dry_run
    assert providers["email"].send(EMAIL).outcome == "sent"
    assert providers["sms"].send(SMS).outcome == "sent"
    assert [r.path for r in server.requests] == [SENDGRID_PATH, TWILIO_PATH]
    assert server.requests[1].form["StatusCallback"] == "https://shop.example/status"


def test_dry_run_send_returns_dry_run_not_sent_and_logs_the_message(caplog):
    caplog.set_level(logging.INFO, logger="product_orders.notifications")

    receipt = DryRunProvider("sms").send(SMS)

    assert receipt.outcome == "dry_run"
    assert receipt.provider_id.startswith("dry-run-")
    assert "+15558675310" in caplog.text and SMS.text in caplog.text


def test_dry_run_logs_the_names_of_the_attachments_not_their_content(caplog):
    caplog.set_level(logging.INFO, logger="product_orders.notifications")
    attached = Attachment("invoice-INV-2026-00001.pdf", b"%PDF-secret-bytes")

    DryRunProvider("email").send(replace(EMAIL, attachments=(attached,)))

    assert "invoice-INV-2026-00001.pdf" in caplog.text and "secret-bytes" not in caplog.text


# --- header parsing ---


def test_retry_after_accepts_seconds_and_http_dates_and_never_goes_negative():
    now = 1_700_000_000.0
    assert parse_retry_after("12", now=now) == 12
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:40 GMT", now=now) == 20
    assert parse_retry_after("garbage") is None
    assert seconds_until_epoch("1699999990", now=now) == 0
