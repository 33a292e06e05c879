"""Sign-in in AppTest: open local mode, a shared password, and OpenID Connect with a staff list.

The dashboard's navigation script runs as the server runs it; each page is also checked on
its own, since a page can be reached without the navigation (AppTest, an old-style URL).
Before sign-in succeeds, nothing of the orders may be in the element tree.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from streamlit.testing.v1 import AppTest

from config import ROOT
from queries.orders import order_details
from services import orders
from tests.builders import add_catalogue, order_data
from tests.ui.conftest import open_page
from ui import auth

PASSWORD = "correct horse battery staple"
OIDC = {
    "auth": {
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "not-a-real-secret",
        "client_id": "product-orders",
        "client_secret": "not-a-real-secret",
        "server_metadata_url": "https://id.example/.well-known/openid-configuration",
    },
    "access": {"staff": ["Owner@Shop.example", " packer@shop.example "]},
}
PAGES = ["orders", "products", "customers", "notifications", "reports", "settings"]


@pytest.fixture
def shop(page_db):
    add_catalogue(page_db)
    change = orders.create_order(page_db, order=order_data(), actor="test")
    return page_db, change


def dashboard(**secrets) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard" / "main.py"), default_timeout=30)
    at.secrets.update(secrets)
    return at


def run(target) -> AppTest:
    """Run the app, or the app after a widget interaction, and insist it ran cleanly."""
    at = target.run()
    assert not at.exception, at.exception
    return at


def everything(at: AppTest) -> str:
    """Every element's content in the tree, as text: what a browser could be sent."""
    parts: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def assert_no_order_data(at: AppTest) -> None:
    assert not at.dataframe
    assert not at.metric
    shown = everything(at)
    for secret in ("ORD-10001", "Ada", "Lovelace", "ada@example.com", "Springfield", PASSWORD):
        assert secret not in shown


def sign_in(at: AppTest, name: str = "Ann Staff", password: str = PASSWORD) -> AppTest:
    at.text_input(key="auth.name").input(name)
    at.text_input(key="auth.password").input(password)
    return run(next(b for b in at.button if b.label == "Sign in").click())


def confirm_first_pending(at: AppTest) -> AppTest:
    at.session_state["orders.table.pending"] = {"selection": {"rows": [0], "columns": []}}
    at = run(at)
    return run(next(b for b in at.button if b.label == "Confirm Order").click())


def last_actor(db, order_id: int) -> str:
    return order_details(db, order_id=order_id).events[-1].actor


# ---- open local mode ----


def test_without_sign_in_settings_the_dashboard_is_open_and_says_so(shop):
    at = run(dashboard())
    assert any("Open local mode" in m.value for m in at.markdown)
    assert at.dataframe, "the orders table shows in open mode"
    assert auth.sign_in_mode() is auth.Mode.LOCAL


# ---- shared password ----


def test_with_a_password_nothing_of_the_orders_shows_before_sign_in(shop, monkeypatch):
    monkeypatch.setenv("DASHBOARD_PASSWORD", PASSWORD)
    at = run(dashboard())
    assert [t.label for t in at.text_input] == ["Your name", "Password"]
    assert not any("Open local mode" in m.value for m in at.markdown)
    assert_no_order_data(at)


def test_a_wrong_password_is_refused_after_a_pause_and_shows_nothing(shop, monkeypatch):
    monkeypatch.setenv("DASHBOARD_PASSWORD", PASSWORD)
    at = run(dashboard())
    started = time.monotonic()
    sign_in(at, password="correct horse battery")
    assert time.monotonic() - started >= auth.WRONG_PASSWORD_DELAY
    assert [e.value for e in at.error] == ["That password is not right. Please try again."]
    assert_no_order_data(at)


def test_the_password_and_a_name_open_the_dashboard_and_the_name_is_the_actor(shop, monkeypatch):
    db, change = shop
    monkeypatch.setenv("DASHBOARD_PASSWORD", PASSWORD)
    at = sign_in(run(dashboard()), name="  Ann   Staff ")
    assert at.dataframe and at.metric
    assert "Ann Staff" in " ".join(c.value for c in at.sidebar.caption)
    confirm_first_pending(at)
    assert last_actor(db, change.order_id) == "Ann Staff"


