"""Backoff and message wording: pure rules, no database, no network."""

import random

import pytest

from notify.dispatch import RetryPolicy
from notify.templates import OrderFacts, render

FACTS = OrderFacts(
    number="ORD-10042",
    first_name="<b>Ada</b>",
    total_cents=2_599,
    currency="USD",
    items_summary="2× Tea & <Biscuits>",
    carrier="UPS",
    tracking_number="1Z<999>",
    tracking_url='https://track.example/?n=1Z"><script>',
    reason="out of stock",
)


def test_retry_delays_double_each_attempt_within_their_jitter_band():
    policy = RetryPolicy(base_seconds=30, cap_seconds=3600)
    rng = random.Random(1)
    for attempts, full in [(1, 30), (2, 60), (3, 120), (4, 240), (8, 3600), (20, 3600)]:
        delays = [policy.delay(attempts, None, rng) for _ in range(200)]
        assert all(full / 2 <= d <= full for d in delays)
        assert max(delays) - min(delays) > full / 4  # really jittered, not one value


def test_a_providers_retry_after_is_never_undercut_but_is_bounded():
    policy = RetryPolicy(base_seconds=30, cap_seconds=3600, longest_retry_after=86_400)
    rng = random.Random(2)
    assert policy.delay(1, 600, rng) == 600
    assert 30 <= policy.delay(3, 1, rng) <= 120  # a short Retry-After does not shorten backoff
    assert policy.delay(1, 10**9, rng) == 86_400


def test_placeholders_are_escaped_in_the_html_but_not_in_the_text():
    message = render("shipped", FACTS, "Tea & Co")

    assert "&lt;b&gt;Ada&lt;/b&gt;" in message.html
    assert "Tea &amp; &lt;Biscuits&gt;" in message.html
    assert "<script>" not in message.html
    assert "1Z&lt;999&gt;" in message.html
    assert "Hi <b>Ada</b>" in message.text
    assert message.html.endswith("<p>— Tea &amp; Co</p>")


def test_the_reply_to_address_from_settings_is_offered_in_the_email_not_the_sms():
    message = render("confirmed", FACTS, "Tea & Co", reply_to="help@tea.example")

    assert "Questions? Write to help@tea.example." in message.text
    assert 'href="mailto:help@tea.example"' in message.html
    assert "help@tea.example" not in message.sms


@pytest.mark.parametrize(
    "template",
    [
        "received",
        "confirmed",
        "back_in_progress",
        "completed",
        "cancelled",
        "payment_failed",
        "refunded",
    ],
)
def test_each_sms_is_signed_by_the_business_and_fits_one_segment(template):
    plain = OrderFacts("ORD-10042", "Ada", 2_599, "USD", "2× Tea", reason="out of stock")

    sms = render(template, plain, "Corner Tea").sms

    assert sms.startswith("Corner Tea: Hi Ada,")
    assert "ORD-10042" in sms
    assert len(sms) <= 160
