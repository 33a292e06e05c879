"""Delivers the outbox: claim due rows with a lease, send each once, record what happened.

Claiming is one compare-and-swap UPDATE (queued and due → sending, attempts + 1); on
PostgreSQL the batch is picked with `FOR UPDATE SKIP LOCKED` so several dispatchers share
the work without waiting on each other. `attempts` doubles as the claim's fencing token:
only the claim that holds the current (id, attempts) may record the outcome.

A lease that runs out means its dispatcher stopped (a crash, a dropped database
connection) somewhere between the claim and recording the outcome — possibly after the
provider accepted the message. Nothing tells which, so such a row is never sent again
automatically: the loop marks it `uncertain` with a note on the order, and staff resend it
from the Notifications page if the customer did not get it. A holder that comes back late
finds the row changed and its outcome is dropped.

    python -m notify.dispatch --once     # process what is due, then exit (for cron)
    python -m notify.dispatch            # keep polling until interrupted
"""

from __future__ import annotations

import argparse
import logging
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    Select,
    Table,
    and_,
    bindparam,
    case,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningUpdate

from db.database import Database
from db.models import Contact, Notification, utc_now
from db.settings import load_settings
from domain.enums import Channel, NotificationStatus
from domain.settings import BusinessSettings
from notify.outbox import CHANNEL_NAMES, label, note_on_order
from notify.providers import Attachment, Message, Provider, Receipt

log = logging.getLogger("product_orders.dispatch")

N = Notification
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_LEASE_SECONDS = 300.0  # well above batch size × provider timeout
DISPATCH_TIMEOUT = 10.0  # seconds per provider request in the dispatcher

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter; a provider's Retry-After is a floor, not a hint."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    longest_retry_after: float = 86_400.0

    def delay(self, attempts: int, retry_after: float | None, rng: random.Random) -> float:
        backoff = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        jittered = backoff * (0.5 + rng.random() / 2)
        if retry_after is None:
            return jittered
        return max(jittered, min(retry_after, self.longest_retry_after))


@dataclass(frozen=True)
class Claimed:
    """A row this dispatcher holds the lease on, with what it needs to send it."""

    id: int
    attempts: int
    order_id: int
    contact_id: int | None
    template: str
    channel: Channel
    recipient: str
    subject: str
    body_text: str
    body_html: str
    dedupe_key: str
    attach_invoice: bool = False  # the order's invoice PDF goes with it (e-mail only)


# What goes with a claimed e-mail that asks for attachments: bootstrap wires the one that
# renders the order's already-issued invoice (notify/ never reads documents itself).
Attachments = Callable[[Claimed], Sequence[Attachment]]


def _error_text(receipt: Receipt) -> str:
    code = f" ({receipt.error_code})" if receipt.error_code else ""
    return f"{receipt.error or 'error'}{code}"


NOTIFICATIONS = cast(Table, N.__table__)
C = NOTIFICATIONS.c
CLAIMED_COLUMNS = tuple(C[name] for name in Claimed.__dataclass_fields__)


def due(now: Any) -> Any:
    """Queued and due. A sending row whose lease ran out is never due again (see EXPIRED)."""
    return and_(
        C.status == NotificationStatus.QUEUED,
        or_(C.next_attempt_at.is_(None), C.next_attempt_at <= now),
    )


