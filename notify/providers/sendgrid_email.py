"""SendGrid v3 mail/send adapter. The only module that imports the sendgrid SDK."""

import base64
import http.client
import json
import urllib.error

from python_http_client.exceptions import HTTPError as SendGridHTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.mail import (
    Attachment,
    CustomArg,
    Disposition,
    FileContent,
    FileName,
    FileType,
    From,
    Mail,
    ReplyTo,
    To,
)
from sendgrid.helpers.mail.exceptions import SendGridException

from . import (
    SENDGRID_DEFAULT_HOST,
    Message,
    Receipt,
    logger,
    outcome_for_status,
    redact,
    retry_after_from_headers,
    short_error,
)


class SendGridEmailProvider:
    channel = "email"
    dry_run = False

    def __init__(
        self,
        *,
        api_key: str,
        from_email: str,
        host: str = SENDGRID_DEFAULT_HOST,
        timeout: float = 5.0,
    ) -> None:
        self._from_email = from_email
        self._secrets = (api_key,)
        self._client = SendGridAPIClient(api_key=api_key, host=host.rstrip("/"))
        # SendGridAPIClient takes no timeout, but python_http_client copies `.timeout` into
        # every chained sub-client and urllib applies it to the connect and to each read.
        self._client.client.timeout = timeout

    def send(self, message: Message) -> Receipt:
        try:
            mail = self._build_mail(message)
        except (SendGridException, TypeError, ValueError) as exc:
            # The helpers reject e.g. bodies that look like an API key; resending won't help.
            return Receipt("failed", error=self._clean(exc), error_code="invalid_message")
        try:
            response = self._client.send(mail)
        except Exception as exc:  # noqa: BLE001 - a send must never crash the dispatcher
            receipt = self._receipt_for_exception(exc)
            logger.warning("sendgrid send failed: %s %s", receipt.error_code, receipt.error)
            return receipt
        return Receipt("sent", provider_id=response.headers.get("X-Message-Id") or "")

    def _build_mail(self, message: Message) -> Mail:
        mail = Mail(
            from_email=From(self._from_email, message.sender_name or None),
            to_emails=To(message.to),
            subject=message.subject,
            plain_text_content=message.text,
            html_content=message.html or None,
        )
        if message.reply_to:
            mail.reply_to = ReplyTo(message.reply_to)
        if message.reference:
            mail.custom_arg = CustomArg("notification_ref", message.reference)
        for attached in message.attachments:
            mail.add_attachment(
                Attachment(
                    FileContent(base64.b64encode(attached.content).decode("ascii")),
                    FileName(attached.filename),
                    FileType(attached.mime_type),
                    Disposition("attachment"),
                )
            )
        return mail

    def _receipt_for_exception(self, exc: Exception) -> Receipt:
        # Order matters: URLError, TimeoutError and ConnectionError are all OSErrors.
        if isinstance(exc, SendGridHTTPError):
            return self._receipt_for_http_error(exc)
        if isinstance(exc, urllib.error.URLError):
            # urllib only wraps failures of connect + sending the request (refused, DNS,
            # connect timeout, TLS), so SendGrid never got a complete request.
            return Receipt("retry", error=self._clean(exc.reason), error_code="connection")
        if isinstance(exc, TimeoutError):
            # Raised unwrapped while waiting for/reading the response: the mail may be queued.
            return Receipt("uncertain", error="no response before timeout", error_code="timeout")
        if isinstance(exc, (ConnectionError, http.client.HTTPException)):
            # Connection dropped after the request went out (e.g. RemoteDisconnected).
            return Receipt("uncertain", error=self._clean(exc), error_code="connection_lost")
        return Receipt("retry", error=type(exc).__name__, error_code="unexpected")

    def _receipt_for_http_error(self, exc: SendGridHTTPError) -> Receipt:
        status = int(exc.status_code)
        outcome = outcome_for_status(status)
        retry_after = None
        if outcome == "retry":
            retry_after = retry_after_from_headers(exc.headers, allow_reset_epoch=status == 429)
        return Receipt(
            outcome,
            error=self._clean(_error_text(exc)),
            error_code=str(status),
            retry_after_seconds=retry_after,
        )

    def _clean(self, value: object) -> str:
        return short_error(redact(str(value) or type(value).__name__, self._secrets))


def _error_text(exc: SendGridHTTPError) -> str:
    # SendGrid errors look like {"errors": [{"message": "...", "field": "...", ...}]}.
    body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else str(exc.body)
    try:
        errors = json.loads(body).get("errors") or []
        message = errors[0].get("message")
    except (ValueError, AttributeError, IndexError, TypeError):
        message = None
    return message or body.strip() or f"HTTP {exc.status_code} {exc.reason}"


def verify_event_signature(public_key: str, payload: bytes, signature: str, timestamp: str) -> bool:
    """True when SendGrid's Event Webhook signed `timestamp + payload` with this key.

    `public_key` is the verification key from SendGrid's Mail Settings: base64 DER, with or
    without the PEM armour lines.
    """
    if not (public_key and signature and timestamp):
        return False
    try:
        verifier = EventWebhook(_bare_key(public_key))
        return bool(verifier.verify_signature(payload.decode("utf-8"), signature, timestamp))
    except Exception:  # noqa: BLE001 - a malformed key, signature or body is simply not valid
        return False


def _bare_key(key: str) -> str:
    lines = [line.strip() for line in key.strip().splitlines()]
    return "".join(line for line in lines if line and not line.startswith("-----"))
