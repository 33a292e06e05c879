from datetime import timedelta

from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from db.models import Notification, OrderEvent
from domain.enums import NotificationStatus
from services import orders
from tests.builders import add_catalogue, order_data
from tests.ui.conftest import open_page


def run_page() -> AppTest:
    return open_page("notifications").run()


def five_orders(db) -> list[int]:
    """Five orders, each with an 'order received' e-mail queued."""
    add_catalogue(db)
    return [
        orders.create_order(
            db, order=order_data(customer__email=f"c{n}@example.com"), actor="t"
        ).order_id
        for n in range(5)
    ]


def set_statuses(db, *statuses: NotificationStatus) -> None:
    with db.writing() as session:
        ids = list(session.scalars(select(Notification.id).order_by(Notification.id)))
        for row_id, status in zip(ids, statuses, strict=False):
            session.execute(
                update(Notification)
                .where(Notification.id == row_id)
                .values(status=status, last_error=f"{status.value} for a reason")
            )
        session.commit()


def table_statuses(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["Status"])


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_an_empty_outbox_says_what_to_do(page_db, configured):
    at = run_page()
    assert not at.exception
    assert "No notifications yet" in at.info[0].value
    assert metrics(at) == {
        "Queued": "0",
        "Failed": "0",
        "Dead": "0",
        "Uncertain": "0",
        "Not sent (dry run)": "0",
    }


def test_the_page_says_plainly_that_notifications_are_not_delivered_without_credentials(
    page_db, dry_run
):
    at = run_page()
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 2
    assert warnings[0].startswith("**E-mail notifications are not being delivered.**")
    assert warnings[1].startswith("**SMS notifications are not being delivered.**")
    assert "SENDGRID_API_KEY" in warnings[0] and "TWILIO_AUTH_TOKEN" in warnings[1]


def test_there_is_no_dry_run_warning_when_both_providers_are_configured(page_db, configured):
    assert run_page().warning == []


def test_the_counts_show_queued_failed_dead_and_uncertain(page_db, configured):
    five_orders(page_db)
    set_statuses(page_db, NotificationStatus.FAILED, NotificationStatus.DEAD)

    at = run_page()

    assert metrics(at) == {
        "Queued": "3",
        "Failed": "1",
        "Dead": "1",
        "Uncertain": "0",
        "Not sent (dry run)": "0",
    }
    assert sorted(table_statuses(at)) == ["dead", "failed", "queued", "queued", "queued"]


def test_the_status_and_channel_filters_narrow_the_table(page_db, configured):
    five_orders(page_db)
    set_statuses(page_db, NotificationStatus.DEAD, NotificationStatus.SENT)
    at = run_page()

    at.multiselect(key="notifications.status").select("dead").select("sent").run()
    assert sorted(table_statuses(at)) == ["dead", "sent"]

    at.multiselect(key="notifications.channel").select("sms").run()
    assert "No notifications match these filters" in at.info[0].value


def test_the_date_filter_leaves_out_older_notifications(page_db, configured):
    five_orders(page_db)
    with page_db.writing() as session:
        first = session.scalar(select(Notification).order_by(Notification.id))
        first.created_at -= timedelta(days=10)
        today = session.scalar(select(Notification.created_at).order_by(Notification.id.desc()))
        session.commit()
    at = run_page()

    at.date_input(key="notifications.dates").set_value((today.date(), today.date())).run()

    assert len(at.dataframe[0].value) == 4


def test_resend_queues_a_linked_row_and_records_who_asked(page_db, configured):
    order_ids = five_orders(page_db)
    set_statuses(page_db, NotificationStatus.DEAD)
    at = run_page()
    picker = at.selectbox(key="notifications.resend_pick")
    assert picker.value == 1 and len(picker.options) == 1

    at.button(key="notifications.resend").click().run()

    assert not at.exception
    assert "Queued again as #6" in at.success[0].value
    with page_db.reading() as session:
        again = session.scalar(select(Notification).where(Notification.resend_of_id == 1))
        note = session.scalar(select(OrderEvent).where(OrderEvent.kind == "notification"))
    assert (again.status, again.order_id) == (NotificationStatus.QUEUED, order_ids[0])
    assert again.dedupe_key == "resend:1"
    assert note.actor == "staff (local mode)"
    assert "Resent the “order received” e-mail" in note.detail
    assert any(c.value.startswith("Nothing to resend") for c in at.caption)  # handled


def test_the_preview_shows_a_real_orders_message(page_db, configured):
    add_catalogue(page_db)
    change = orders.create_order(page_db, order=order_data(), actor="t")
    at = run_page()

    at.selectbox(key="notifications.preview_tpl").select("shipped").run()

    assert at.selectbox(key="notifications.preview_order").value == change.order_id
    assert f"**Subject:** Order {change.number} has shipped" in at.markdown[0].value
    assert "tracking number 1Z999AA10123456784" in at.code[0].value
    assert at.code[1].value.startswith("Product Orders: Hi Ada")


def test_dry_run_messages_are_counted_filtered_and_shown_as_not_sent(page_db, dry_run):
    five_orders(page_db)
    set_statuses(page_db, *[NotificationStatus.DRY_RUN] * 3, NotificationStatus.SENT)
    at = run_page()

    assert metrics(at)["Not sent (dry run)"] == "3"
    assert sorted(table_statuses(at)) == ["not sent — dry run"] * 3 + ["queued", "sent"]

    at.multiselect(key="notifications.status").select("dry_run").run()

    assert table_statuses(at) == ["not sent — dry run"] * 3
    assert not at.exception
