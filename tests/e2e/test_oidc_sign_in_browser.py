"""OpenID Connect sign-in for real: `streamlit run app.py` with `[auth]` in its secrets, a
local OpenID provider (oidc-provider-mock) on 127.0.0.1, and Chromium going through both.

The provider knows three accounts and the test picks one on its authorisation form:
a staff member whose e-mail comes in another letter case than the staff list, someone not
on the list, and a listed address the provider has not verified. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from db.database import Database
from db.seed import main as seed
from queries.orders import order_details
from services import orders
from tests.builders import order_data
from tests.e2e.conftest import (
    Server,
    browser_tab,
    click_next_step,
    free_port,
    start_server,
    stop_server,
    wait_for_app,
)

pytestmark = pytest.mark.e2e

STAFF = ["owner@shop.example", "Packer@Shop.example"]
OWNER = "OWNER@Shop.Example"  # on the list, in another letter case
STRANGER = "someone@elsewhere.example"
UNVERIFIED = "packer@shop.example"  # on the list, but the provider has not verified it
ORDER = "ORD-10001"
# What would give the order away: its number, the customer's name, e-mail and street.
ORDER_DATA = [ORDER, "Lovelace", "ada@example.com", "1 Main St"]


@dataclass
class Provider:
    url: str
    client_id: str
    client_secret: str


@contextmanager
def oidc_provider(callback: str) -> Iterator[Provider]:
    """oidc-provider-mock in a thread on 127.0.0.1, with the dashboard registered as a client
    whose only redirect URI is `callback` (so a wrong redirect URI fails the sign-in)."""
    import werkzeug.serving
    from oidc_provider_mock import User, app

    users = [
        User(sub="owner", claims={"email": OWNER, "email_verified": True, "name": "Owner"}),
        User(sub="stranger", claims={"email": STRANGER, "email_verified": True}),
        User(sub="unverified", claims={"email": UNVERIFIED, "email_verified": False}),
    ]
    provider = app(require_client_registration=True, require_nonce=True, user_claims=users)
    server = werkzeug.serving.make_server("127.0.0.1", 0, provider, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        request = urllib.request.Request(
            url + "/oauth2/clients",
            data=json.dumps({"redirect_uris": [callback]}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            client = json.load(response)
        yield Provider(url, client["client_id"], client["client_secret"])
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def secrets_file(folder: Path, port: int, provider: Provider) -> Path:
    path = folder / "secrets.toml"
    path.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        f'client_id = "{provider.client_id}"\n'
        f'client_secret = "{provider.client_secret}"\n'
        f'server_metadata_url = "{provider.url}/.well-known/openid-configuration"\n'
        "\n[access]\n"
        f"staff = {json.dumps(STAFF)}\n"
    )
    return path


@dataclass
class Setup:
    dashboard: Server
    provider: Provider
    order_id: int


@pytest.fixture(scope="module")
def oidc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    folder = tmp_path_factory.mktemp("oidc")
    url = f"sqlite:///{folder / 'orders.db'}"
    seed(["--database-url", url])
    db = Database(url)
    order_id = orders.create_order(db, order=order_data(), actor="e2e").order_id
    db.dispose()
    port = free_port()
    with oidc_provider(f"http://127.0.0.1:{port}/oauth2callback") as provider:
        secrets_path = secrets_file(folder, port, provider)
        running = start_server(
            url,
            folder / "streamlit.log",
            {"DASHBOARD_PASSWORD": ""},
            port=port,
            options=[f"--secrets.files={secrets_path}"],
        )
        try:
            yield Setup(running, provider, order_id)
        finally:
            stop_server(running)


@pytest.fixture
def tab(browser, oidc):
    with browser_tab(browser, 1200, 900) as page:
        yield page


def everything_sent(page) -> str:
    """The HTML of the page and of every frame in it: what the browser was given."""
    return "\n".join(frame.content() for frame in page.frames)


def assert_no_order_data(page, settle_s: float = 10.0) -> None:
    """Once the run in flight has finished, no order data is left in any frame.

    Streamlit removes a page's elements from the browser when the run that no longer draws
    them completes, so the check waits for that (a moment) before it judges.
    """
    deadline = time.monotonic() + settle_s
    while True:
        sent = everything_sent(page)
        leaked = [word for word in ORDER_DATA if word.lower() in sent.lower()]
        if not leaked or time.monotonic() > deadline:
            break
        page.wait_for_timeout(250)
    assert not leaked, f"order data in the browser: {leaked}"


def sign_in(page, oidc: Setup, account: str) -> None:
    """From the dashboard's sign-in screen through the provider's form and back."""
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(oidc.provider.url) + r"/oauth2/authorize"))
    page.locator("input[name='sub']").fill(account)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile("^" + re.escape(oidc.dashboard.url) + "/"))
    wait_for_app(page)


def sign_out(page, oidc: Setup) -> None:
    """Sign out goes by the provider's end-session page, which asks to confirm."""
    close_order(page)  # an open order is a dialog over the page, sidebar included
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(re.escape(oidc.provider.url) + r"/oauth2/end_session"))
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(re.compile("^" + re.escape(oidc.dashboard.url) + r"/(\?.*)?$"))
    wait_for_app(page)
    page.get_by_role("button", name="Sign in").wait_for()


def close_order(page) -> None:
    if page.get_by_role("dialog").count():
        page.keyboard.press("Escape")
        page.get_by_role("dialog").wait_for(state="detached")
        wait_for_app(page)


def open_dashboard(page, oidc: Setup, path: str = "/") -> None:
    page.goto(oidc.dashboard.url + path)
    wait_for_app(page)


