"""Wiring for delivery tests: real providers pointed at the fake server, a clock to move."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from db.models import utc_now
from notify.providers import Provider, build_providers
from tests.fakes.provider_server import SENDGRID_PATH, FakeProviderServer, RecordedRequest

API_KEY = "SG.fakeKey123.fakeSecret456"
FROM_EMAIL = "shop@example.com"
ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "authtoken" + "7" * 23
FROM_NUMBER = "+15005550006"
STATUS_CALLBACK = "https://shop.example/api/v1/webhooks/twilio"


def provider_secrets(url: str) -> dict[str, str]:
    return {
        "SENDGRID_API_KEY": API_KEY,
        "SENDGRID_FROM_EMAIL": FROM_EMAIL,
        "SENDGRID_API_HOST": url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": url,
        "TWILIO_STATUS_CALLBACK_URL": STATUS_CALLBACK,
    }


def providers_for(url: str, *, timeout: float = 2.0) -> dict[str, Provider]:
    """The real SendGrid and Twilio adapters, sending to `url` instead of the internet."""
    return build_providers(provider_secrets(url).get, timeout=timeout)


def reference_of(request: RecordedRequest) -> str:
    """The notification's dedupe key, as each provider carries it."""
    if request.path.startswith(SENDGRID_PATH):
        return request.json["custom_args"]["notification_ref"]
    callback = urlsplit(request.form["StatusCallback"])
    return parse_qs(callback.query)["ref"][0]


def accepted_per_reference(server: FakeProviderServer) -> Counter[str]:
    """How many times each notification was accepted (answered 2xx) by the fake."""
    return Counter(reference_of(r) for r, status in server.answered if 200 <= status < 300)


def requests_per_reference(server: FakeProviderServer) -> Counter[str]:
    return Counter(reference_of(r) for r in server.requests)


class FakeClock:
    """utc_now that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
