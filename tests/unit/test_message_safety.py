"""Customer text in messages: a first name cannot carry a link, a line break or a paragraph."""

from __future__ import annotations

from dataclasses import replace

import pytest

from notify.templates import FIRST_NAME_LIMIT, customer_text, render
from tests.unit.test_delivery_rules import FACTS

PHISHING = "your parcel is held. Pay the fee at https://evil.example/p, call"


def parts(message):
    return {"sms": message.sms, "text": message.text, "html": message.html}


@pytest.mark.parametrize(
    "name",
    [
        PHISHING,
        "Hi evil.example/p",
        "see www.evil.example now",
        "pay at evil.example",
        "mail a@evil.example",
        "sms:+14155550100",
        "HTTPS://EVIL.EXAMPLE",
        "go e\u200bvil.example",  # a zero-width space inside the domain
        "pay.xn--p1ai/x",
    ],
)
@pytest.mark.parametrize("template", ["received", "shipped", "cancelled"])
def test_no_link_from_a_first_name_reaches_any_message(name, template):
    message = render(template, replace(FACTS, first_name=name, tracking_url=""), "Tea & Co")
    for part, body in parts(message).items():
        lowered = body.lower()
        assert "evil" not in lowered and "xn--" not in lowered, (part, body)
        assert "://" not in body and "sms:" not in lowered, (part, body)


def test_a_first_name_is_cut_to_40_characters_on_one_line():
    name = "Ann\nMarie\r\n" + "x" * 100
    message = render("received", replace(FACTS, first_name=name), "Tea & Co")
    shown = customer_text(name, FIRST_NAME_LIMIT)
    assert len(shown) == FIRST_NAME_LIMIT and "\n" not in shown and "\r" not in shown
    assert message.sms.startswith(f"Tea & Co: Hi {shown}, we received")
    assert message.text.startswith(f"Hi {shown}, we received")
    assert "x" * 41 not in message.html


def test_bidi_controls_in_a_first_name_do_not_reach_a_message():
    message = render("received", replace(FACTS, first_name="Ada\u202e\u2066"), "Tea & Co")
    assert message.sms.startswith("Tea & Co: Hi Ada, ")


@pytest.mark.parametrize(
    "name", ["Ada", "Zoë 👩\u200d👩\u200d👧", "Mary-Jane", "O'Brien", "J.R.", "José María"]
)
def test_an_ordinary_first_name_is_kept(name):
    assert render("received", replace(FACTS, first_name=name), "Tea & Co").text.startswith(
        f"Hi {name}, "
    )


def test_a_first_name_that_was_only_a_link_greets_the_customer_anyway():
    message = render("received", replace(FACTS, first_name="https://evil.example"), "Tea & Co")
    assert message.sms.startswith("Tea & Co: Hi there, we received your order ORD-10042.")
