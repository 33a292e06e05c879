"""After an OpenID sign-in the browser goes back to the page it asked for, and only there."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from api.sign_in_return import is_safe, page_asked_for, remembered


def headers(**values: str) -> Headers:
    return Headers(headers={name.replace("_", "-"): value for name, value in values.items()})


def test_the_page_the_browser_came_from_is_remembered():
    got = page_asked_for(headers(host="shop.example", referer="https://shop.example/products"))
    assert got == "/products"
    deep = "https://shop.example/?order=ORD-10042"
    assert page_asked_for(headers(host="shop.example", referer=deep)) is None  # the root
    link = "https://shop.example/orders?order=ORD-10042"
    assert page_asked_for(headers(host="shop.example", referer=link)) == "/orders?order=ORD-10042"


def test_another_sites_page_is_never_remembered():
    assert page_asked_for(headers(host="shop.example", referer="https://evil.example/x")) is None
    assert page_asked_for(headers(host="shop.example")) is None


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "/\\evil.example", "https://evil.example", "/a\r\nSet-Cookie: x=1",
     "/auth/login", "/oauth2callback", "", "/" + "a" * 3000],
)  # fmt: skip
def test_a_target_off_this_server_or_in_the_sign_in_routes_is_refused(target):
    assert not is_safe(target)
    assert remembered(headers(cookie=f"po_return_to={target}")) is None


def test_the_remembered_page_is_read_back_from_its_cookie():
    assert remembered(headers(cookie="a=1; po_return_to=/customers")) == "/customers"
