"""`streamlit run app.py` serves the order API with the C HTTP parser and uvloop.

uvicorn takes them only when they are installed (its "auto" choices, which Streamlit keeps),
so a requirements change that dropped them would silently give back the CPU they save per
request (bench/intake shows it).
"""

from __future__ import annotations

import sys

import pytest
import uvicorn
from streamlit.web.server.starlette.starlette_server import _get_uvicorn_config_kwargs
from uvicorn.loops.auto import auto_loop_factory


def test_requests_are_parsed_by_httptools():
    config = uvicorn.Config(app=lambda *_: None, lifespan="off", **_get_uvicorn_config_kwargs())
    config.load()
    assert config.http_protocol_class.__name__ == "HttpToolsProtocol"


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop is not built for Windows")
def test_the_event_loop_is_uvloop():
    loop = auto_loop_factory(use_subprocess=False)()
    try:
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()
