"""Fake SendGrid + Twilio HTTP API for tests: records requests, serves scripted responses."""

from __future__ import annotations

import json
import random
import re
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

SENDGRID_PATH = "/v3/mail/send"
TWILIO_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")

# Scripted entry that closes the connection after reading the request, without any response.
DROP = "drop"

Body = bytes | str | Mapping[str, Any] | list[Any] | None
ScriptedResponse = tuple[int, Mapping[str, str], Body] | str


class Headers(dict[str, str]):
    """Request headers keyed by lower-case name, so lookups ignore case like HTTP does."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__((k.lower(), v) for k, v in items)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: Headers
    body: bytes
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)


class FakeProviderServer:
    def __init__(
        self,
        *,
        failure_rate: float = 0.0,
        seed: int = 0,
        hang_seconds: float = 0.0,
    ) -> None:
        self.failure_rate = failure_rate
        self.hang_seconds = hang_seconds
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._answers: list[tuple[RecordedRequest, int]] = []
        self._scripts: dict[str, list[ScriptedResponse]] = {}
        # Set on stop() so handlers sleeping in hang_seconds wake up instead of outliving the test.
        self._stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _make_handler(self))
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def answered(self) -> list[tuple[RecordedRequest, int]]:
        """Each request with the status it was answered with (0 for a dropped connection)."""
        with self._lock:
            return list(self._answers)

    def script(self, path_prefix: str, responses: Iterable[ScriptedResponse]) -> None:
        with self._lock:
            self._scripts.setdefault(path_prefix, []).extend(responses)

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-provider-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- called from handler threads ---

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _record_answer(self, request: RecordedRequest, status: int) -> None:
        with self._lock:
            self._answers.append((request, status))

    def _hang(self) -> None:
        if self.hang_seconds > 0:
            self._stopping.wait(self.hang_seconds)

    def _next_scripted(self, path: str) -> ScriptedResponse | None:
        with self._lock:
            # Longest prefix wins so a specific script can override a broad one.
            for prefix in sorted(self._scripts, key=len, reverse=True):
                queue = self._scripts[prefix]
                if path.startswith(prefix) and queue:
                    return queue.pop(0)
        return None

    def _should_inject_failure(self) -> bool:
        with self._lock:
            return self.failure_rate > 0 and self._random.random() < self.failure_rate

    def _respond(self, request: RecordedRequest) -> ScriptedResponse:
        scripted = self._next_scripted(request.path)
        if scripted is not None:
            return scripted
        if self._should_inject_failure():
            return _injected_failure(request.path)
        return _default_response(request)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out close their socket; the late write failing is expected noise.
        pass


def _make_handler(server: FakeProviderServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self._handle()

        def do_GET(self) -> None:
            self._handle()

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            request = self._read_request()
            server._record(request)
            server._hang()
            response = server._respond(request)
            if response == DROP:
                server._record_answer(request, 0)
                self.close_connection = True
                return
            assert not isinstance(response, str)
            server._record_answer(request, response[0])
            self._write(*response)

        def _read_request(self) -> RecordedRequest:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            return RecordedRequest(
                method=self.command,
                path=parts.path,
                query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                headers=Headers(self.headers.items()),
                body=body,
                json=_parse_json(body, self.headers.get("Content-Type", "")),
                form=_parse_form(body, self.headers.get("Content-Type", "")),
            )

        def _write(self, status: int, headers: Mapping[str, str], body: Body) -> None:
            payload, content_type = _encode_body(body)
            self.send_response(status)
            if content_type and not any(k.lower() == "content-type" for k in headers):
                self.send_header("Content-Type", content_type)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


def _parse_json(body: bytes, content_type: str) -> Any:
    if "json" not in content_type or not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _parse_form(body: bytes, content_type: str) -> dict[str, str]:
    if "x-www-form-urlencoded" not in content_type:
        return {}
    return {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}


def _encode_body(body: Body) -> tuple[bytes, str]:
    if body is None:
        return b"", ""
    if isinstance(body, bytes):
        return body, "application/octet-stream"
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    return json.dumps(body).encode(), "application/json"


def _injected_failure(path: str) -> ScriptedResponse:
    if path.startswith(SENDGRID_PATH):
        return 500, {}, {"errors": [{"message": "injected failure", "field": None}]}
    return 500, {}, {"code": 20500, "message": "injected failure", "status": 500}


def _default_response(request: RecordedRequest) -> ScriptedResponse:
    if request.path.startswith(SENDGRID_PATH):
        return 202, {"X-Message-Id": uuid.uuid4().hex[:22]}, None
    match = TWILIO_MESSAGES.match(request.path)
    if match:
        return 201, {}, twilio_message_json(match["sid"], request.form)
    return 404, {}, {"code": 20404, "message": "not found", "status": 404}


def twilio_message_json(account_sid: str, form: Mapping[str, str]) -> dict[str, Any]:
    sid = "SM" + uuid.uuid4().hex
    now = formatdate(usegmt=True)
    return {
        "sid": sid,
        "account_sid": account_sid,
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "to": form.get("To"),
        "from": form.get("From"),
        "body": form.get("Body"),
        "status": "queued",
        "direction": "outbound-api",
        "num_segments": "1",
        "num_media": "0",
        "price": None,
        "price_unit": "USD",
        "error_code": None,
        "error_message": None,
        "api_version": "2010-04-01",
        "date_created": now,
        "date_updated": now,
        "date_sent": None,
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media.json"
        },
    }
