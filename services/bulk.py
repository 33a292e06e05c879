"""Bulk actions: one status or payment change applied to several orders, each on its own.

Every order goes through the very service call a single action uses (`services/orders.py`):
its own transaction, its event with the actor, its outbox row and so exactly one customer
message. One order refused — changed meanwhile by someone else, or no longer allowed —
is skipped with the reason and the others go on; the caller gets one summary of both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from db.database import Database
from db.models import Order
from db.unit_of_work import StaleOrder
from domain.order import Action, OrderError, OrderStatus, PaymentStatus
from services import orders
from services.orders import Change

MAX_BULK = 200  # orders in one bulk action

# What a bulk summary says was done, by action ("12 confirmed").
DONE_WORDS = {
    Action.CONFIRM: "confirmed",
    Action.MARK_IN_PROGRESS: "back in progress",
    Action.MARK_SHIPPED: "marked shipped",
    Action.COMPLETE: "completed",
    Action.CANCEL: "cancelled",
}
PAID_WORDS = "marked paid"
# What someone else did to an order, by the status it has now.
ALREADY = {
    OrderStatus.PENDING: "moved back to Pending",
    OrderStatus.IN_PROGRESS: "confirmed",
    OrderStatus.SHIPPED: "shipped",
    OrderStatus.COMPLETED: "completed",
    OrderStatus.CANCELLED: "cancelled",
}


class TooManyOrders(OrderError):
    def __init__(self, count: int) -> None:
        super().__init__(
            f"A bulk action takes at most {MAX_BULK} orders; {count:,} were selected. "
            "Select fewer and try again."
        )
        self.count = count


@dataclass(frozen=True)
class Target:
    """One order as the user saw it when they chose the action."""

    order_id: int
    number: str
    version: int | None  # None: no version check
    status: OrderStatus | None = None  # as seen, to say what changed meanwhile


@dataclass(frozen=True)
class Shipment:
    carrier: str
    tracking_number: str
    tracking_url: str = ""


@dataclass(frozen=True)
class Skipped:
    order_id: int
    number: str
    reason: str  # for the user, starting with the order's number


@dataclass(frozen=True)
class BulkResult:
    done_words: str  # "confirmed"
    done: tuple[Change, ...]
    skipped: tuple[Skipped, ...]

    @property
    def done_ids(self) -> list[int]:
        return [change.order_id for change in self.done]

    @property
    def summary(self) -> str:
        """ "12 confirmed · 2 skipped: ORD-10041 was already cancelled by someone else; …"."""
        text = f"{len(self.done):,} {self.done_words}"
        if self.skipped:
            reasons = "; ".join(s.reason for s in self.skipped)
            text += f" · {len(self.skipped):,} skipped: {reasons}"
        return text


def apply(
    db: Database,
    targets: Sequence[Target],
    call: Callable[[Target], Change],
    *,
    done_words: str,
) -> BulkResult:
    """`call` once per order, in the order given; refusals are collected, never raised."""
    if len(targets) > MAX_BULK:
        raise TooManyOrders(len(targets))
    done: list[Change] = []
    skipped: list[Skipped] = []
    for target in targets:
        try:
            done.append(call(target))
        except StaleOrder:
            skipped.append(Skipped(target.order_id, target.number, _changed_meanwhile(db, target)))
        except OrderError as exc:
            # Without its full stop: the reasons are joined into one sentence (`summary`).
            reason = str(exc).rstrip(".")
            skipped.append(Skipped(target.order_id, target.number, f"{target.number}: {reason}"))
    return BulkResult(done_words, tuple(done), tuple(skipped))


def _changed_meanwhile(db: Database, target: Target) -> str:
    with db.reading() as session:
        status = session.execute(
            select(Order.status).where(Order.id == target.order_id)
        ).scalar_one_or_none()
    if status is None:
        return f"{target.number} no longer exists"
    if target.status is not None and status != target.status:
        return f"{target.number} was already {ALREADY[OrderStatus(status)]} by someone else"
    return f"{target.number} was changed by someone else meanwhile"


# ---- the actions of the bulk bar ----


def _without_input(call: Callable[..., Change], done_words: str) -> Callable[..., BulkResult]:
    """A bulk action whose single action needs nothing but the order and the actor."""

    def run(db: Database, targets: Sequence[Target], *, actor: str) -> BulkResult:
        return apply(
            db,
            targets,
            lambda t: call(db, order_id=t.order_id, expected_version=t.version, actor=actor),
            done_words=done_words,
        )

    return run


confirm_orders = _without_input(orders.confirm_order, DONE_WORDS[Action.CONFIRM])
complete_orders = _without_input(orders.complete_order, DONE_WORDS[Action.COMPLETE])


def mark_in_progress_orders(
    db: Database, targets: Sequence[Target], *, actor: str, reason: str
) -> BulkResult:
    return apply(
        db,
        targets,
        lambda t: orders.mark_in_progress(
            db, order_id=t.order_id, expected_version=t.version, actor=actor, reason=reason
        ),
        done_words=DONE_WORDS[Action.MARK_IN_PROGRESS],
    )


def cancel_orders(
    db: Database, targets: Sequence[Target], *, actor: str, reason: str, refund: bool = False
) -> BulkResult:
    """One reason for all; `refund` refunds those of them that are paid."""
    return apply(
        db,
        targets,
        lambda t: orders.cancel_order(
            db,
            order_id=t.order_id,
            expected_version=t.version,
            actor=actor,
            reason=reason,
            refund=refund,
        ),
        done_words=DONE_WORDS[Action.CANCEL],
    )


def mark_shipped_orders(
    db: Database,
    targets: Sequence[Target],
    *,
    actor: str,
    shipments: dict[int, Shipment],
    ship_unpaid: bool = False,
) -> BulkResult:
    """Each order with its own carrier and tracking number (by order id)."""

    def ship(t: Target) -> Change:
        given = shipments.get(t.order_id, Shipment("", ""))
        return orders.mark_shipped(
            db,
            order_id=t.order_id,
            expected_version=t.version,
            actor=actor,
            carrier=given.carrier,
            tracking_number=given.tracking_number,
            tracking_url=given.tracking_url,
            ship_unpaid=ship_unpaid,
        )

    return apply(db, targets, ship, done_words=DONE_WORDS[Action.MARK_SHIPPED])


def mark_paid_orders(db: Database, targets: Sequence[Target], *, actor: str) -> BulkResult:
    def paid(t: Target) -> Change:
        return orders.set_payment_status(
            db, order_id=t.order_id, expected_version=t.version, actor=actor, payment=PAID
        )

    return apply(db, targets, paid, done_words=PAID_WORDS)


PAID = PaymentStatus.PAID
