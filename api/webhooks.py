"""Delivery receipts from the providers: SendGrid's Event Webhook and Twilio's status callback.

    POST /api/v1/webhooks/sendgrid   signed with ECDSA; key in SENDGRID_WEBHOOK_PUBLIC_KEY
    POST /api/v1/webhooks/twilio     signed with X-Twilio-Signature; key is TWILIO_AUTH_TOKEN

Both refuse unsigned or forged requests (403) and answer 503 while their key is not set,
so a misconfiguration is visible in the provider's webhook log rather than silently lost.
A SendGrid request whose signed timestamp is more than FRESHNESS from our clock is refused
too (403): its signature may be good, but it is a captured request replayed.
"""

from __future__ import annotations

import json
import logging
import time
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

SENDGRID_PATH = "/api/v1/webhooks/sendgrid"
TWILIO_PATH = "/api/v1/webhooks/twilio"
SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
MAX_BODY = 5 * 1024 * 1024  # SendGrid batches events; a few MB is plenty
FRESHNESS = 10 * 60  # seconds a signed SendGrid timestamp may be from now, either way


class BodyTooLarge(Exception):
    pass


def problem(status: int, title: str) -> JSONResponse:
    return JSONResponse(
        {"title": title, "status": status},
        status_code=status,
        media_type="application/problem+json",
    )


async def sendgrid_events(request: Request) -> Response:
    key = bootstrap.webhook_secret("SENDGRID_WEBHOOK_PUBLIC_KEY")
    if not key:
        return problem(503, "SendGrid event webhook is not configured")
    try:
        body = await _body(request)
    except BodyTooLarge:
        return problem(413, "Request body too large")
    signature, timestamp = request.headers.get(SIGNATURE, ""), request.headers.get(TIMESTAMP, "")
    if not verify_event_signature(key, body, signature, timestamp):
        log.warning("refused a SendGrid webhook with a missing or invalid signature")
        return problem(403, "Invalid signature")
    if not _fresh(timestamp):
        log.warning(
            "refused a SendGrid webhook signed at %r: outside the freshness window", timestamp
        )
        return problem(403, "Signed timestamp is too old or in the future")
    try:
        events = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return problem(400, "Body is not JSON")
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        return problem(400, "Body must be a JSON array of events")
    updated = await run_in_threadpool(
        record_reports, bootstrap.database(), sendgrid_reports(events)
    )
    return JSONResponse({"received": len(events), "updated": updated})


async def twilio_status(request: Request) -> Response:
    token = bootstrap.webhook_secret("TWILIO_AUTH_TOKEN")
    if not token:
        return problem(503, "Twilio status callback is not configured")
    try:
        body = await _body(request)
    except BodyTooLarge:
        return problem(413, "Request body too large")
    # Twilio posts application/x-www-form-urlencoded, one value per name.
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    signature = request.headers.get("X-Twilio-Signature", "")
    urls = _signed_urls(request)
    if not any(verify_request_signature(token, url, form, signature) for url in urls):
        log.warning("refused a Twilio status callback with a missing or invalid signature")
        return problem(403, "Invalid signature")
    report = twilio_report(form, reference=request.query_params.get("ref", ""))
    if report is not None:
        await run_in_threadpool(record_reports, bootstrap.database(), [report])
    return Response(status_code=204)


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


async def _body(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


ROUTES = [
    Route(SENDGRID_PATH, sendgrid_events, methods=["POST"]),
    Route(TWILIO_PATH, twilio_status, methods=["POST"]),
]