def test_staff_sign_in_at_the_provider_and_see_the_orders(tab, oidc, artifacts):
    open_dashboard(tab, oidc)
    tab.get_by_role("button", name="Sign in").wait_for()
    assert_no_order_data(tab)
    tab.screenshot(path=artifacts / "oidc-sign-in.png", full_page=True)
    sign_in(tab, oidc, "owner")
    tab.get_by_role("tab", name="Pending Orders").wait_for()
    tab.get_by_text(f"Signed in as {OWNER}").wait_for()
    tab.screenshot(path=artifacts / "oidc-signed-in.png", full_page=True)
    open_dashboard(tab, oidc, f"/?order={ORDER}")
    tab.locator(".st-key-orders-details").get_by_text("Ada Lovelace").first.wait_for()
    tab.screenshot(path=artifacts / "oidc-order-details.png", full_page=True)


def test_an_account_not_on_the_staff_list_is_not_authorised_and_can_sign_out(tab, oidc, artifacts):
    open_dashboard(tab, oidc)
    sign_in(tab, oidc, "stranger")
    tab.get_by_text(f"{STRANGER} is not authorised").wait_for()
    assert_no_order_data(tab)
    tab.screenshot(path=artifacts / "oidc-not-authorised.png", full_page=True)
    open_dashboard(tab, oidc, f"/?order={ORDER}")
    tab.get_by_text("is not authorised").wait_for()
    assert_no_order_data(tab)
    sign_out(tab, oidc)
    assert_no_order_data(tab)


def test_an_email_the_provider_has_not_verified_is_refused(tab, oidc, artifacts):
    open_dashboard(tab, oidc)
    sign_in(tab, oidc, "unverified")
    tab.get_by_text(f"{UNVERIFIED} is not authorised").wait_for()
    tab.get_by_role("button", name="Sign out").wait_for()
    assert_no_order_data(tab)
    tab.screenshot(path=artifacts / "oidc-unverified.png", full_page=True)


def test_a_change_is_recorded_as_the_signed_in_email_and_sign_out_leaves_nothing(
    tab, oidc, artifacts
):
    open_dashboard(tab, oidc)
    sign_in(tab, oidc, "owner")
    open_dashboard(tab, oidc, f"/?order={ORDER}")
    details = tab.locator(".st-key-orders-details")
    details.get_by_role("button", name="Mark Paid").click()
    tab.get_by_text(re.compile(f"{ORDER} payment marked Paid")).first.wait_for()
    wait_for_app(tab)
    details.get_by_text(OWNER).first.wait_for()  # the order's timeline names who did it

    db = Database(oidc.dashboard.database_url)
    try:
        events = order_details(db, order_id=oidc.order_id).events  # the order_events rows
    finally:
        db.dispose()
    assert events[-1].actor == OWNER, [(event.actor, event.kind) for event in events]
    tab.screenshot(path=artifacts / "oidc-change-recorded.png", full_page=True)

    sign_out(tab, oidc)
    assert_no_order_data(tab)
    tab.screenshot(path=artifacts / "oidc-signed-out.png", full_page=True)
    # The cookie is gone: the order's own address asks to sign in again.
    open_dashboard(tab, oidc, f"/?order={ORDER}")
    tab.get_by_role("button", name="Sign in").wait_for()
    assert_no_order_data(tab)


@contextmanager
def signed_out_elsewhere(browser, oidc: Setup, path: str, ready: str) -> Iterator:
    """A second tab open at `path` (until `ready` shows) while the first, signed in, signs
    out; yields the second, brought to the front, for the click that re-runs it."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        first, second = context.new_page(), context.new_page()
        for page in (first, second):
            page.set_default_timeout(20_000)
        open_dashboard(first, oidc)
        sign_in(first, oidc, "owner")
        open_dashboard(second, oidc, path)
        second.locator(ready).first.wait_for()
        second.wait_for_timeout(1000)  # the table's canvas, the order's text
        sign_out(first, oidc)
        second.bring_to_front()
        yield second
    finally:
        context.close()


def assert_asked_to_sign_in(page, screenshot: Path) -> None:
    wait_for_app(page)
    page.get_by_text("You signed out in another tab").wait_for()
    page.get_by_role("button", name="Sign in").wait_for()
    assert_no_order_data(page)
    page.screenshot(path=screenshot, full_page=True)


def test_signing_out_in_one_tab_signs_the_other_tabs_out_too(browser, oidc, artifacts):
    """st.logout ends only its own session; the dashboard ends the account's other ones."""
    with signed_out_elsewhere(
        browser, oidc, f"/?order={ORDER}", ".st-key-orders-details :text('Ada Lovelace')"
    ) as second:
        close_order(second)  # any rerun of the old tab
        assert_asked_to_sign_in(second, artifacts / "oidc-other-tab-signed-out.png")


def test_an_order_opened_by_its_next_step_after_signing_out_elsewhere_asks_to_sign_in(
    browser, oidc, artifacts
):
    """The next step under Actions re-runs only the opened order, without the page: that
    run checks the session too."""
    with signed_out_elsewhere(browser, oidc, "/", "[data-testid='stDataFrame']") as second:
        click_next_step(second, 0)
        assert_asked_to_sign_in(second, artifacts / "oidc-next-step-signed-out.png")


def test_a_page_opened_from_its_url_opens_after_sign_in(tab, oidc):
    open_dashboard(tab, oidc, "/products")
    tab.get_by_role("button", name="Sign in").wait_for()
    sign_in(tab, oidc, "owner")
    assert tab.url == oidc.dashboard.url + "/products"
