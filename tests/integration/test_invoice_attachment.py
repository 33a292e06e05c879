"""The invoice PDF with the order-confirmed e-mail (a setting, off by default), on both databases.

The real SendGrid adapter sends to the local fake, which keeps the JSON body; the PDF is
read back from the attachment's base64 with pypdf.
"""

from __future__ import annotations

import base64
import io
from collections import Counter
from dataclasses import replace

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from bootstrap import invoice_attachments
from db.database import Database
from db.models import Notification, Order, OrderEvent
from db.settings import load_settings, store_settings
from domain.enums import EventKind
from domain.money import format_money
from notify.dispatch import Dispatcher, RetryPolicy
from services import orders
from services.invoices import issue_invoice
from services.notifications import resend_notification
from tests.builders import SMS_CUSTOMER, add_catalogue, order_data
from tests.fakes.notify import providers_for
from tests.fakes.provider_server import SENDGRID_PATH, FakeProviderServer

ACTOR = "staff@example.com"

pytestmark = pytest.mark.usefixtures("no_proxy")


@pytest.fixture
def fake():
    with FakeProviderServer() as server:
        yield server


@pytest.fixture
def shop(db: Database) -> Database:
    add_catalogue(db)
    return db


def attach_invoices(db: Database, on: bool = True) -> None:
    with db.writing() as session:
        store_settings(session, replace(load_settings(session), attach_invoice_to_confirmation=on))
        session.commit()


def dispatcher(db: Database, url: str) -> Dispatcher:
    return Dispatcher(
        db,
        providers_for(url),
        policy=RetryPolicy(max_attempts=4, base_seconds=10, cap_seconds=60),
        attachments=invoice_attachments(db),
    )


def place(db: Database, fake: FakeProviderServer, **changes) -> int:
    """A new order whose 'received' message is already sent, so only the confirm's follows."""
    order_id = orders.create_order(db, order=order_data(**changes), actor=ACTOR).order_id
    dispatcher(db, fake.url).run_once()
    return order_id


def confirm(db: Database, order_id: int) -> None:
    orders.confirm_order(db, order_id=order_id, expected_version=None, actor=ACTOR)


def sendgrid_bodies(fake: FakeProviderServer) -> list[dict]:
    return [r.json for r in fake.requests if r.path == SENDGRID_PATH]


def confirmed_mails(fake: FakeProviderServer) -> list[dict]:
    return [body for body in sendgrid_bodies(fake) if "confirmed" in body["subject"]]


def pdf_text(attachment: dict) -> str:
    reader = PdfReader(io.BytesIO(base64.b64decode(attachment["content"])))
    return "\n".join(page.extract_text() for page in reader.pages)


def stored(db: Database, order_id: int) -> tuple[Order, list[OrderEvent]]:
    with db.reading() as session:
        order = session.get(Order, order_id)
        assert order is not None
        invoices = session.scalars(
            select(OrderEvent).where(
                OrderEvent.order_id == order_id, OrderEvent.kind == EventKind.INVOICE
            )
        ).all()
        session.expunge_all()
        return order, list(invoices)


def test_with_the_setting_on_the_confirmed_email_carries_the_invoice_pdf(shop, fake):
    attach_invoices(shop)
    order_id = place(shop, fake)
    confirm(shop, order_id)
    order, events = stored(shop, order_id)
    number = order.invoice_number
    assert number and number.startswith("INV-") and number.endswith("-00001")
    assert [(e.to_value, e.actor) for e in events] == [(number, ACTOR)]

    assert dispatcher(shop, fake.url).run_once() == Counter(sent=1)

    [mail] = confirmed_mails(fake)
    [attachment] = mail["attachments"]
    assert attachment["filename"] == f"invoice-{number}.pdf"
    assert (attachment["type"], attachment["disposition"]) == ("application/pdf", "attachment")
    assert base64.b64decode(attachment["content"]).startswith(b"%PDF")
    text = pdf_text(attachment)
    assert number in text and order.number in text
    assert f"Total (USD) {format_money(order.total_cents)}" in text


