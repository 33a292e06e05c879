"""The API switches Nagle's algorithm off on the connection a request came in on."""

from __future__ import annotations

import socket
from types import SimpleNamespace

from api.nodelay import no_delay


def request_on(sock: socket.socket | None) -> SimpleNamespace:
    # uvicorn's receive() is a method of the request cycle, which holds the transport.
    transport = SimpleNamespace(get_extra_info=lambda name: sock if name == "socket" else None)
    cycle = SimpleNamespace(transport=transport)
    return SimpleNamespace(receive=SimpleNamespace(__self__=cycle))


def test_the_connections_socket_gets_tcp_nodelay():
    # family only, proto 0: how Streamlit binds, which asyncio then leaves with Nagle on
    with socket.socket(socket.AF_INET) as sock:
        no_delay(request_on(sock))
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_a_server_that_hides_its_transport_is_left_alone():
    no_delay(SimpleNamespace(receive=lambda: None))
    no_delay(request_on(None))
