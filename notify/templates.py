"""What the customer is told at each change: an e-mail (subject, text, HTML) and an SMS."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from html import escape

from domain.money import format_money

# How much of the customer's first name a message may carry. The name comes from whoever
# placed the order — the assistant and API clients included — so it is customer text, and
# a message is sent to any valid number or address given with it.
FIRST_NAME_LIMIT = 40
# A word holding a link: a scheme (https://, sms:…), "www.", or a bare domain with or
# without a path (evil.example/p, pay.xn--p1ai, a@evil.example).
_LINKISH = re.compile(
    r"\S*(?:[^\W_][\w+.-]*:/*\S|www\.|[^\W_][\w-]*\.(?:[^\W\d_]{2,}|xn--[\w-]+)\b)\S*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class OrderFacts:
    """The few facts about an order that the messages mention."""

    number: str
    first_name: str
    total_cents: int
    currency: str
    items_summary: str
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    reason: str = ""
    refunded: bool = False
    status_url: str = ""  # the customer's status page; empty when links are not configured


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    sms: str


# (subject, lead sentence). Placeholders are filled from OrderFacts.
_WORDING = {
    "received": ("We received your order {number}", "we received your order {number}."),
    "confirmed": (
        "Order {number} confirmed",
        "your order {number} is confirmed and being prepared.",
    ),
    "back_in_progress": (
        "Order {number} is being prepared again",
        "your order {number} is being prepared again{because}.",
    ),
    "shipped": ("Order {number} has shipped", "your order {number} has shipped{tracking}."),
    "completed": ("Order {number} delivered", "your order {number} is complete. Thank you!"),
    "cancelled": (
        "Order {number} cancelled",
        "your order {number} has been cancelled{because}.{refund}",
    ),
    "payment_failed": (
        "Payment for order {number} failed",
        "the payment for your order {number} did not go through. Please get in touch.",
    ),
    "refunded": ("Order {number} refunded", "your payment for order {number} has been refunded."),
}


def customer_text(value: str, limit: int) -> str:
    """Customer text fit for a message: one line, no links, at most `limit` characters.

    Line breaks and control characters become spaces, format characters go, words that look
    like a link (a scheme, "www." or a bare domain) are dropped, and what remains is cut to
    `limit` characters.
    Staff text (a cancel reason, tracking details) and the catalogue are trusted as typed.
    """
    shown = "".join(_shown(char) for char in value)
    shown = " ".join(_LINKISH.sub(" ", shown).split())
    return shown if len(shown) <= limit else shown[: limit - 1].rstrip() + "…"


def _shown(char: str) -> str:
    """Breaks and controls become spaces; format characters (bidi overrides, zero-width
    spaces) go, except the joiners that emoji and some scripts are written with."""
    kind = unicodedata.category(char)
    if kind in ("Cc", "Zl", "Zp"):
        return " "
    return "" if kind == "Cf" and char not in _JOINERS else char


_JOINERS = frozenset("\u200c\u200d")


def render(template: str, facts: OrderFacts, business_name: str, *, reply_to: str = "") -> Rendered:
    """The e-mail and SMS for one event, signed with the business name from settings."""
    name = customer_text(facts.first_name, FIRST_NAME_LIMIT) or "there"
    subject_pattern, lead_pattern = _WORDING[template]
    plain = _fill(lead_pattern, facts, escape_html=False)
    rich = _fill(lead_pattern, facts, escape_html=True)
    subject = subject_pattern.format(number=facts.number)
    total = format_money(facts.total_cents, facts.currency)
    questions = f"\n\nQuestions? Write to {reply_to}." if reply_to else ""
    follow = f"\n\nSee your order: {facts.status_url}" if facts.status_url else ""
    text = (
        f"Hi {name}, {plain}\n\n"
        f"Items: {facts.items_summary}\nTotal: {total}{follow}{questions}\n\n— {business_name}"
    )
    html = (
        f"<p>Hi {escape(name)}, {rich}</p>"
        f"<p>Items: {escape(facts.items_summary)}<br>Total: {escape(total)}</p>"
        + (_html_link(facts.status_url) if facts.status_url else "")
        + (_html_questions(reply_to) if reply_to else "")
        + f"<p>— {escape(business_name)}</p>"
    )
    sms = _sms(f"{business_name}: Hi {name}, {plain}", facts.status_url)
    return Rendered(subject, text, html, sms)


def _html_link(url: str) -> str:
    return f'<p><a href="{escape(url)}">See your order</a></p>'


def _sms(message: str, status_url: str) -> str:
    """The SMS, shortened if need be — never the link at its end, which must work whole."""
    if not status_url:
        return _shorten(message)
    return _shorten(message, SMS_LIMIT - len(status_url) - 1) + " " + status_url


def _html_questions(reply_to: str) -> str:
    address = escape(reply_to)
    return f'<p>Questions? Write to <a href="mailto:{address}">{address}</a>.</p>'


def _fill(pattern: str, facts: OrderFacts, *, escape_html: bool) -> str:
    def show(value: str) -> str:
        return escape(value) if escape_html else value

    tracking = ""
    if facts.carrier or facts.tracking_number:
        tracking = f" with {show(facts.carrier)}, tracking number {show(facts.tracking_number)}"
        if facts.tracking_url:
            link = show(facts.tracking_url)
            tracking += f' (<a href="{link}">track it</a>)' if escape_html else f": {link}"
    because = f" ({show(facts.reason)})" if facts.reason else ""
    refund = " Your payment has been refunded." if facts.refunded else ""
    return pattern.format(
        number=show(facts.number), tracking=tracking, because=because, refund=refund
    )


SMS_LIMIT = 320  # two GSM segments at most; one where the wording allows


def _shorten(message: str, limit: int = SMS_LIMIT) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"
