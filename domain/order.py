"""The rules of an order: statuses, the actions between them, and what each action needs.

Pure Python: no session, no I/O. The UI asks `allowed_actions()` which buttons to show, and
the services ask `check_action()` before they change anything, so both read one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.enums import EventKind, Template


class OrderStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    REFUNDED = "refunded"

    @property
    def label(self) -> str:
        return self.value.title()


class Action(StrEnum):
    CONFIRM = "confirm"
    MARK_IN_PROGRESS = "mark_in_progress"
    MARK_SHIPPED = "mark_shipped"
    COMPLETE = "complete"
    CANCEL = "cancel"

    @property
    def label(self) -> str:
        return ACTIONS[self].label


STATUS_LABELS = {
    OrderStatus.PENDING: "Pending",
    OrderStatus.IN_PROGRESS: "In Progress",
    OrderStatus.SHIPPED: "Shipped",
    OrderStatus.COMPLETED: "Completed",
    OrderStatus.CANCELLED: "Cancelled",
}

# One colour per status, used by the table badge, the detail header and the charts.
STATUS_COLOURS = {
    OrderStatus.PENDING: "#d97706",  # amber
    OrderStatus.IN_PROGRESS: "#2563eb",  # blue
    OrderStatus.SHIPPED: "#7c3aed",  # violet
    OrderStatus.COMPLETED: "#16a34a",  # green
    OrderStatus.CANCELLED: "#dc2626",  # red
}

PAYMENT_COLOURS = {
    PaymentStatus.PENDING: "#d97706",
    PaymentStatus.PAID: "#16a34a",
    PaymentStatus.FAILED: "#dc2626",
    PaymentStatus.REFUNDED: "#6b7280",
}

TERMINAL = frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED})
EDITABLE = frozenset({OrderStatus.PENDING, OrderStatus.IN_PROGRESS})
CURRENT = frozenset({OrderStatus.IN_PROGRESS, OrderStatus.SHIPPED})


@dataclass(frozen=True)
class Transition:
    label: str
    sources: frozenset[OrderStatus]
    target: OrderStatus
    needs_reason: bool = False
    needs_tracking: bool = False


ACTIONS: dict[Action, Transition] = {
    Action.CONFIRM: Transition(
        "Confirm Order", frozenset({OrderStatus.PENDING}), OrderStatus.IN_PROGRESS
    ),
    Action.MARK_IN_PROGRESS: Transition(
        "Mark In Progress",
        frozenset({OrderStatus.SHIPPED}),
        OrderStatus.IN_PROGRESS,
        needs_reason=True,
    ),
    Action.MARK_SHIPPED: Transition(
        "Mark Shipped",
        frozenset({OrderStatus.IN_PROGRESS}),
        OrderStatus.SHIPPED,
        needs_tracking=True,
    ),
    Action.COMPLETE: Transition(
        "Complete Order", frozenset({OrderStatus.SHIPPED}), OrderStatus.COMPLETED
    ),
    Action.CANCEL: Transition(
        "Cancel Order",
        frozenset({OrderStatus.PENDING, OrderStatus.IN_PROGRESS}),
        OrderStatus.CANCELLED,
        needs_reason=True,
    ),
}

PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.PENDING: frozenset({PaymentStatus.PAID, PaymentStatus.FAILED}),
    PaymentStatus.FAILED: frozenset({PaymentStatus.PAID, PaymentStatus.PENDING}),
    PaymentStatus.PAID: frozenset({PaymentStatus.REFUNDED}),
    PaymentStatus.REFUNDED: frozenset(),
}


class OrderError(Exception):
    """A change to an order that the rules refuse; the message is meant for the user."""


class UnknownOrder(OrderError):
    def __init__(self, ref: object) -> None:
        super().__init__(f"Order {ref} does not exist.")


class InvalidTransition(OrderError):
    def __init__(self, action: Action, status: OrderStatus) -> None:
        super().__init__(f"“{action.label}” is not possible while the order is {status.label}.")
        self.action = action
        self.status = status


class InvalidPaymentTransition(OrderError):
    def __init__(self, current: PaymentStatus, target: PaymentStatus) -> None:
        super().__init__(f"Payment cannot go from {current.label} to {target.label}.")


class TrackingRequired(OrderError):
    def __init__(self) -> None:
        super().__init__("A carrier and a tracking number are needed to mark an order shipped.")


class PaymentRequired(OrderError):
    def __init__(self, payment: PaymentStatus) -> None:
        super().__init__(
            f"Payment is {payment.label}, not Paid. Confirm the override to ship it anyway."
        )


class ReasonRequired(OrderError):
    def __init__(self, action: Action) -> None:
        super().__init__(f"Please give a reason to {action.label.lower()}.")


class NotEditable(OrderError):
    def __init__(self, status: OrderStatus) -> None:
        super().__init__(
            f"An order that is {status.label} can no longer be edited; "
            "only Pending and In Progress orders can."
        )


def allowed_actions(status: OrderStatus) -> list[Action]:
    return [action for action, rule in ACTIONS.items() if status in rule.sources]


def allowed_payment_targets(payment: PaymentStatus) -> list[PaymentStatus]:
    return sorted(PAYMENT_TRANSITIONS[payment], key=list(PaymentStatus).index)


@dataclass(frozen=True)
class ActionInput:
    """What the user supplied with an action; each action reads the part it needs."""

    reason: str = ""
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    ship_unpaid: bool = False


def check_action(
    action: Action, status: OrderStatus, payment: PaymentStatus, given: ActionInput
) -> OrderStatus:
    """Return the status the action leads to, or raise the error that explains why not."""
    rule = ACTIONS[action]
    if status not in rule.sources:
        raise InvalidTransition(action, status)
    if rule.needs_reason and not given.reason.strip():
        raise ReasonRequired(action)
    if rule.needs_tracking:
        if not (given.carrier.strip() and given.tracking_number.strip()):
            raise TrackingRequired()
        if payment is not PaymentStatus.PAID and not given.ship_unpaid:
            raise PaymentRequired(payment)
    return rule.target


def check_payment(current: PaymentStatus, target: PaymentStatus) -> PaymentStatus:
    if target not in PAYMENT_TRANSITIONS[current]:
        raise InvalidPaymentTransition(current, target)
    return target


def check_editable(status: OrderStatus) -> None:
    if status not in EDITABLE:
        raise NotEditable(status)


# ---- what a change does ----------------------------------------------------------------------

# The message each action sends; a back-to-in-progress differs from a first confirmation.
TEMPLATE_FOR = {
    Action.CONFIRM: Template.CONFIRMED,
    Action.MARK_IN_PROGRESS: Template.BACK_IN_PROGRESS,
    Action.MARK_SHIPPED: Template.SHIPPED,
    Action.COMPLETE: Template.COMPLETED,
    Action.CANCEL: Template.CANCELLED,
}
PAYMENT_TEMPLATES = {
    PaymentStatus.FAILED: Template.PAYMENT_FAILED,
    PaymentStatus.REFUNDED: Template.REFUNDED,
}
TIMESTAMP_FOR = {
    Action.CONFIRM: "confirmed_at",
    Action.MARK_SHIPPED: "shipped_at",
    Action.COMPLETE: "completed_at",
    Action.CANCEL: "cancelled_at",
}


@dataclass(frozen=True)
class Happened:
    """One entry for the order's timeline, as the rules decided it."""

    kind: EventKind
    before: str | None
    after: str | None
    detail: str = ""


