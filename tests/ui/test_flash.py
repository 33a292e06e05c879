"""Confirmations (ui.flash): shown by every run until one that showed them completes.

A run stopped part-way (as Streamlit stops a run that a newer click supersedes) or ended
by st.rerun() keeps its messages for the run that follows; a completed run, or one that
ends itself on purpose with flash.stop(), lets them go.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _app() -> None:
    import streamlit as st

    from ui import flash

    def paid() -> None:
        flash.flash("ORD-1 payment marked Paid.")

    def refused() -> None:
        flash.flash("ORD-1 was changed meanwhile.", "warning")

    def paid_as_a_newer_click_arrives() -> None:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        # What Streamlit does to this run when a newer click lands while it writes: from
        # here on every st.* call and st.session_state access stops the run.
        get_script_run_ctx().script_requests.request_stop()
        flash.flash("ORD-1 payment marked Paid.")

    ending = st.session_state.pop("test.ending", None)
    with flash.shown_once_complete():
        flash.show_flashes(banners=st.session_state.get("test.banners", False))
        st.button("Mark Paid", key="test.paid", on_click=paid)
        st.button("Refuse", key="test.refused", on_click=refused)
        st.button("Paid, superseded", key="test.superseded", on_click=paid_as_a_newer_click_arrives)
        if ending == "stopped":
            st.stop()  # how a run superseded by a newer click ends
        if ending == "stopped on purpose":
            flash.stop()
        if ending == "rerun":
            flash.flash("Queued during the run.")
            st.rerun()


def app(**state: object) -> AppTest:
    at = AppTest.from_function(_app, default_timeout=10)
    for key, value in state.items():
        at.session_state[f"test.{key}"] = value
    return at.run()


def toasts(at: AppTest) -> list[str]:
    return [t.value for t in at.toast]


def click(at: AppTest, key: str, ending: str | None = None) -> AppTest:
    if ending:
        at.session_state["test.ending"] = ending
    at.button(key=key).click()
    return at.run()


def test_a_confirmation_is_shown_by_the_next_run_and_then_gone():
    at = app()
    assert toasts(click(at, "test.paid")) == ["ORD-1 payment marked Paid."]
    assert toasts(at.run()) == []


def test_a_run_stopped_part_way_keeps_its_confirmation_for_the_next_run():
    at = app()
    assert toasts(click(at, "test.paid", ending="stopped")) == ["ORD-1 payment marked Paid."]
    assert toasts(at.run()) == ["ORD-1 payment marked Paid."]  # shown again: once complete…
    assert toasts(at.run()) == []  # …it is gone


def test_a_confirmation_queued_as_a_newer_click_stops_the_run_is_not_lost():
    at = app()
    assert toasts(click(at, "test.superseded")) == []  # this run was stopped at once
    assert toasts(at.run()) == ["ORD-1 payment marked Paid."]
    assert toasts(at.run()) == []


def test_a_run_that_stops_itself_on_purpose_counts_as_seen():
    at = app()
    click(at, "test.paid", ending="stopped on purpose")
    assert toasts(at) == ["ORD-1 payment marked Paid."]
    assert toasts(at.run()) == []


def test_a_run_that_reruns_shows_each_confirmation_once_in_the_run_that_completes():
    at = app()
    click(at, "test.paid", ending="rerun")
    assert toasts(at) == ["ORD-1 payment marked Paid.", "Queued during the run."]
    assert toasts(at.run()) == []


def test_a_refusal_also_stays_as_a_banner_and_banners_can_be_asked_for_every_message():
    at = app()
    click(at, "test.refused")
    assert [w.value for w in at.warning] == ["ORD-1 was changed meanwhile."]
    assert not at.success
    at = app(banners=True)
    click(at, "test.paid")
    assert [s.value for s in at.success] == ["ORD-1 payment marked Paid."]
    assert not at.run().success


def test_messages_waiting_for_a_session_that_closed_are_dropped_after_an_hour(monkeypatch):
    from types import SimpleNamespace

    from ui import flash

    now = [1000.0]
    monkeypatch.setattr(flash, "time", SimpleNamespace(monotonic=lambda: now[0]))
    monkeypatch.setattr(flash, "_outbox", {})
    session = ["closed tab"]
    monkeypatch.setattr(flash, "_session_id", lambda: session[0])
    flash.flash("ORD-1 payment marked Paid.")  # its session closed before its next run

    session[0], now[0] = "phone", now[0] + flash.OUTBOX_KEPT_SECONDS - 1
    flash.flash("ORD-2 confirmed.")
    within_the_hour = [("closed tab", flash.PAGE), ("phone", flash.PAGE)]
    assert sorted(flash._outbox) == within_the_hour  # both wait

    session[0], now[0] = "laptop", now[0] + 2
    flash.flash("ORD-3 shipped.")
    assert sorted(flash._outbox) == [("laptop", flash.PAGE), ("phone", flash.PAGE)]
    assert [w.messages for w in flash._outbox.values()] == [
        [("success", "ORD-2 confirmed.")],
        [("success", "ORD-3 shipped.")],
    ]


# ---- messages for a place of their own (a dialog that re-runs without its page) ----


def _dialog_app() -> None:
    import streamlit as st

    from ui import flash

    def confirmed() -> None:
        flash.flash("ORD-1 confirmed.", to="order ORD-1")

    def paid_as_a_newer_click_arrives() -> None:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        get_script_run_ctx().script_requests.request_stop()  # as in _app above
        flash.flash("ORD-1 payment marked Paid.", to="order ORD-1")

    with flash.shown_once_complete():
        flash.show_flashes()
        flash.show_latest(st.session_state.get("test.open", "order ORD-1"))
        st.button("Confirm", key="test.confirm", on_click=confirmed)
        st.button("Paid, superseded", key="test.superseded", on_click=paid_as_a_newer_click_arrives)
        st.button("Close", key="test.close", on_click=flash.forget_latest)


def said(at: AppTest) -> list[str]:
    return [s.value for s in at.success]


def test_a_message_for_a_place_is_drawn_there_not_toasted_and_stays_until_a_newer_one():
    at = AppTest.from_function(_dialog_app, default_timeout=10).run()
    click(at, "test.confirm")
    assert said(at) == ["ORD-1 confirmed."] and toasts(at) == []
    assert said(at.run()) == ["ORD-1 confirmed."]  # drawn by every run of its place
    click(at, "test.confirm")
    assert said(at) == ["ORD-1 confirmed."]  # the newer write's, not both
    click(at, "test.close")
    assert said(at) == []


def test_a_message_for_a_place_goes_when_another_place_is_drawn():
    at = AppTest.from_function(_dialog_app, default_timeout=10).run()
    click(at, "test.confirm")
    at.session_state["test.open"] = "order ORD-2"
    assert said(at.run()) == []
    at.session_state["test.open"] = "order ORD-1"
    assert said(at.run()) == []


def test_a_message_for_a_place_sent_as_a_newer_click_stops_the_run_is_not_lost():
    at = AppTest.from_function(_dialog_app, default_timeout=10).run()
    assert said(click(at, "test.superseded")) == []  # this run was stopped at once
    assert said(at.run()) == ["ORD-1 payment marked Paid."]


def test_a_message_for_a_place_not_yet_drawn_goes_when_the_place_is_closed():
    """Closed before its message was drawn, the order must not say it when reopened later."""
    at = AppTest.from_function(_dialog_app, default_timeout=10)
    at.session_state["test.open"] = "order ORD-2"
    click(at.run(), "test.confirm")  # ORD-1's message, while ORD-1 is not drawn
    assert said(at) == []
    click(at, "test.close")
    at.session_state["test.open"] = "order ORD-1"
    assert said(at.run()) == []
