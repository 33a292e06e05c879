"""The outbox as staff read it: what was sent, what is stuck, what can be resent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from db.database import Database
from db.models import Notification, Order
from db.settings import load_settings
from domain.enums import Channel, NotificationStatus, Template
from domain.settings import within_days

N = Notification
S = NotificationStatus
RESENDABLE = frozenset({S.FAILED, S.DEAD, S.UNCERTAIN})
NO_CHANNEL = "none"  # the channel filter's value for undeliverable rows
LIST_LIMIT = 200
# How staff read a status where its name alone would mislead: a dry-run message was only
# logged (its channel has no provider credentials), and no customer received it.
STATUS_TEXT = {S.DRY_RUN.value: "not sent — dry run"}


def status_text(status: str) -> str:
    """A notification status as the dashboard shows it."""
    return STATUS_TEXT.get(status, status)


@dataclass(frozen=True)
class NotificationFilter:
    statuses: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()  # "email", "sms", or NO_CHANNEL
    date_from: date | None = None  # in the business's time zone, inclusive
    date_to: date | None = None


@dataclass(frozen=True)
class OutboxRow:
    id: int
    order_id: int
    order_number: str
    template: str
    channel: str | None
    recipient: str
    status: str
    attempts: int
    last_error: str | None
    provider_id: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    resend_of_id: int | None

    @property
    def message(self) -> str:
        return Template(self.template).short_label

    @property
    def status_text(self) -> str:
        return status_text(self.status)

    @property
    def can_resend(self) -> bool:
        return self.status in RESENDABLE


@dataclass(frozen=True)
class OutboxPage:
    rows: list[OutboxRow]
    total: int


def status_counts(db: Database) -> dict[str, int]:
    """How many notifications are in each status (every status present, zero or not)."""
    with db.reading() as session:
        found = dict(session.execute(select(N.status, func.count()).group_by(N.status)).all())
    return {status.value: found.get(status, 0) for status in S}


def list_notifications(
    db: Database,
    *,
    filters: NotificationFilter = NotificationFilter(),
    limit: int = LIST_LIMIT,
    zone: ZoneInfo | None = None,
) -> OutboxPage:
    """The newest `limit` notifications matching the filters, and how many match in all."""
    with db.reading() as session:
        conditions = _conditions(filters, zone or load_settings(session).zone)
        total = session.scalar(select(func.count()).select_from(N).where(*conditions)) or 0
        query = (
            select(N, Order.number)
            .join(Order, Order.id == N.order_id)
            .where(*conditions)
            .order_by(N.created_at.desc(), N.id.desc())
            .limit(limit)
        )
        rows = [_row(n, number) for n, number in session.execute(query)]
    return OutboxPage(rows, total)


def resendable(db: Database, *, limit: int = LIST_LIMIT) -> list[OutboxRow]:
    """Failed, dead and uncertain notifications that have not been resent yet."""
    again = aliased(N)
    not_resent = ~select(again.id).where(again.resend_of_id == N.id).exists()
    query = (
        select(N, Order.number)
        .join(Order, Order.id == N.order_id)
        .where(N.status.in_(RESENDABLE), not_resent)
        .order_by(N.created_at.desc(), N.id.desc())
        .limit(limit)
    )
    with db.reading() as session:
        return [_row(n, number) for n, number in session.execute(query)]


def _conditions(filters: NotificationFilter, zone: ZoneInfo) -> list[Any]:
    conditions: list[Any] = []
    if filters.statuses:
        conditions.append(N.status.in_([S(s) for s in filters.statuses]))
    if filters.channels:
        channels = [Channel(c) for c in filters.channels if c != NO_CHANNEL]
        match: Any = N.channel.in_(channels)
        if NO_CHANNEL in filters.channels:
            match = match | N.channel.is_(None)
        conditions.append(match)
    conditions += within_days(N.created_at, filters.date_from, filters.date_to, zone)
    return conditions


def _row(n: Notification, number: str) -> OutboxRow:
    return OutboxRow(
        id=n.id,
        order_id=n.order_id,
        order_number=number,
        template=n.template,
        channel=n.channel.value if n.channel else None,
        recipient=n.recipient,
        status=n.status.value,
        attempts=n.attempts,
        last_error=n.last_error,
        provider_id=n.provider_id,
        created_at=n.created_at,
        sent_at=n.sent_at,
        next_attempt_at=n.next_attempt_at,
        resend_of_id=n.resend_of_id,
    )