@pytest.mark.parametrize(
    "secrets",
    [{"DASHBOARD_PASSWORD": PASSWORD}, {"access": {"DASHBOARD_PASSWORD": PASSWORD}}],
    ids=["top level", "under access"],
)
def test_the_password_can_come_from_the_secrets_file(shop, secrets):
    at = run(dashboard(**secrets))
    assert_no_order_data(at)
    assert sign_in(at).dataframe


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "Please give your name"),
        ("system", "reserved for the system"),
        ("Assistant", "reserved for the system"),
        ("Ann\x07", "printable characters"),
    ],
)
def test_a_name_that_would_mislead_the_timeline_is_refused(shop, monkeypatch, name, problem):
    monkeypatch.setenv("DASHBOARD_PASSWORD", PASSWORD)
    at = sign_in(run(dashboard()), name=name)
    assert any(problem in e.value for e in at.error)
    assert_no_order_data(at)


def test_signing_out_forgets_the_sign_in(shop, monkeypatch):
    monkeypatch.setenv("DASHBOARD_PASSWORD", PASSWORD)
    at = sign_in(run(dashboard()))
    run(at.sidebar.button(key="auth.sign_out").click())
    assert [t.label for t in at.text_input] == ["Your name", "Password"]
    assert_no_order_data(at)


def test_a_new_password_signs_everyone_out(shop, monkeypatch):
    monkeypatch.setenv("DASHBOARD_PASSWORD", PASSWORD)
    at = sign_in(run(dashboard()))
    monkeypatch.setenv("DASHBOARD_PASSWORD", "a brand new password")
    run(at)
    assert_no_order_data(at)


@pytest.mark.parametrize("name", PAGES)
def test_every_page_run_on_its_own_asks_for_the_password_first(shop, monkeypatch, name):
    monkeypatch.setenv("DASHBOARD_PASSWORD", PASSWORD)
    at = open_page(name).run()
    assert not at.exception, at.exception
    assert [t.label for t in at.text_input] == ["Your name", "Password"]
    assert_no_order_data(at)


# ---- OpenID Connect ----


def test_with_oidc_a_visitor_sees_only_the_sign_in_button(shop, monkeypatch):
    monkeypatch.setenv("DASHBOARD_PASSWORD", PASSWORD)  # [auth] wins over a password
    at = dashboard(**OIDC)
    at.user = {"is_logged_in": False}
    at = run(at)
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.text_input
    assert_no_order_data(at)


def test_a_named_provider_gets_its_own_button(shop):
    secrets = {
        "auth": {
            "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
            "cookie_secret": "x",
            "google": {"client_id": "a", "client_secret": "b", "server_metadata_url": "c"},
        },
        "access": {"staff": []},
    }
    at = dashboard(**secrets)
    at.user = {"is_logged_in": False}
    assert [b.label for b in run(at).button] == ["Sign in with Google"]


def test_staff_on_the_list_get_in_whatever_the_case_and_act_under_their_email(shop):
    db, change = shop
    at = dashboard(**OIDC)
    at.user = {"is_logged_in": True, "email": "owner@SHOP.example", "name": "Owner"}
    run(at)
    assert at.dataframe
    assert not any("Open local mode" in m.value for m in at.markdown)
    confirm_first_pending(at)
    assert last_actor(db, change.order_id) == "owner@SHOP.example"


def test_someone_not_on_the_list_is_not_authorised_and_can_sign_out(shop):
    at = dashboard(**OIDC)
    at.user = {"is_logged_in": True, "email": "stranger@example.com"}
    run(at)
    assert "is not authorised" in at.error[0].value
    assert_no_order_data(at)
    run(at.button(key="auth.refused.sign_out").click())
    assert at.user.get("is_logged_in") is False
    assert [b.label for b in at.button] == ["Sign in"]


def test_an_unverified_email_is_not_enough(shop):
    at = dashboard(**OIDC)
    at.user = {"is_logged_in": True, "email": "owner@shop.example", "email_verified": False}
    run(at)
    assert "is not authorised" in at.error[0].value
    assert_no_order_data(at)


def test_an_empty_staff_list_lets_no_one_in(shop):
    at = dashboard(auth=OIDC["auth"])
    at.user = {"is_logged_in": True, "email": "owner@shop.example"}
    run(at)
    assert "is not authorised" in at.error[0].value
    assert_no_order_data(at)


