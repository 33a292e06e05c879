"""The clicks bench knows a click's re-run from the page's websocket (bench/clicks.py, WIRE),
not from the app's script state seen changing: a run over within one render never shows
`running` in the page, and the bench took such clicks for swallowed ones and clicked again.
Here WIRE reads frames made with Streamlit's own message classes, in Chromium."""

from __future__ import annotations

from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench import clicks
from tests.e2e.conftest import browser_tab

# A WebSocket that never opens (nothing listens on port 9): the test makes its frames.
SOCKET = """() => {
    window.__socket = new WebSocket('ws://127.0.0.1:9');
    window.__socket.addEventListener('error', () => {});
}"""
SEND = """bytes => { try { window.__socket.send(new Uint8Array(bytes)); } catch (e) {} }"""
RECEIVE = """bytes => window.__socket.dispatchEvent(
    new MessageEvent('message', {data: new Uint8Array(bytes).buffer}))"""


def rerun(*, auto: bool = False) -> BackMsg:
    message = BackMsg()
    message.rerun_script.page_script_hash = "orders"
    message.rerun_script.fragment_id = "table"
    message.rerun_script.is_auto_rerun = auto
    return message


def status(*, running: bool) -> ForwardMsg:
    message = ForwardMsg()
    message.session_status_changed.script_is_running = running
    return message


def new_session() -> ForwardMsg:
    message = ForwardMsg()
    message.new_session.page_script_hash = "orders"
    message.metadata.run.script_run_id = "run-1"
    return message


def finished() -> ForwardMsg:
    message = ForwardMsg()
    message.script_finished = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
    return message


def test_a_clicks_rerun_is_told_by_the_websocket_however_quickly_it_ends(browser):
    with browser_tab(browser, 800, 600) as tab:
        tab.add_init_script(clicks.WIRE)
        tab.goto("data:text/html,<title>wire</title>")
        tab.evaluate(SOCKET)
        tab.evaluate(clicks.WATCH)

        def send(message: Any) -> None:
            tab.evaluate(SEND, list(message.SerializeToString()))

        def receive(message: Any) -> None:
            tab.evaluate(RECEIVE, list(message.SerializeToString()))

        def run() -> dict[str, float | None]:
            seen: dict[str, float | None] = tab.evaluate("() => window.__click")
            return seen

        send(rerun(auto=True))  # a fragment's timer (run_every), not the click
        assert run()["asked"] is None
        send(rerun())  # the click asks for a re-run
        assert tab.evaluate(clicks.ASKED)
        receive(status(running=False))  # the end of a run begun before the click
        assert run()["ended"] is None
        receive(new_session())
        receive(status(running=True))
        assert run()["started"] is not None and run()["ended"] is None
        receive(finished())
        receive(status(running=False))  # a few ms after it began: the page never drew it
        assert run()["ended"] is not None
        receive(new_session())  # the run it asked for next (a cell's click opens its order)
        assert run()["ended"] is None
        receive(status(running=True))
        receive(finished())
        receive(status(running=False))
        ended = run()["ended"]
        assert ended is not None and ended >= run()["started"]  # type: ignore[operator]
