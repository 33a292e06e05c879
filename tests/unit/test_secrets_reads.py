"""The sign-in check reads the secrets once: with no secrets file, each read of `st.secrets`
looks for one again, and every part of a page re-run on its own makes the check."""

from __future__ import annotations

import streamlit as st

from ui import auth


def test_the_sign_in_check_looks_for_secrets_once_when_there_are_none(monkeypatch):
    secrets = type(st.secrets)
    parse, looks = secrets._parse, []

    def counted(self):
        looks.append(1)
        return parse(self)

    monkeypatch.setattr(secrets, "_parse", counted)
    monkeypatch.delenv(auth.PASSWORD_VARIABLE, raising=False)
    assert auth.signed_in() is True  # no secrets file, no password: open local mode
    assert auth.sign_in_mode() is auth.Mode.LOCAL
    assert len(looks) == 2  # one each; it was three each


def test_a_password_among_the_secrets_still_asks_for_it(monkeypatch):
    monkeypatch.setattr(auth, "_secrets", lambda: {"access": {auth.PASSWORD_VARIABLE: "pw"}})
    monkeypatch.delenv(auth.PASSWORD_VARIABLE, raising=False)
    assert auth.sign_in_mode() is auth.Mode.PASSWORD
    assert auth.signed_in() is False
