"""The dashboard sends the browser every message whole, never as a reference to a copy the
browser may no longer have (.streamlit/config.toml): with parts of the page re-running on
their own, a reference could point at an expired copy, and the page stopped with
"Connection error: Cached ForwardMsg MISS"."""

from __future__ import annotations

import pytest
from streamlit import config
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.forward_msg_cache import populate_hash_if_needed

from config import ROOT


@pytest.fixture
def dashboard_config(monkeypatch):
    monkeypatch.chdir(ROOT)  # where `streamlit run app.py` reads .streamlit/config.toml
    config.get_config_options(force_reparse=True)
    yield
    monkeypatch.undo()
    config.get_config_options(force_reparse=True)


def a_table(size: int) -> ForwardMsg:
    message = ForwardMsg()
    message.delta.new_element.dataframe.arrow_data.data = b"\0" * size
    return message


def test_a_large_table_is_sent_whole(dashboard_config):
    message = a_table(5_000_000)
    populate_hash_if_needed(message)
    assert not message.metadata.cacheable


def test_streamlit_would_otherwise_send_it_as_a_reference(monkeypatch):
    """The check above means something: with Streamlit's default, the same message is kept
    for reference."""
    monkeypatch.chdir("/")
    config.get_config_options(force_reparse=True)
    try:
        message = a_table(5_000_000)
        populate_hash_if_needed(message)
        assert message.metadata.cacheable
    finally:
        monkeypatch.undo()
        config.get_config_options(force_reparse=True)
