"""Where the status links' two settings come from, and when there are no links."""

from __future__ import annotations

from typing import Any

import bootstrap


def lookup(env: dict[str, str], app: dict[str, str] | None = None):
    def secret_value(name: str, section: str | None) -> Any:
        return (app or {}).get(name) if section == "app" else env.get(name)

    return secret_value


def test_both_settings_from_the_environment_make_links():
    links = bootstrap.order_links(
        lookup({"PUBLIC_BASE_URL": "https://shop.example/", "ORDER_LINK_SECRET": "s"})
    )
    assert links is not None
    assert links.url_for(7).startswith("https://shop.example/o/")
    assert links.order_id_of(links.token_for(7)) == 7


def test_the_app_section_of_the_secrets_serves_too():
    app = {"public_base_url": "https://shop.example", "order_link_secret": "s"}
    assert bootstrap.order_links(lookup({}, app)) is not None


def test_a_missing_or_bad_setting_means_no_links_and_says_why():
    assert bootstrap.links_problem(lookup({})) == (
        "`PUBLIC_BASE_URL` and `ORDER_LINK_SECRET` are not set"
    )
    assert bootstrap.links_problem(lookup({"PUBLIC_BASE_URL": "https://x"})) == (
        "`ORDER_LINK_SECRET` is not set"
    )
    bad = lookup({"PUBLIC_BASE_URL": "shop.example", "ORDER_LINK_SECRET": "s"})
    assert "must start with https://" in (bootstrap.links_problem(bad) or "")
    assert bootstrap.order_links(bad) is None


def test_a_link_signed_with_another_secret_is_refused():
    first = bootstrap.order_links(
        lookup({"PUBLIC_BASE_URL": "https://x", "ORDER_LINK_SECRET": "a"})
    )
    second = bootstrap.order_links(
        lookup({"PUBLIC_BASE_URL": "https://x", "ORDER_LINK_SECRET": "b"})
    )
    assert first and second
    assert second.order_id_of(first.token_for(3)) is None
    assert first.order_id_of(first.token_for(True)) is None  # type: ignore[arg-type]
