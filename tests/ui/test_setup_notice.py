"""One compact line for what is not set up (open local mode, dry run), linking to Settings."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from config import ROOT


def dashboard() -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard" / "main.py"), default_timeout=30).run()
    assert not at.exception, at.exception
    return at


def notice(at: AppTest) -> list[str]:
    """The lines of the notice, and the links next to them."""
    lines = [m.value for m in at.markdown if ":material/warning:" in m.value]
    links = [link.proto.label for link in at.get("page_link")]
    return lines + links


def test_open_mode_and_dry_run_are_one_line_with_a_link_to_settings(page_db, dry_run):
    at = dashboard()

    [line, link] = notice(at)
    assert "**Open local mode**: anyone with this address can change orders" in line
    assert "**dry run**: e-mail and SMS messages are recorded, not sent" in line
    assert link == "What to configure"
    assert at.warning == []  # no banner left of either
    [page_link] = at.get("page_link")
    assert page_link.proto.page == "settings"


def test_only_what_is_missing_is_named(page_db, configured):
    assert notice(dashboard())[0].startswith(":orange[:material/warning:] **Open local mode**")
    assert "dry run" not in notice(dashboard())[0]


def test_nothing_shows_when_everything_is_set_up(page_db, configured, monkeypatch):
    from ui import auth

    monkeypatch.setattr(auth, "sign_in_mode", lambda secrets=None: auth.Mode.PASSWORD)
    at = AppTest.from_file(str(ROOT / "dashboard" / "main.py"), default_timeout=30)
    at.session_state[auth.ACTOR] = "Grace"
    at.session_state[auth.MODE] = auth.Mode.PASSWORD.value
    at.run()

    assert not at.exception, at.exception
    assert notice(at) == []


def test_the_settings_page_says_what_sign_in_is_configured(page_db):
    from tests.ui.conftest import open_page

    at = open_page("settings").run()

    assert any("**Sign-in**" in m.value and "Open local mode" in m.value for m in at.markdown)
    assert any("`DASHBOARD_PASSWORD`" in c.value for c in at.caption)