def test_the_confirm_returns_the_version_it_wrote_so_the_next_step_is_not_stale(shop, fake):
    attach_invoices(shop)
    order_id = place(shop, fake)
    change = orders.confirm_order(shop, order_id=order_id, expected_version=None, actor=ACTOR)
    order, _ = stored(shop, order_id)
    assert change.version == order.version  # the confirm and the invoice: two versions on
    orders.cancel_order(
        shop, order_id=order_id, expected_version=change.version, actor=ACTOR, reason="test"
    )


def test_by_default_the_confirmation_has_no_attachment_and_no_number_is_issued(shop, fake):
    order_id = place(shop, fake)
    confirm(shop, order_id)

    assert dispatcher(shop, fake.url).run_once() == Counter(sent=1)

    [mail] = confirmed_mails(fake)
    assert "attachments" not in mail
    order, events = stored(shop, order_id)
    assert order.invoice_number is None and events == []


def test_an_sms_customer_gets_no_attachment_and_no_invoice_number(shop, fake):
    attach_invoices(shop)
    order_id = place(shop, fake, customer=SMS_CUSTOMER)
    confirm(shop, order_id)

    assert dispatcher(shop, fake.url).run_once() == Counter(sent=1)

    assert confirmed_mails(fake) == []
    order, events = stored(shop, order_id)
    assert order.invoice_number is None and events == []
    with shop.reading() as session:
        assert not session.scalar(select(func.count()).where(Notification.attach_invoice))


def test_an_order_already_invoiced_keeps_its_number_and_the_confirmation_attaches_it(shop, fake):
    order_id = place(shop, fake)
    number = issue_invoice(shop, order_id=order_id, actor=ACTOR)
    attach_invoices(shop)
    confirm(shop, order_id)
    dispatcher(shop, fake.url).run_once()

    [mail] = confirmed_mails(fake)
    assert [a["filename"] for a in mail["attachments"]] == [f"invoice-{number}.pdf"]
    order, events = stored(shop, order_id)
    assert order.invoice_number == number and len(events) == 1


def test_a_resend_carries_the_same_invoice_number_again(shop, fake):
    attach_invoices(shop)
    order_id = place(shop, fake)
    confirm(shop, order_id)
    fake.script(SENDGRID_PATH, [(400, {}, {"errors": [{"message": "mailbox full"}]})])
    assert dispatcher(shop, fake.url).run_once() == Counter(failed=1)
    with shop.reading() as session:
        failed = session.scalars(
            select(Notification.id).where(
                Notification.order_id == order_id, Notification.template == "confirmed"
            )
        ).one()

    resend_notification(shop, notification_id=failed, actor=ACTOR)
    assert dispatcher(shop, fake.url).run_once() == Counter(sent=1)

    first, again = confirmed_mails(fake)
    number = stored(shop, order_id)[0].invoice_number
    for mail in (first, again):
        [attachment] = mail["attachments"]
        assert attachment["filename"] == f"invoice-{number}.pdf"
        assert number in pdf_text(attachment)
    _, events = stored(shop, order_id)
    assert len(events) == 1  # issued once, by the confirm


def test_a_confirm_that_rolls_back_takes_its_invoice_number_back(shop, fake, monkeypatch):
    attach_invoices(shop)
    order_id = place(shop, fake)

    def refuse(*args, **kwargs):
        raise RuntimeError("the outbox insert failed")

    monkeypatch.setattr(orders.notify, "enqueue", refuse)
    with pytest.raises(RuntimeError):
        confirm(shop, order_id)
    monkeypatch.undo()
    order, events = stored(shop, order_id)
    assert order.invoice_number is None and events == []

    confirm(shop, order_id)
    assert stored(shop, order_id)[0].invoice_number.endswith("-00001")  # no number burnt


def test_a_dispatcher_without_the_invoice_wired_retries_instead_of_sending_without_it(shop, fake):
    attach_invoices(shop)
    order_id = place(shop, fake)
    confirm(shop, order_id)
    unwired = Dispatcher(shop, providers_for(fake.url))

    assert unwired.run_once() == Counter(retry=1)

    assert confirmed_mails(fake) == []
    assert dispatcher(shop, fake.url).run_once() == Counter()  # waits for its retry time