# Claiming and recording run once per message, right after every order (the after-commit
# path), so their statements are built once, on the table: building them each time, and
# the ORM's bulk-update machinery, cost several times the CPU of sending them.
DUE = due(bindparam("now"))
PICK = (
    select(C.id)
    .where(DUE)
    .order_by(C.next_attempt_at, C.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
PICK_AMONG = PICK.where(C.id.in_(bindparam("ids", expanding=True)))


def claiming(pick: Select[tuple[int]]) -> ReturningUpdate[Any]:
    """Pick due rows and take their lease in one statement (one round trip, not two)."""
    return (
        update(NOTIFICATIONS)
        .where(C.id.in_(pick), DUE)
        .values(
            status=NotificationStatus.SENDING,
            lease_until=bindparam("claimed_until"),
            attempts=C.attempts + 1,
            updated_at=bindparam("now"),
        )
        .returning(*CLAIMED_COLUMNS)
    )


CLAIM, CLAIM_AMONG = claiming(PICK), claiming(PICK_AMONG)
# A lease that ran out: the send may have reached the provider, so the row turns uncertain.
LEASE_EXPIRED = Receipt(
    "uncertain",
    error="the dispatcher stopped before recording the provider's answer",
    error_code="lease expired",
)
EXPIRED = (
    update(NOTIFICATIONS)
    .where(C.status == NotificationStatus.SENDING, C.lease_until < bindparam("now"))
    .values(
        status=NotificationStatus.UNCERTAIN,
        lease_until=None,
        last_error=_error_text(LEASE_EXPIRED),
        updated_at=bindparam("now"),
    )
    .returning(*CLAIMED_COLUMNS)
)
# The SET clause comes from the values given: each outcome sets its own columns.
RECORD = (
    update(NOTIFICATIONS)
    .where(
        C.id == bindparam("row_id"),
        C.status == NotificationStatus.SENDING,
        C.attempts == bindparam("row_attempts"),
    )
    .returning(C.id)
)


# The outcomes recorded together at the end of a batch: they write no note on the order.
DELIVERED = ("sent", "dry_run")


class Dispatcher:
    def __init__(
        self,
        db: Database,
        providers: dict[str, Provider],
        *,
        policy: RetryPolicy | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        batch_size: int = 10,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
        attachments: Attachments | None = None,
    ) -> None:
        self.db = db
        self.providers = providers
        self.policy = policy or RetryPolicy()
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self.clock = clock
        self.rng = rng or random.Random()
        self.attachments = attachments
        self._sender = BusinessSettings()
        self._recordings: dict[tuple[int, tuple[str, ...]], ReturningUpdate[Any]] = {}

    # ---- claiming ----

    def claim(self, *, ids: Iterable[int] | None = None, limit: int | None = None) -> list[Claimed]:
        """Take the lease on up to `limit` due rows (only `ids`, when given)."""
        now = self.clock()
        # One UPDATE claims the batch atomically; the sender's settings need no transaction
        # with it, so neither pays for BEGIN and COMMIT. (Returning the settings with the
        # claim, as a subquery, cost PostgreSQL more than reading them here.)
        with self.db.single_statements() as connection:
            wanted: dict[str, Any] = {"now": now, "limit": limit or self.batch_size}
            if ids is not None:
                wanted["ids"] = list(ids)
            wanted["claimed_until"] = now + self.lease
            claimed = connection.execute(CLAIM if ids is None else CLAIM_AMONG, wanted).all()
            if not claimed:
                return []
            self._sender = load_settings(connection)
        return [Claimed(**row._asdict()) for row in sorted(claimed, key=lambda r: r.id)]

    def expire_leases(self) -> int:
        """Mark rows whose lease ran out `uncertain` (never resent); returns how many."""
        now = self.clock()
        with self.db.writing() as session:
            expired = session.execute(EXPIRED, {"now": now}).all()
            for found in expired:
                row = Claimed(**found._asdict())
                log.warning(
                    "notification %s: lease ran out while sending; marked uncertain", row.id
                )
                self._note(session, row, LEASE_EXPIRED, "uncertain")
            session.commit()
        return len(expired)

    # ---- sending and recording ----

    def deliver_all(self, rows: Iterable[Claimed]) -> Counter[str]:
        """Send claimed rows; record those the provider took in one statement at the end.

        Recording a message per transaction cost about as much as placing its order. The
        rows wait for the batch's last send under their lease, as each waited for its own.
        """
        done: Counter[str] = Counter()
        delivered: list[tuple[Claimed, Receipt]] = []
        for row in rows:
            receipt = self._send(row)
            if receipt.outcome in DELIVERED:
                delivered.append((row, receipt))
            else:
                done[self.record(row, receipt)] += 1
        for outcome in DELIVERED:
            done += self.record_delivered(
                [(row, receipt) for row, receipt in delivered if receipt.outcome == outcome]
            )
        return done

    def _send(self, row: Claimed) -> Receipt:
        try:
            return self.providers[row.channel.value].send(self._message(row))
        except Exception as exc:  # a provider bug must not leave the row leased forever
            log.exception("provider raised while sending notification %s", row.id)
            return Receipt("retry", error=type(exc).__name__, error_code="unexpected")

    def _message(self, row: Claimed) -> Message:
        return Message(
            channel=row.channel.value,  # type: ignore[arg-type]
            to=row.recipient,
            subject=row.subject,
            text=row.body_text,
            html=row.body_html,
            reply_to=self._sender.reply_to_email,
            sender_name=self._sender.sender_name or self._sender.business_name,
            reference=row.dedupe_key,
            attachments=self._attachments(row),
        )

    def _attachments(self, row: Claimed) -> tuple[Attachment, ...]:
        if not row.attach_invoice or row.channel is not Channel.EMAIL:
            return ()  # a text message never carries a file
        if self.attachments is None:
            # Sending the e-mail without the invoice it promised would be silent; retry
            # instead, so the row ends dead with a reason if this dispatcher stays unwired.
            raise LookupError("this dispatcher has no way to attach the invoice")
        return tuple(self.attachments(row))

    def record(self, row: Claimed, receipt: Receipt) -> str:
        now = self.clock()
        outcome, values = self._result(row, receipt, now)
        with self.db.writing() as session:
            held = {"row_id": row.id, "row_attempts": row.attempts}
            changes = {"lease_until": None, "updated_at": now, **values}
            finished = session.execute(RECORD, {**changes, **held}).first()
            if finished is None:
                # Our lease was taken over (or a delivery receipt got here first).
                log.warning("notification %s changed while sending; outcome dropped", row.id)
                return "lost"
            self._note(session, row, receipt, outcome)
            session.commit()
        return outcome

    def record_delivered(self, delivered: list[tuple[Claimed, Receipt]]) -> Counter[str]:
        """Record rows of one outcome, sent or dry_run, in one statement; each row still
        only while this claim holds it (its id and attempts)."""
        if not delivered:
            return Counter()
        now = self.clock()
        outcome, values = self._result(*delivered[0], now)
        params = {**values, "now": now}
        for n, (row, receipt) in enumerate(delivered):
            params |= {f"id_{n}": row.id, f"attempts_{n}": row.attempts}
            params[f"provider_id_{n}"] = receipt.provider_id or None
        columns = tuple(name for name in values if name != "provider_id")  # each row's own
        statement = self._recording(len(delivered), columns)
        with self.db.single_statements() as connection:
            recorded = set(connection.execute(statement, params).scalars())
        for row, _ in delivered:
            if row.id not in recorded:
                log.warning("notification %s changed while sending; outcome dropped", row.id)
        lost = len(delivered) - len(recorded)
        return Counter({outcome: len(recorded), **({"lost": lost} if lost else {})})

    def _recording(self, size: int, columns: tuple[str, ...]) -> ReturningUpdate[Any]:
        """The statement recording `size` rows that sets `columns`, built once per shape."""
        key = (size, columns)
        if key not in self._recordings:
            self._recordings[key] = recording(size, columns)
        return self._recordings[key]

    def _result(self, row: Claimed, receipt: Receipt, now: datetime) -> tuple[str, dict[str, Any]]:
        error = _error_text(receipt)
        if receipt.outcome == "sent":
            return "sent", {
                "status": NotificationStatus.SENT,
                "provider_id": receipt.provider_id or None,
                "sent_at": now,
                "last_error": None,
            }
        if receipt.outcome == "dry_run":  # logged, not sent: no sent_at, nothing on the order
            return "dry_run", {
                "status": NotificationStatus.DRY_RUN,
                "provider_id": receipt.provider_id or None,
                "last_error": None,
            }
        if receipt.outcome == "retry" and row.attempts >= self.policy.max_attempts:
            return "dead", {"status": NotificationStatus.DEAD, "last_error": error}
        if receipt.outcome == "retry":
            wait = self.policy.delay(row.attempts, receipt.retry_after_seconds, self.rng)
            return "retry", {
                "status": NotificationStatus.QUEUED,
                "next_attempt_at": now + timedelta(seconds=wait),
                "last_error": error,
            }
        status = NotificationStatus(receipt.outcome)  # failed or uncertain
        return receipt.outcome, {"status": status, "last_error": error}

    def _note(self, session: Session, row: Claimed, receipt: Receipt, outcome: str) -> None:
        what = f"The “{label(row.template)}” {CHANNEL_NAMES[row.channel.value]} to {row.recipient}"
        error = _error_text(receipt)
        if outcome == "failed":
            detail = f"{what} was refused by the provider: {error}. It will not be retried."
        elif outcome == "dead":
            detail = f"{what} gave up after {row.attempts} attempts: {error}."
        elif outcome == "uncertain":
            detail = (
                f"{what} may or may not have been sent ({error}). It is not resent "
                "automatically; check with the customer and resend if needed."
            )
        else:
            return
        note_on_order(session, order_id=row.order_id, detail=detail)
        if receipt.opted_out and row.contact_id is not None:
            opt_out(session, contact_id=row.contact_id, order_id=row.order_id)

    # ---- loops ----

    def deliver_ids(self, ids: Iterable[int]) -> Counter[str]:
        """Send exactly these rows if they are still due (the immediate, after-commit path)."""
        wanted = list(ids)
        done: Counter[str] = Counter()
        if not wanted:
            return done
        return self.deliver_all(self.claim(ids=wanted, limit=len(wanted)))

    def run_once(self) -> Counter[str]:
        """Send batches until nothing is due; returns how many of each outcome."""
        done: Counter[str] = Counter()
        if expired := self.expire_leases():
            done["uncertain"] += expired
        while batch := self.claim():
            done += self.deliver_all(batch)
        return done

    def run_forever(self, stop: threading.Event, *, interval: float = 5.0) -> None:
        while not stop.is_set():
            try:
                done = self.run_once()
                if done:
                    log.info("dispatched: %s", summary(done))
            except Exception:  # the loop must outlive a database blip
                log.exception("dispatch round failed; trying again in %.0f s", interval)
            stop.wait(interval)


def recording(size: int, columns: tuple[str, ...]) -> ReturningUpdate[Any]:
    """One UPDATE for a batch of `size` rows of one outcome: each row keeps its own provider id.

    Its parameters are numbered (id_0, attempts_0, provider_id_0, …) and `columns` take
    parameters of their own names, so one statement serves every batch of its shape:
    building it for each batch cost more CPU than sending it.
    """
    ids: list[BindParameter[int]] = [bindparam(f"id_{n}") for n in range(size)]
    held = [tuple_(ids[n], bindparam(f"attempts_{n}")) for n in range(size)]
    provider_ids: list[tuple[Any, BindParameter[str | None]]] = [
        (C.id == ids[n], bindparam(f"provider_id_{n}")) for n in range(size)
    ]
    return (
        update(NOTIFICATIONS)
        .where(C.status == NotificationStatus.SENDING, tuple_(C.id, C.attempts).in_(held))
        .values(
            {
                **{name: bindparam(name) for name in columns},
                "lease_until": None,
                "updated_at": bindparam("now"),
                "provider_id": case(*provider_ids),
            }
        )
        .returning(C.id)
    )


def opt_out(session: Session, *, contact_id: int, order_id: int) -> None:
    """The customer replied STOP: never text them again (their next messages go by e-mail)."""
    contact = session.get(Contact, contact_id)
    if contact is None or contact.sms_opt_out:
        return
    contact.sms_opt_out = True
    note_on_order(
        session,
        order_id=order_id,
        detail=f"{contact.customer_code} opted out of SMS (replied STOP); "
        "later messages go by e-mail.",
    )


def summary(done: Counter[str]) -> str:
    return ", ".join(f"{count} {outcome}" for outcome, count in sorted(done.items())) or "nothing"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notify.dispatch", description=__doc__)
    parser.add_argument("--once", action="store_true", help="process due rows, then exit")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between rounds")
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # This command is a process of its own: the composition root wires it like the server.
    import bootstrap

    dispatcher = bootstrap.dispatcher(bootstrap.database(args.database_url))
    if args.once:
        print(f"dispatched: {summary(dispatcher.run_once())}")
        return 0
    stop = threading.Event()
    try:
        dispatcher.run_forever(stop, interval=args.interval)
    except KeyboardInterrupt:
        stop.set()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
