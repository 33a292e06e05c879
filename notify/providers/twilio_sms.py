"""Twilio Programmable Messaging adapter. The only module that imports the twilio SDK."""

import threading
from typing import TypeAlias
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError, ReadTimeoutError

from . import (
    Message,
    Receipt,
    logger,
    outcome_for_status,
    redact,
    retry_after_from_headers,
    short_error,
)

OPTED_OUT = 21610  # recipient replied STOP
RATE_LIMITED = 20429

TwilioError: TypeAlias = TwilioRestException | TwilioServiceException


class RedirectingHttpClient(TwilioHttpClient):
    """Sends every request to `base_url` (scheme + host + optional path prefix) instead of
    api.twilio.com, and remembers the last response per thread because TwilioRestException
    drops the response headers (Retry-After)."""

    def __init__(self, *, base_url: str = "", timeout: float = 5.0) -> None:
        super().__init__(timeout=timeout)
        self._base = urlsplit(base_url.rstrip("/")) if base_url else None
        self._local = threading.local()

    @property
    def last_response(self) -> Response | None:
        return getattr(self._local, "last_response", None)

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        self._local.last_response = None
        response = super().request(
            method,
            self._rewrite(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
        self._local.last_response = response
        return response

    def _rewrite(self, url: str) -> str:
        if self._base is None:
            return url
        parts = urlsplit(url)
        path = self._base.path + parts.path
        return urlunsplit((self._base.scheme, self._base.netloc, path, parts.query, ""))


class TwilioSmsProvider:
    channel = "sms"
    dry_run = False

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str = "",
        messaging_service_sid: str = "",
        api_base_url: str = "",
        status_callback: str = "",
        timeout: float = 5.0,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError("need from_number or messaging_service_sid")
        sender_key = "from_" if from_number else "messaging_service_sid"
        self._sender = {sender_key: from_number or messaging_service_sid}
        self._status_callback = status_callback
        self._secrets = (auth_token,)
        # requests applies a float timeout to both the connect and each socket read.
        self._http = RedirectingHttpClient(base_url=api_base_url, timeout=timeout)
        self._client = Client(account_sid, auth_token, http_client=self._http)

    def send(self, message: Message) -> Receipt:
        try:
            created = self._client.messages.create(**self._create_kwargs(message))
        except Exception as exc:  # noqa: BLE001 - a send must never crash the dispatcher
            receipt = self._receipt_for_exception(exc)
            logger.warning("twilio send failed: %s %s", receipt.error_code, receipt.error)
            return receipt
        return Receipt("sent", provider_id=created.sid or "")

    def _create_kwargs(self, message: Message) -> dict[str, str]:
        kwargs = {"to": message.to, "body": message.text, **self._sender}
        if self._status_callback:
            kwargs["status_callback"] = _with_ref(self._status_callback, message.reference)
        return kwargs

    def _receipt_for_exception(self, exc: Exception) -> Receipt:
        if isinstance(exc, (TwilioRestException, TwilioServiceException)):
            return self._receipt_for_api_error(exc)
        if isinstance(exc, requests.exceptions.RequestException):
            return self._receipt_for_transport_error(exc)
        last = self._http.last_response
        if last is not None and 200 <= last.status_code < 300:
            # Twilio accepted the message but the body didn't parse; resending would duplicate.
            return Receipt("uncertain", error=type(exc).__name__, error_code="bad_response")
        return Receipt("retry", error=type(exc).__name__, error_code="unexpected")

    def _receipt_for_api_error(self, exc: TwilioError) -> Receipt:
        status = _as_int(exc.status, default=0)
        code = _as_int(exc.code, default=status)
        text = self._clean(_api_error_text(exc))
        if code == OPTED_OUT:
            return Receipt("failed", error=text, error_code=str(code), opted_out=True)
        outcome = "retry" if code == RATE_LIMITED else outcome_for_status(status)
        retry_after = None
        if outcome == "retry":
            retry_after = _retry_after(self._http.last_response)
        return Receipt(outcome, error=text, error_code=str(code), retry_after_seconds=retry_after)

    def _receipt_for_transport_error(self, exc: requests.exceptions.RequestException) -> Receipt:
        # ConnectTimeout subclasses both ConnectionError and Timeout, so test it first.
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return Receipt("retry", error="connect timeout", error_code="connection")
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return Receipt("uncertain", error="no response before timeout", error_code="timeout")
        if isinstance(exc, (requests.exceptions.SSLError, requests.exceptions.ProxyError)):
            return Receipt("retry", error=self._clean(exc), error_code="connection")
        if isinstance(exc, requests.exceptions.ConnectionError):
            return self._receipt_for_connection_error(exc)
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            return Receipt("uncertain", error=self._clean(exc), error_code="connection_lost")
        return Receipt("retry", error=type(exc).__name__, error_code="unexpected")

    def _receipt_for_connection_error(self, exc: requests.exceptions.ConnectionError) -> Receipt:
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        if isinstance(reason, NewConnectionError):
            # Refused / DNS failure (NameResolutionError subclasses NewConnectionError).
            return Receipt("retry", error="could not connect", error_code="connection")
        if isinstance(reason, ReadTimeoutError):
            # requests reports a timeout while reading the body as ConnectionError, not
            # ReadTimeout: the request was delivered, so this is a timeout like any other.
            return Receipt("uncertain", error="no response before timeout", error_code="timeout")
        # ProtocolError('Connection aborted.') etc.: the connection died after sending.
        return Receipt("uncertain", error=self._clean(reason or exc), error_code="connection_lost")

    def _clean(self, value: object) -> str:
        return short_error(redact(str(value) or type(value).__name__, self._secrets))


def _api_error_text(exc: TwilioError) -> str:
    if isinstance(exc, TwilioServiceException):
        return exc.detail or exc.title
    return exc.msg.removeprefix("Unable to create record: ")


def _retry_after(response: Response | None) -> float | None:
    return retry_after_from_headers(response.headers if response is not None else None)


def _as_int(value: object, *, default: int) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return default


def _with_ref(callback_url: str, reference: str) -> str:
    if not reference:
        return callback_url
    parts = urlsplit(callback_url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("ref", reference)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def verify_request_signature(
    auth_token: str, url: str, params: dict[str, str], signature: str
) -> bool:
    """True when `X-Twilio-Signature` matches this URL and form, signed with the auth token."""
    if not (auth_token and signature):
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))
