"""Delivery receipts from the providers: SendGrid's Event Webhook and Twilio's status callback.

    POST /api/v1/webhooks/sendgrid   signed with ECDSA; key in SENDGRID_WEBHOOK_PUBLIC_KEY
    POST /api/v1/webhooks/twilio     signed with X-Twilio-Signature; key is TWILIO_AUTH_TOKEN

Both refuse unsigned or forged requests (403) and answer 503 while their key is not set,
so a misconfiguration is visible in the provider's webhook log rather than silently lost.
A request without its signature header is refused before its body is read. Bodies are
capped at what the provider sends (413), and checking the signature and parsing the body
happen in a worker thread, never on the event loop.
A SendGrid request whose signed timestamp is more than FRESHNESS from our clock is refused
too (403): its signature may be good, but it is a captured request replayed.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import bootstrap
from notify.providers.sendgrid_email import verify_event_signature
from notify.providers.twilio_sms import verify_request_signature
from notify.receipts import record_reports, sendgrid_reports, twilio_report

log = logging.getLogger("product_orders.webhooks")
Handler = Callable[[Request], Awaitable[Response]]

SENDGRID_PATH = "/api/v1/webhooks/sendgrid"
TWILIO_PATH = "/api/v1/webhooks/twilio"
SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
TWILIO_SIGNATURE = "X-Twilio-Signature"
# SendGrid posts a batch every 30 s or once it reaches 768 KB, whichever comes first; the
# event that crosses 768 KB is at most a few KB more (custom args are capped at 10,000
# bytes). 2 MiB is over twice the largest batch SendGrid sends.
SENDGRID_MAX_BODY = 2 * 1024 * 1024
# A status callback is some 15-25 short fields, well under 2 KB.
TWILIO_MAX_BODY = 16 * 1024
TWILIO_MAX_FIELDS = 100
FRESHNESS = 10 * 60  # seconds a signed SendGrid timestamp may be from now, either way


class Refused(Exception):
    """A request to answer with a problem; raised anywhere under a `@refusals` handler."""

    def __init__(self, status: int, title: str) -> None:
        super().__init__(title)
        self.status = status
        self.title = title


def problem(status: int, title: str) -> JSONResponse:
    return JSONResponse(
        {"title": title, "status": status},
        status_code=status,
        media_type="application/problem+json",
    )


def refusals(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def answer(request: Request) -> Response:
        try:
            return await handler(request)
        except Refused as refused:
            return problem(refused.status, refused.title)

    return answer


@refusals
async def sendgrid_events(request: Request) -> Response:
    key = bootstrap.webhook_secret("SENDGRID_WEBHOOK_PUBLIC_KEY")
    if not key:
        return problem(503, "SendGrid event webhook is not configured")
    signature, timestamp = request.headers.get(SIGNATURE, ""), request.headers.get(TIMESTAMP, "")
    if not (signature and timestamp):  # refused before a byte of the body is read
        log.warning("refused a SendGrid webhook with a missing or invalid signature")
        return problem(403, "Invalid signature")
    if not _fresh(timestamp):
        log.warning(
            "refused a SendGrid webhook signed at %r: outside the freshness window", timestamp
        )
        return problem(403, "Signed timestamp is too old or in the future")
    body = await _body(request, SENDGRID_MAX_BODY)
    # Verifying and parsing a batch of up to 2 MiB is CPU work: off the event loop.
    events = await run_in_threadpool(_signed_events, key, body, signature, timestamp)
    updated = await run_in_threadpool(
        record_reports, bootstrap.database(), sendgrid_reports(events)
    )
    return JSONResponse({"received": len(events), "updated": updated})


def _signed_events(key: str, body: bytes, signature: str, timestamp: str) -> list[dict[str, Any]]:
    if not verify_event_signature(key, body, signature, timestamp):
        log.warning("refused a SendGrid webhook with a missing or invalid signature")
        raise Refused(403, "Invalid signature")
    try:
        events = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise Refused(400, "Body is not JSON") from None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise Refused(400, "Body must be a JSON array of events")
    return events


@refusals
async def twilio_status(request: Request) -> Response:
    token = bootstrap.webhook_secret("TWILIO_AUTH_TOKEN")
    if not token:
        return problem(503, "Twilio status callback is not configured")
    signature = request.headers.get(TWILIO_SIGNATURE, "")
    if not signature:  # refused before a byte of the body is read
        log.warning("refused a Twilio status callback with a missing or invalid signature")
        return problem(403, "Invalid signature")
    urls = _signed_urls(request)
    body = await _body(request, TWILIO_MAX_BODY)
    form = await run_in_threadpool(_signed_form, token, body, urls, signature)
    report = twilio_report(form, reference=request.query_params.get("ref", ""))
    if report is not None:
        await run_in_threadpool(record_reports, bootstrap.database(), [report])
    return Response(status_code=204)


def _signed_form(token: str, body: bytes, urls: list[str], signature: str) -> dict[str, str]:
    # Twilio posts application/x-www-form-urlencoded, one value per name.
    try:
        fields = parse_qsl(
            body.decode("utf-8", "replace"),
            keep_blank_values=True,
            max_num_fields=TWILIO_MAX_FIELDS,
        )
    except ValueError:  # more fields than any callback has
        raise Refused(400, "Too many form fields") from None
    form = dict(fields)
    if not any(verify_request_signature(token, url, form, signature) for url in urls):
        log.warning("refused a Twilio status callback with a missing or invalid signature")
        raise Refused(403, "Invalid signature")
    return form


def _fresh(timestamp: str) -> bool:
    """True when SendGrid's signed timestamp (Unix seconds) is within FRESHNESS of now."""
    try:
        signed_at = int(timestamp)
    except ValueError:
        return False
    return abs(time.time() - signed_at) <= FRESHNESS


def _signed_urls(request: Request) -> list[str]:
    """The URL Twilio signed: ours as configured (behind a proxy, the public one), or as seen."""
    seen = str(request.url)
    configured = bootstrap.webhook_secret("TWILIO_STATUS_CALLBACK_URL")
    if not configured:
        return [seen]
    public = urlsplit(configured)
    return [urlunsplit(public._replace(query=request.url.query, fragment="")), seen]


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large()  # refused before it is read
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # a missing or understated Content-Length
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> Refused:
    return Refused(413, "Request body too large")


ROUTES = [
    Route(SENDGRID_PATH, sendgrid_events, methods=["POST"]),
    Route(TWILIO_PATH, twilio_status, methods=["POST"]),
]