@dataclass(frozen=True)
class Outcome:
    """What an allowed change does: the order's fields it sets, what it records on the
    timeline (the first entry is the one the customer's message is about) and that message."""

    changes: dict[str, Any]
    events: tuple[Happened, ...]
    template: Template | None
    refunded: bool = False
    reason: str = ""


def take_action(
    action: Action,
    status: OrderStatus,
    payment: PaymentStatus,
    given: ActionInput,
    *,
    at: datetime,
    refund: bool = False,
) -> Outcome:
    """The outcome of `action` on an order, or the error that explains why it is refused.

    Cancelling a paid order with `refund` also refunds it, in the same step.
    """
    target = check_action(action, status, payment, given)
    refunded = refund and action is Action.CANCEL and payment is PaymentStatus.PAID
    changes: dict[str, Any] = {"status": target}
    if action in TIMESTAMP_FOR:
        changes[TIMESTAMP_FOR[action]] = at
    detail = given.reason.strip()
    if action is Action.MARK_SHIPPED:
        changes["carrier"] = given.carrier.strip()
        changes["tracking_number"] = given.tracking_number.strip()
        changes["tracking_url"] = given.tracking_url.strip() or None
        detail = f"{changes['carrier']}, tracking {changes['tracking_number']}"
        if payment is not PaymentStatus.PAID:
            detail += f" (shipped with payment {payment.label}, override confirmed)"
    if action is Action.CANCEL:
        changes["cancel_reason"] = given.reason.strip()
    events = [Happened(EventKind.STATUS, status, target, detail)]
    if refunded:
        changes["payment_status"] = PaymentStatus.REFUNDED
        events.append(
            Happened(
                EventKind.PAYMENT,
                PaymentStatus.PAID,
                PaymentStatus.REFUNDED,
                "Refunded on cancellation",
            )
        )
    return Outcome(
        changes, tuple(events), TEMPLATE_FOR[action], refunded, reason=given.reason.strip()
    )


def change_payment(current: PaymentStatus, target: PaymentStatus) -> Outcome:
    """Recording a payment outcome; a failure or a refund tells the customer."""
    after = check_payment(current, target)
    return Outcome(
        {"payment_status": after},
        (Happened(EventKind.PAYMENT, current, after),),
        PAYMENT_TEMPLATES.get(after),
    )
