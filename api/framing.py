"""No page of ours may be framed by another site (clickjacking): headers on every response.

`st.App(middleware=...)` runs this before Streamlit's own middleware, so it covers the
dashboard's HTML and static files as well as our routes. `/component/` is left alone:
Streamlit serves custom components there to be framed by the dashboard itself.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}
FRAMED_BY_THE_DASHBOARD = "/component/"


class NoFraming:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(FRAMED_BY_THE_DASHBOARD):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
