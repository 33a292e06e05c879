"""Hostile webhook requests must not stall everyone else: a real `streamlit run app.py`.

Twilio's callback was read up to 5 MiB and parsed and verified on the event loop, so one
request of millions of empty form fields held every other request for seconds.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from api.webhooks import SENDGRID_PATH, TWILIO_PATH
from tests.builders import order_data
from tests.e2e.conftest import Server, start_server, stop_server
from tests.fakes.notify import AUTH_TOKEN
from tests.integration.intake_support import TOKEN, own_database

HONEST_REQUESTS = 60
ATTACKERS = 3
ATTACKS_EACH = 10  # bounded: at most ATTACKERS * ATTACKS_EACH hostile requests
PACE = 0.5  # seconds between one attacker's requests: 6 hostile requests a second in all
FIELD_BOMB = b"=&" * (5 * 1024 * 1024 // 2)  # ~2.6 million empty form fields
SMALL_FIELD_BOMB = b"=&" * (16 * 1024 // 2)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder: Path = tmp_path_factory.mktemp("webhook-flood")
    with own_database("sqlite", folder, "unused") as db:
        running = start_server(
            db.url,
            folder / "streamlit.log",
            env={
                "INTAKE_API_TOKENS": TOKEN,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "SENDGRID_WEBHOOK_PUBLIC_KEY": "MFkwEwYH",
            },
        )
        try:
            yield running
        finally:
            stop_server(running)


def send(url: str, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> float:
    """Seconds until the whole answer came back (or the server hung up on the body)."""
    where = urlsplit(url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
    started = time.perf_counter()
    try:
        connection.request(method, path, body=body, headers=headers)
        connection.getresponse().read()
    except OSError:
        pass  # refused before the body was all sent: what a cap should do
    finally:
        connection.close()
    return time.perf_counter() - started


def place_order(url: str) -> float:
    """The honest client: the assistant placing an order, a new customer each time."""
    body = json.dumps(order_data(customer__email=f"{uuid.uuid4().hex}@example.com")).encode()
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {TOKEN}",
        "Idempotency-Key": uuid.uuid4().hex,
    }
    return send(url, "POST", "/api/v1/orders", body, headers)


def honest_times(url: str) -> list[float]:
    return [place_order(url) for _ in range(HONEST_REQUESTS)]


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1]


HOSTILE = [
    (TWILIO_PATH, FIELD_BOMB, {"X-Twilio-Signature": "forged"}),
    (TWILIO_PATH, SMALL_FIELD_BOMB * 40, {"X-Twilio-Signature": "forged"}),
    (TWILIO_PATH, FIELD_BOMB, {}),  # unsigned
    (SENDGRID_PATH, b"[" * (5 * 1024 * 1024), {"X-Twilio-Email-Event-Webhook-Signature": "x"}),
]


def test_hostile_webhook_bodies_do_not_stall_an_honest_client(server):
    for _ in range(5):  # warm up
        place_order(server.url)
    quiet_before = honest_times(server.url)
    done = threading.Event()

    def attack(offset: int) -> None:
        for n in range(ATTACKS_EACH):
            if done.is_set():
                return
            path, body, headers = HOSTILE[(offset + n) % len(HOSTILE)]
            content = {"Content-Type": "application/x-www-form-urlencoded", **headers}
            send(server.url, "POST", path, body, content)
            time.sleep(PACE)

    attackers = [threading.Thread(target=attack, args=(i,)) for i in range(ATTACKERS)]
    for thread in attackers:
        thread.start()
    try:
        time.sleep(0.3)  # let the first hostile bodies arrive
        under_attack = p95(honest_times(server.url))
    finally:
        done.set()
        for thread in attackers:
            thread.join(timeout=120)
    # Quiet both before and after, so load from elsewhere on a shared machine evens out.
    quiet = p95(quiet_before + honest_times(server.url))
    print(
        f"honest POST /api/v1/orders p95: quiet {quiet * 1000:.1f} ms, under attack "
        f"{under_attack * 1000:.1f} ms"
    )
    assert under_attack <= 2 * quiet, (quiet, under_attack)
