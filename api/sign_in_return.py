"""After an OpenID sign-in, back to the page that asked for it.

Streamlit's `/oauth2callback` always redirects to the app's root, so a member of staff who
opened `/products` or an `?order=ORD-…` link while signed out would land on Orders. On
`/auth/login` this remembers the page the browser came from (its same-origin Referer) in a
short-lived cookie, and turns the callback's redirect to the root into one to that page.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "po_return_to"
LIFETIME_S = 600  # long enough to sign in at the provider, short enough to be forgotten
LONGEST = 2000


class SignInReturn:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.endswith("/auth/login"):
            target = page_asked_for(Headers(scope=scope))
            if target:
                await self.app(scope, receive, with_cookie(send, target, LIFETIME_S))
                return
        elif path.endswith("/oauth2callback"):
            target = remembered(Headers(scope=scope))
            if target:
                await self.app(scope, receive, redirect_there(send, target))
                return
        await self.app(scope, receive, send)


def page_asked_for(headers: Headers) -> str | None:
    """The Referer's path and query, when it is a page of this same server."""
    referer = urlsplit(headers.get("referer", ""))
    if not referer.path or referer.netloc != headers.get("host", ""):
        return None
    target = referer.path + (f"?{referer.query}" if referer.query else "")
    return target if is_safe(target) and referer.path != "/" else None


def remembered(headers: Headers) -> str | None:
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(headers.get("cookie", ""))
    found = cookie.get(COOKIE)
    return found.value if found is not None and is_safe(found.value) else None


def is_safe(target: str) -> bool:
    # A path on this server only: never another host ("//evil", "/\\evil") nor the sign-in
    # routes themselves.
    return (
        0 < len(target) <= LONGEST
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ch in target for ch in '\r\n;, "')
        and "/auth/" not in target
        and "oauth2callback" not in target
    )


def with_cookie(send: Send, value: str, max_age: int) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers.append(
                "set-cookie", f"{COOKIE}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax"
            )
        await send(message)

    return sending


def redirect_there(send: Send, target: str) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] in (302, 303, 307):
            headers = MutableHeaders(scope=message)
            if urlsplit(headers.get("location", "")).path in ("", "/"):
                headers["location"] = target
            headers.append("set-cookie", f"{COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax")
        await send(message)

    return sending
