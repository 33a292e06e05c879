"""TCP_NODELAY on the connection a request came in on.

Streamlit binds its listening socket itself as `socket.socket(family)`, whose `proto` is 0,
and asyncio only switches Nagle's algorithm off for sockets whose proto is IPPROTO_TCP. So
uvicorn's two writes per response (head, then body) meet the client's delayed ACK on a
keep-alive connection: every JSON answer after the first waited 40 ms. Best effort — on a
server that does not expose its transport this way it does nothing.
"""

from __future__ import annotations

import socket

from starlette.requests import Request


def no_delay(request: Request) -> None:
    cycle = getattr(request.receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