@pytest.mark.parametrize("name", PAGES)
def test_every_page_run_on_its_own_asks_for_oidc_sign_in_first(shop, name):
    at = open_page(name)
    at.secrets.update(OIDC)
    at.user = {"is_logged_in": False}
    run(at)
    assert [b.label for b in at.button] == ["Sign in"]
    assert_no_order_data(at)


def test_the_password_check_compares_in_constant_time_over_digests():
    assert auth._same(PASSWORD, PASSWORD)
    assert not auth._same(PASSWORD, PASSWORD + " ")
    assert not auth._same("", PASSWORD)


# ---- guessing the password ----

LOCKED_OUT = "Too many attempts from your address; try again in"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_twenty_sessions_from_one_address_get_at_most_ten_guesses_a_minute(shop, monkeypatch):
    """Sessions take turns here (AppTest runs are not thread-safe); the threads test below
    has 20 threads at the limiter at once."""
    monkeypatch.setenv("DASHBOARD_PASSWORD", PASSWORD)
    monkeypatch.setattr(auth, "WRONG_PASSWORD_DELAY", 0.0)  # the limit must hold on its own
    started = time.monotonic()
    sessions = [run(dashboard()) for _ in range(20)]
    answers: list[str] = []
    for attempt in range(2):
        for n, at in enumerate(sessions):
            sessions[n] = at = sign_in(at, password=f"guess {n}-{attempt}")
            answers += [e.value for e in at.error]
            assert_no_order_data(at)
    assert time.monotonic() - started < 60

    assert len(answers) == 40
    checked = [a for a in answers if a == "That password is not right. Please try again."]
    assert 0 < len(checked) <= 10
    assert all(a.startswith(LOCKED_OUT) for a in answers if a not in checked)


def test_the_right_password_during_a_lockout_is_refused_until_it_ends(shop, monkeypatch, caplog):
    monkeypatch.setenv("DASHBOARD_PASSWORD", PASSWORD)
    monkeypatch.setattr(auth, "WRONG_PASSWORD_DELAY", 0.0)
    clock = FakeClock()
    monkeypatch.setattr(auth.THROTTLE, "clock", clock)
    at = run(dashboard())
    for n in range(auth.FAILURES_PER_MINUTE):
        at = sign_in(at, password=f"guess {n}")
    assert "wrong dashboard password from unknown" in caplog.text  # no address under AppTest

    at = sign_in(at)
    assert [e.value for e in at.error] == [f"{LOCKED_OUT} 60 s."]
    assert_no_order_data(at)
    clock.now += 30
    at = sign_in(at)
    assert [e.value for e in at.error] == [f"{LOCKED_OUT} 30 s."]

    clock.now += 30
    at = sign_in(at)
    assert not at.error
    assert at.dataframe, "signed in once the lockout ended"


def test_lockouts_double_and_count_wrong_passwords_only_per_address():
    clock = FakeClock()
    throttle = auth.SignInThrottle(failures_per_minute=5, first_lockout=60, clock=clock)
    wrong, right = (lambda: False), (lambda: True)

    for _ in range(3):
        assert throttle.attempt("203.0.113.9", right).right  # successes do not count
    for _ in range(5):
        assert throttle.attempt("203.0.113.9", wrong) == auth.Verdict(right=False)
    assert throttle.attempt("203.0.113.9", right).wait == 60
    assert throttle.attempt("198.51.100.7", right).right  # another address is not affected

    clock.now += 60
    for _ in range(5):
        assert not throttle.attempt("203.0.113.9", wrong).right
    assert throttle.attempt("203.0.113.9", right).wait == 120

    clock.now += 120 + auth.STRIKE_MEMORY + 1  # a day later it starts afresh
    for _ in range(5):
        throttle.attempt("203.0.113.9", wrong)
    assert throttle.attempt("203.0.113.9", right).wait == 60


def test_guesses_from_twenty_threads_sharing_an_address_are_counted_together():
    throttle = auth.SignInThrottle(clock=FakeClock())
    checked = Counter[str]()
    lock = threading.Lock()

    def guess() -> bool:
        with lock:
            checked["guesses"] += 1
        return False

    def keep_guessing(_: int) -> None:
        for _ in range(20):
            throttle.attempt("203.0.113.9", guess)

    with ThreadPoolExecutor(20) as threads:
        list(threads.map(keep_guessing, range(20)))
    assert checked["guesses"] == auth.FAILURES_PER_MINUTE <= 10
