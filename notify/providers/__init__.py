"""Notification provider adapters: a tiny interface over SendGrid (email) and Twilio (SMS)."""

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal, Protocol

# "dry_run": only logged, never handed to a provider (the channel has no credentials).
Outcome = Literal["sent", "retry", "failed", "uncertain", "dry_run"]

SENDGRID_DEFAULT_HOST = "https://api.sendgrid.com"

logger = logging.getLogger("product_orders.notifications")


@dataclass(frozen=True)
class Attachment:
    """A file that goes with an e-mail (SMS never carries one)."""

    filename: str  # e.g. "invoice-INV-2026-00001.pdf"
    content: bytes
    mime_type: str = "application/pdf"


@dataclass(frozen=True)
class Message:
    channel: Literal["email", "sms"]
    to: str  # email address or E.164 phone
    subject: str  # email only ("" for sms)
    text: str  # plain text (email body or the SMS text)
    html: str = ""  # email only
    reply_to: str = ""  # email only, optional
    sender_name: str = ""  # display name for the From header, optional
    # Our notification id / dedupe key: SendGrid custom_args {"notification_ref": ...};
    # Twilio appends it to the status callback url as ?ref=...
    reference: str = ""
    attachments: tuple[Attachment, ...] = ()  # email only


@dataclass(frozen=True)
class Receipt:
    outcome: Outcome
    provider_id: str = ""  # SendGrid X-Message-Id header / Twilio message SID
    error: str = ""  # short human text, never containing secrets
    error_code: str = ""  # e.g. "429", "500", "21211", "connection", "timeout"
    retry_after_seconds: float | None = None  # from Retry-After / X-RateLimit-Reset when given
    opted_out: bool = False  # True for Twilio 21610 (recipient replied STOP)


class Provider(Protocol):
    channel: str
    dry_run: bool

    def send(self, message: Message) -> Receipt: ...


GetSecret = Callable[[str], str | None]


def build_providers(get_secret: GetSecret, *, timeout: float = 5.0) -> dict[str, Provider]:
    return {
        "email": _build_email(get_secret, timeout),
        "sms": _build_sms(get_secret, timeout),
    }


def _secret(get_secret: GetSecret, name: str) -> str | None:
    # Blank values in secrets.toml / env count as "not configured".
    value = get_secret(name)
    return (value.strip() or None) if value else None


def is_configured(get_secret: GetSecret, channel: str) -> bool:
    """Whether `channel` has the credentials to really send (else it runs in dry-run)."""
    names: list[tuple[str, ...]]
    if channel == "email":
        names = [("SENDGRID_API_KEY",), ("SENDGRID_FROM_EMAIL",)]
    else:
        sender = ("TWILIO_FROM_NUMBER", "TWILIO_MESSAGING_SERVICE_SID")
        names = [("TWILIO_ACCOUNT_SID",), ("TWILIO_AUTH_TOKEN",), sender]
    return all(any(_secret(get_secret, name) for name in either) for either in names)


def _build_email(get_secret: GetSecret, timeout: float) -> Provider:
    if not is_configured(get_secret, "email"):
        return _dry_run("email", "SENDGRID_API_KEY / SENDGRID_FROM_EMAIL not set")
    api_key = _secret(get_secret, "SENDGRID_API_KEY") or ""
    from_email = _secret(get_secret, "SENDGRID_FROM_EMAIL") or ""
    # Imported lazily so the interface (and dry-run mode) works without the SDK installed.
    from .sendgrid_email import SendGridEmailProvider

    return SendGridEmailProvider(
        api_key=api_key,
        from_email=from_email,
        host=_secret(get_secret, "SENDGRID_API_HOST") or SENDGRID_DEFAULT_HOST,
        timeout=timeout,
    )


def _build_sms(get_secret: GetSecret, timeout: float) -> Provider:
    if not is_configured(get_secret, "sms"):
        return _dry_run(
            "sms",
            "TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN / TWILIO_FROM_NUMBER"
            " (or TWILIO_MESSAGING_SERVICE_SID) not set",
        )
    from .twilio_sms import TwilioSmsProvider

    account_sid = _secret(get_secret, "TWILIO_ACCOUNT_SID") or ""
    auth_token = _secret(get_secret, "TWILIO_AUTH_TOKEN") or ""
    from_number = _secret(get_secret, "TWILIO_FROM_NUMBER")
    service_sid = _secret(get_secret, "TWILIO_MESSAGING_SERVICE_SID")
    return TwilioSmsProvider(
        account_sid=account_sid,
        auth_token=auth_token,
        from_number=from_number or "",
        messaging_service_sid=service_sid or "",
        api_base_url=_secret(get_secret, "TWILIO_API_BASE_URL") or "",
        status_callback=_secret(get_secret, "TWILIO_STATUS_CALLBACK_URL") or "",
        timeout=timeout,
    )


def _dry_run(channel: Literal["email", "sms"], reason: str) -> Provider:
    from .dry_run import DryRunProvider

    logger.info("%s notifications in dry-run mode: %s", channel, reason)
    return DryRunProvider(channel)


# --- helpers shared by the adapters ---


def outcome_for_status(status: int) -> Outcome:
    if 200 <= status < 300:
        return "sent"
    if status == 429 or status >= 500:
        return "retry"
    return "failed"


def retry_after_from_headers(
    headers: Mapping[str, str] | None, *, allow_reset_epoch: bool = False
) -> float | None:
    if headers is None:
        return None
    seconds = parse_retry_after(headers.get("Retry-After"))
    if seconds is None and allow_reset_epoch:
        seconds = seconds_until_epoch(headers.get("X-RateLimit-Reset"))
    return seconds


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    # RFC 9110 allows either delta-seconds or an HTTP-date.
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def seconds_until_epoch(value: str | None, *, now: float | None = None) -> float | None:
    if not value:
        return None
    try:
        reset_at = float(value.strip())
    except ValueError:
        return None
    return max(0.0, reset_at - (time.time() if now is None else now))


def redact(text: str, secrets: tuple[str, ...]) -> str:
    # Defence in depth: SDK messages can echo request details we never want in the DB or UI.
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def short_error(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
