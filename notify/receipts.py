"""Delivery receipts: what SendGrid's event webhook and Twilio's status callback tell us.

Updates only move a row forward (sent → delivered → bounced, never back), so a duplicate
or replayed receipt matches no row and changes nothing — that is how duplicates are
ignored, without keeping every event id. A row is found by the provider's id, or by our
reference (the dedupe key) when the send ended uncertain and no id was recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal, or_, update

from db.database import Database
from db.models import Notification, utc_now
from domain.enums import NotificationStatus
from notify.dispatch import opt_out
from notify.outbox import CHANNEL_NAMES, label, note_on_order

N = Notification
S = NotificationStatus
OPTED_OUT = "21610"

# Which states each receipt may move a row out of.
MOVES_FROM: dict[NotificationStatus, frozenset[NotificationStatus]] = {
    S.SENT: frozenset({S.UNCERTAIN}),  # proof that an uncertain send did go out
    S.DELIVERED: frozenset({S.SENDING, S.SENT, S.UNCERTAIN}),
    S.BOUNCED: frozenset({S.SENDING, S.SENT, S.UNCERTAIN, S.DELIVERED}),
    S.UNDELIVERED: frozenset({S.SENDING, S.SENT, S.UNCERTAIN, S.DELIVERED}),
}
PROBLEMS = {S.BOUNCED: "bounced", S.UNDELIVERED: "was not delivered"}

SENDGRID_EVENTS = {"delivered": S.DELIVERED, "bounce": S.BOUNCED, "dropped": S.UNDELIVERED}
TWILIO_STATUSES = {
    "sent": S.SENT,
    "delivered": S.DELIVERED,
    "undelivered": S.UNDELIVERED,
    "failed": S.UNDELIVERED,
}


@dataclass(frozen=True)
class DeliveryReport:
    status: NotificationStatus
    provider_id: str = ""
    reference: str = ""
    detail: str = ""
    opted_out: bool = False


def sendgrid_reports(events: Iterable[Mapping[str, Any]]) -> list[DeliveryReport]:
    """Reports for the events that change a row; opens, clicks and deferrals are ignored."""
    reports = []
    for event in events:
        status = SENDGRID_EVENTS.get(str(event.get("event", "")))
        if status is None:
            continue
        # sg_message_id is the X-Message-Id we stored, followed by ".filter…" parts.
        message_id = str(event.get("sg_message_id") or "").split(".", 1)[0]
        detail = str(event.get("reason") or event.get("response") or event.get("type") or "")
        reports.append(
            DeliveryReport(status, message_id, str(event.get("notification_ref") or ""), detail)
        )
    return reports


def twilio_report(form: Mapping[str, str], *, reference: str = "") -> DeliveryReport | None:
    status = TWILIO_STATUSES.get(form.get("MessageStatus", ""))
    if status is None:
        return None
    code = form.get("ErrorCode", "")
    return DeliveryReport(
        status,
        provider_id=form.get("MessageSid", ""),
        reference=reference,
        detail=f"Twilio error {code}" if code else form.get("MessageStatus", ""),
        opted_out=code == OPTED_OUT,
    )


def record_reports(db: Database, reports: Iterable[DeliveryReport]) -> int:
    """Apply the reports; returns how many rows changed."""
    changed = 0
    with db.writing() as session:
        for report in reports:
            match = _match(report)
            if match is None:
                continue
            row = session.execute(
                update(N)
                .where(match, N.status.in_(MOVES_FROM[report.status]))
                .values(**_values(report))
                .returning(N.order_id, N.contact_id, N.template, N.channel, N.recipient)
                .execution_options(synchronize_session=False)
            ).first()
            if row is None:
                continue
            changed += 1
            _note(session, report, row)
        session.commit()
    return changed


def _match(report: DeliveryReport) -> Any:
    conditions = []
    if report.provider_id:
        conditions.append(N.provider_id == report.provider_id)
    if report.reference:
        conditions.append(N.dedupe_key == report.reference)
    return or_(*conditions) if conditions else None


def _values(report: DeliveryReport) -> dict[str, Any]:
    now = utc_now()
    values: dict[str, Any] = {
        "status": report.status,
        "lease_until": None,
        "updated_at": now,
        "sent_at": func.coalesce(N.sent_at, literal(now, type_=N.__table__.c.sent_at.type)),
    }
    if report.provider_id:
        values["provider_id"] = func.coalesce(N.provider_id, report.provider_id)
    if report.status in PROBLEMS:
        values["last_error"] = report.detail or PROBLEMS[report.status]
    return values


def _note(session: Any, report: DeliveryReport, row: Any) -> None:
    what = f"The “{label(row.template)}” {CHANNEL_NAMES.get(row.channel.value, '')}"
    what += f" to {row.recipient}"
    if report.status in PROBLEMS:
        because = f": {report.detail}" if report.detail else ""
        note_on_order(
            session, order_id=row.order_id, detail=f"{what} {PROBLEMS[report.status]}{because}."
        )
    elif report.status is S.SENT:
        note_on_order(session, order_id=row.order_id, detail=f"{what} was confirmed sent.")
    if report.opted_out and row.contact_id is not None:
        opt_out(session, contact_id=row.contact_id, order_id=row.order_id)
