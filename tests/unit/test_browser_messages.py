"""The dashboard sends the browser every message whole, never as a reference to a copy the
browser may no longer have (.streamlit/config.toml): with parts of the page re-running on
their own, a reference could point at an expired copy, and the page stopped with
"Connection error: Cached ForwardMsg MISS"."""

from __future__ import annotations

from streamlit import config
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.forward_msg_cache import populate_hash_if_needed

from config import ROOT


def a_large_table_is_kept_for_reference(monkeypatch, folder) -> bool:
    """Whether Streamlit, run from `folder` (whose .streamlit/config.toml it reads), would
    send a 5 MB table as a reference to the browser's copy."""
    monkeypatch.chdir(folder)
    config.get_config_options(force_reparse=True)
    try:
        message = ForwardMsg()
        message.delta.new_element.dataframe.arrow_data.data = b"\0" * 5_000_000
        populate_hash_if_needed(message)
        return message.metadata.cacheable
    finally:
        monkeypatch.undo()
        config.get_config_options(force_reparse=True)


def test_a_large_table_is_sent_whole(monkeypatch):
    assert not a_large_table_is_kept_for_reference(monkeypatch, ROOT)


def test_streamlit_would_otherwise_send_it_as_a_reference(monkeypatch, tmp_path):
    """The check above means something: with Streamlit's default (a folder without the
    project's config), the same message is kept for reference."""
    assert a_large_table_is_kept_for_reference(monkeypatch, tmp_path)
