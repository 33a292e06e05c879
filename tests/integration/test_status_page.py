"""The customer's order page: a link from a real message opens it; nothing private shows.

Messages go through the real SendGrid / Twilio adapters to the local fake API, and the
link is taken from what reached it. The page is served by its Starlette route (TestClient)
on the `db` fixture's database, so each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from html import unescape
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

import bootstrap
from api import status_page
from db.database import Database
from db.models import Notification, Product
from domain.order import STATUS_COLOURS, OrderStatus, PaymentStatus
from notify.dispatch import Dispatcher
from notify.links import OrderLinks
from queries.orders import business_settings
from services import intake, notifications, orders
from services.settings import save_settings
from tests.builders import SMS_CUSTOMER, add_catalogue, order_data
from tests.e2e.conftest import start_server, stop_server
from tests.fakes.notify import providers_for
from tests.fakes.provider_server import SENDGRID_PATH, FakeProviderServer
from tests.integration.intake_support import TOKEN, Client, own_database

BASE = "https://shop.example"
LINK = re.compile(r"https://shop\.example/o/[A-Za-z0-9_.\-]+")
STREET, EMAIL, PHONE = "1 Main St", "ada@example.com", "+14155552671"

pytestmark = pytest.mark.usefixtures("no_proxy")  # see tests/conftest.py


class Site:
    """The status page's route on the test database, with links signed by `secret`."""

    def __init__(self, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.db = db
        self.links: OrderLinks | None = OrderLinks(BASE, "first-secret")
        monkeypatch.setattr(db, "status_link", self.links.url_for)
        monkeypatch.setattr(bootstrap, "database", lambda url=None: db)
        monkeypatch.setattr(bootstrap, "order_links", lambda *_: self.links)
        self.client = TestClient(Starlette(routes=status_page.ROUTES))

    def rotate(self, secret: str) -> None:
        self.links = OrderLinks(BASE, secret)

    def get(self, url: str):
        assert url.startswith(BASE)
        return self.client.get(url[len(BASE) :])


@pytest.fixture
def site(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    add_catalogue(db)
    status_page.reset_limits()
    yield Site(db, monkeypatch)
    status_page.reset_limits()


@pytest.fixture
def fake() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as server:
        yield server


def deliver(db: Database, fake: FakeProviderServer) -> None:
    Dispatcher(db, providers_for(fake.url)).run_once()


def sent_texts(fake: FakeProviderServer) -> list[str]:
    """Every message body that reached the fake: e-mail text and HTML, SMS body."""
    texts = []
    for request in fake.requests:
        if request.path.startswith(SENDGRID_PATH):
            texts += [part["value"] for part in request.json["content"]]
        else:
            texts.append(request.form["Body"])
    return texts


def link_in(text: str) -> str:
    found = LINK.search(unescape(text))
    assert found, f"no status link in {text!r}"
    return found.group(0)


def page_text(response) -> str:
    """What a reader sees: the body's text, without the head's style sheet."""
    body = response.text.split("<body>", 1)[1]
    return unescape(re.sub(r"<[^>]+>", " ", body))


def shipped_order(db: Database, **changes) -> int:
    change = orders.create_order(db, order=order_data(**changes), actor="Packer Pat")
    change = orders.confirm_order(
        db, order_id=change.order_id, expected_version=change.version, actor="Packer Pat"
    )
    change = orders.set_payment_status(
        db,
        order_id=change.order_id,
        expected_version=change.version,
        actor="Packer Pat",
        payment=PaymentStatus.PAID,
    )
    orders.add_note(db, order_id=change.order_id, actor="Packer Pat", text="VIP — fragile mug")
    orders.mark_shipped(
        db,
        order_id=change.order_id,
        expected_version=change.version,
        actor="Packer Pat",
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
        tracking_url="https://ups.example/track?n=1Z999AA10123456784",
    )
    return change.order_id


def test_the_link_in_an_email_opens_the_page_with_status_and_city_but_nothing_private(site, fake):
    order_id = shipped_order(site.db)
    deliver(site.db, fake)

    texts = sent_texts(fake)
    assert len(texts) == 2 * 3  # received, confirmed, shipped: text and HTML each
    links = {link_in(text) for text in texts}
    assert links == {site.links.url_for(order_id)}

    response = site.get(links.pop())
    assert response.status_code == 200
    shown = page_text(response)
    assert "Shipped" in shown and STATUS_COLOURS[OrderStatus.SHIPPED] in response.text
    assert "Springfield" in shown and "ORD-10001" in shown
    assert "Paid" in shown and "2 ×" in shown and "Earl Grey" in shown
    assert "UPS" in shown and "1Z999AA10123456784" in shown
    assert 'href="https://ups.example/track?n=1Z999AA10123456784"' in response.text
    for step in ("Order placed", "Confirmed", "Shipped"):
        assert step in shown
    for private in (STREET, "Apt 4", "62701", EMAIL, PHONE, "Ada", "Lovelace"):
        assert private not in response.text
    # Staff's side of the order never shows: notes, actors, internal events.
    for internal in ("VIP", "fragile", "Packer Pat", "system", "assistant", "note"):
        assert internal not in shown
    assert len(response.content) < 50_000
    assert "<script" not in response.text.lower()


def test_the_link_in_an_sms_opens_the_page_and_survives_a_long_message(site, fake):
    order_id = orders.create_order(
        site.db,
        order=order_data(customer=SMS_CUSTOMER, note="x"),
        actor="t",
    ).order_id
    orders.cancel_order(
        site.db, order_id=order_id, expected_version=None, actor="t", reason="y" * 400
    )
    deliver(site.db, fake)

    bodies = [r.form["Body"] for r in fake.requests]
    assert len(bodies) == 2 and all(len(body) <= 320 for body in bodies)
    assert all(body.endswith(" " + site.links.url_for(order_id)) for body in bodies)
    response = site.get(link_in(bodies[-1]))
    assert response.status_code == 200
    shown = page_text(response)
    assert "Cancelled" in shown and "Springfield" in shown
    assert "y" * 20 not in shown  # the reason staff typed stays on the dashboard
    assert "+14155552671" not in response.text and "grace@example.com" not in response.text


def test_a_changed_character_an_unknown_order_or_a_malformed_token_is_the_same_404(site):
    order_id = orders.create_order(site.db, order=order_data(), actor="t").order_id
    good = site.links.url_for(order_id)
    token = good.rsplit("/", 1)[1]
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    answers = [
        site.get(f"{BASE}/o/{flipped}"),
        site.get(site.links.url_for(order_id + 999)),  # signed, but no such order
        site.get(f"{BASE}/o/not-a-token"),
        site.get(f"{BASE}/o/{token.split('.')[0]}"),  # the id without its signature
        site.get(f"{BASE}/o/%C3%A9.%00"),
    ]
    assert [a.status_code for a in answers] == [404] * 5
    assert len({a.text for a in answers}) == 1
    assert "Order not found" in answers[0].text
    assert site.get(good).status_code == 200


def test_a_new_secret_invalidates_every_link_already_sent(site):
    order_id = orders.create_order(site.db, order=order_data(), actor="t").order_id
    old = site.links.url_for(order_id)
    site.rotate("second-secret")
    assert site.get(old).status_code == 404
    assert site.get(site.links.url_for(order_id)).status_code == 200


def test_without_links_configured_every_token_is_404(site):
    order_id = orders.create_order(site.db, order=order_data(), actor="t").order_id
    url = site.links.url_for(order_id)
    site.links = None
    assert site.get(url).status_code == 404


def test_a_hostile_shop_name_item_and_city_show_as_text(site):
    hostile = "<script>alert(1)</script> **bold** <b>x</b>"
    with site.db.writing() as session:
        product = session.query(Product).filter_by(sku="MUG-001").one()
        product.name = hostile
        session.commit()
    shop = replace(business_settings(site.db), business_name=hostile)
    save_settings(site.db, values=shop, actor="t")
    order_id = orders.create_order(
        site.db,
        order=order_data(
            items=[{"sku": "MUG-001", "quantity": 1}],
            shipping__city="<img src=x onerror=alert(1)>",
        ),
        actor="t",
    ).order_id
    response = site.get(site.links.url_for(order_id))
    assert response.status_code == 200
    assert "<script>" not in response.text and "<img" not in response.text
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; **bold** &lt;b&gt;x&lt;/b&gt;"
    assert response.text.count(escaped) >= 3  # title, shop name, item
    assert hostile in page_text(response)
    assert "&lt;img src=x onerror=alert(1)&gt;" in response.text


def test_the_page_is_not_cached_indexed_or_given_a_referer(site):
    order_id = orders.create_order(site.db, order=order_data(), actor="t").order_id
    for url in (site.links.url_for(order_id), f"{BASE}/o/nothing"):
        headers = site.get(url).headers
        assert headers["cache-control"] == "no-store"
        assert headers["x-robots-tag"] == "noindex"
        assert headers["referrer-policy"] == "no-referrer"
        assert "script-src" not in headers["content-security-policy"]
        assert "default-src 'none'" in headers["content-security-policy"]
        assert headers["content-type"].startswith("text/html")


def test_the_61st_lookup_in_a_minute_from_one_address_is_429(site):
    order_id = orders.create_order(site.db, order=order_data(), actor="t").order_id
    url = site.links.url_for(order_id)
    statuses = [site.get(url if i % 2 else f"{BASE}/o/guess{i}").status_code for i in range(60)]
    assert 429 not in statuses
    refused = site.get(url)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "60"
    assert refused.headers["cache-control"] == "no-store"
    assert "Too many requests" in refused.text


def test_without_public_base_url_messages_carry_no_link(site, fake, monkeypatch):
    monkeypatch.setattr(site.db, "status_link", None)
    order_id = orders.create_order(site.db, order=order_data(), actor="t").order_id
    orders.create_order(site.db, order=order_data(customer=SMS_CUSTOMER), actor="t")
    deliver(site.db, fake)
    texts = sent_texts(fake)
    assert len(texts) == 3  # e-mail text and HTML, one SMS
    assert not any("/o/" in text or "See your order" in text for text in texts)
    found = intake.order_status(site.db, lookup={"number": "ORD-10001", "email": EMAIL})
    assert found is not None and found.status_url is None
    assert order_id


def test_the_status_lookup_returns_the_link(site):
    order_id = orders.create_order(site.db, order=order_data(), actor="t").order_id
    found = intake.order_status(site.db, lookup={"number": "ORD-10001", "email": EMAIL})
    assert found is not None and found.status_url == site.links.url_for(order_id)
    assert site.get(found.status_url).status_code == 200


def test_a_resend_on_another_channel_carries_the_link(site, fake):
    order_id = orders.create_order(
        site.db, order=order_data(customer=SMS_CUSTOMER), actor="t"
    ).order_id
    fake.script("/2010-04-01", [(400, {}, {"code": 21211, "message": "bad", "status": 400})])
    deliver(site.db, fake)
    with site.db.reading() as session:
        failed = session.scalar(select(Notification.id))
    resent = notifications.resend_notification(site.db, notification_id=failed, actor="t")
    assert resent.channel in ("email", "sms")
    with site.db.reading() as session:
        body = session.scalar(select(Notification.body_text).where(Notification.id == resent.id))
    assert site.links.url_for(order_id) in body


def test_the_served_app_gives_the_link_from_the_lookup_and_opens_the_page(tmp_path):
    """`streamlit run app.py` with the two settings: the route is mounted, headers kept."""
    env = {
        "INTAKE_API_TOKENS": TOKEN,
        "PUBLIC_BASE_URL": "http://placeholder.example/",
        "ORDER_LINK_SECRET": "served-secret",
    }
    with own_database("sqlite", tmp_path, "unused") as db:
        server = start_server(db.url, tmp_path / "streamlit.log", env=env)
        try:
            client = Client(server.url)
            number = client.post("/api/v1/orders", order_data(), key="k1").json()["number"]
            found = client.get(f"/api/v1/orders/{number}?email={EMAIL}").json()
            assert found["status_url"].startswith("http://placeholder.example/o/")
            path = urlsplit(found["status_url"]).path
            page = client.get(path)
            assert page.status == 200 and b"Springfield" in page.body
            assert page.headers["cache-control"] == "no-store"
            assert "default-src 'none'" in page.headers["content-security-policy"]
            assert page.headers["x-frame-options"] == "DENY"
            assert client.get(path[:-1] + ("x" if path[-1] != "x" else "y")).status == 404
        finally:
            stop_server(server)
