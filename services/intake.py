"""The AI assistant's way in: idempotent order placement, the catalogue, order status.

Idempotency (DESIGN.md §7). A request's key is claimed by inserting an `in_flight` row in
its own short transaction, so a concurrent duplicate sees it at once and gets 409. The
order and the key's `done` row (with the response to replay) are then written together (on
PostgreSQL in the order's one statement, see `UnitOfWork`): an order never exists without
its key being done, and a key is never done without its order. When placing the order
fails — invalid input included — the claim is released, so a corrected retry with the same
key goes through: a key stands for the order it created, never for a rejected attempt
(Stripe's rule, too). A claim whose process died is taken over after IN_FLIGHT_LEASE; the
finishing update checks the claim is still its own, so a slow original and a takeover can
never both create an order.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, cast

from pydantic import ConfigDict, StringConstraints, ValidationInfo, field_validator
from sqlalchemy import Connection, Table, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from db.database import Database
from db.models import Contact, IdempotencyKey, Order, utc_now
from db.settings import load_settings, settings_from, stored_settings
from db.unit_of_work import UnitOfWork
from domain.enums import Source
from domain.inputs import (
    FieldError,
    InvalidInput,
    Strict,
    normalise_email,
    normalise_phone,
    parse,
)
from domain.order import OrderError
from domain.settings import BusinessSettings
from queries.catalogue import list_products
from queries.orders import business_settings
from services import orders

log = logging.getLogger("product_orders.intake")

ACTOR = "assistant"
IN_FLIGHT = "in_flight"
DONE = "done"
CREATED = 201
# Keys are kept at least this long; older ones are purged now and then.
KEY_RETENTION = timedelta(hours=24)
PURGE_EVERY_SECONDS = 600
# A claim older than this belongs to a request whose process died; it may be taken over.
IN_FLIGHT_LEASE = timedelta(seconds=60)
MAX_KEY_LENGTH = 255


class KeyInFlight(OrderError):
    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is still being processed; retry shortly."
        )


class KeyReused(OrderError):
    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request body. "
            "Use a new key for a new order."
        )


@dataclass(frozen=True)
class Placed:
    """The response to send: the stored one when `replayed`."""

    status: int
    body: str  # JSON text, byte for byte what the first request got
    number: str
    replayed: bool = False


@dataclass(frozen=True)
class Claim:
    id: int
    claimed_at: datetime
    # The business's settings, read by the claim's own statement: the order needs them
    # first, and a round trip of their own cost as much as the read.
    settings: BusinessSettings | None = None


def client_scope(token: str) -> str:
    """Whose keys these are: a hash of the client's token (the token itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def fingerprint(payload: Any) -> str:
    """The same JSON document gives the same fingerprint, however it was spaced or ordered."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # surrogatepass: a lone surrogate ("\\ud800" in the JSON) must reach validation and be
    # refused there as a field error, not crash the hashing.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def place_order(db: Database, *, scope: str, key: str, payload: Any) -> Placed:
    """Create a Pending assistant order once per (client, Idempotency-Key); replay after that."""
    claim = claim_key(db, scope=scope, key=key, request_hash=fingerprint(payload))
    if isinstance(claim, Placed):
        return claim
    completion = KeyCompletion(claim)
    try:
        orders.create_order(
            db,
            order=payload,
            actor=ACTOR,
            source=Source.ASSISTANT,
            settings=claim.settings,
            before_commit=completion,
        )
    except BaseException:
        release_key(db, claim)
        raise
    _purge_now_and_then(db)
    assert completion.placed is not None
    return completion.placed


# The key's statements are built once: they run on every order, and building SQLAlchemy
# statements costs more CPU than sending them.
KEYS = cast(Table, IdempotencyKey.__table__)
CLAIM = {
    name: dialect.insert(KEYS)
    .on_conflict_do_nothing(index_elements=["scope", "key"])
    .returning(KEYS.c.id, stored_settings())
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
EXISTING = select(
    KEYS.c.id,
    KEYS.c.request_hash,
    KEYS.c.state,
    KEYS.c.created_at,
    KEYS.c.response_status,
    KEYS.c.response_body,
).where(KEYS.c.scope == bindparam("scope"), KEYS.c.key == bindparam("key"))
HELD_BY_CLAIM = and_(
    KEYS.c.id == bindparam("claim_id"),
    KEYS.c.state == IN_FLIGHT,
    KEYS.c.created_at == bindparam("claimed_at"),
)
STILL_CLAIMED = update(KEYS).where(HELD_BY_CLAIM)
RELEASE = delete(KEYS).where(HELD_BY_CLAIM)


def claim_key(db: Database, *, scope: str, key: str, request_hash: str) -> Claim | Placed:
    """Take the key for this request, or say why not (replay, KeyInFlight, KeyReused)."""
    now = utc_now()
    # INSERT … ON CONFLICT DO NOTHING: a duplicate costs no error and no savepoint; on
    # PostgreSQL it waits for a concurrent claim of the same key to commit, then skips.
    row = {"scope": scope, "key": key, "request_hash": request_hash, "state": IN_FLIGHT}
    with db.single_statements() as connection:
        claimed = connection.execute(CLAIM[db.kind], {**row, "created_at": now}).first()
        if claimed is not None:
            claim_id, settings = claimed
            return Claim(claim_id, now, settings_from(settings or {}))
        existing = connection.execute(EXISTING, {"scope": scope, "key": key}).one()
        if existing.request_hash != request_hash:
            raise KeyReused()
        if existing.state == DONE:
            return _replay(existing.response_status, existing.response_body)
        abandoned = Claim(existing.id, existing.created_at)
        if existing.created_at > now - IN_FLIGHT_LEASE or not _still_claimed(
            connection, abandoned, created_at=now
        ):
            raise KeyInFlight()
        log.warning("took over an abandoned claim on idempotency key %s", existing.id)
        return Claim(existing.id, now)


def _replay(status: int | None, body: str | None) -> Placed:
    body = body or "{}"
    return Placed(status or CREATED, body, json.loads(body).get("number", ""), replayed=True)


def _still_claimed(connection: Connection, claim: Claim, **values: Any) -> bool:
    """Update the key row only while `claim` still holds it; say whether it did."""
    return connection.execute(STILL_CLAIMED, {**values, **_held(claim)}).rowcount == 1


def _held(claim: Claim) -> dict[str, Any]:
    return {"claim_id": claim.id, "claimed_at": claim.claimed_at}


class KeyCompletion:
    """Runs inside the order's unit of work: records the response against the claimed key."""

    def __init__(self, claim: Claim) -> None:
        self.claim = claim
        self.placed: Placed | None = None

    def __call__(self, uow: UnitOfWork, order: Order) -> None:
        body = json.dumps(order_response(order), separators=(",", ":"), ensure_ascii=False)
        # Refused when taken over after our lease ran out: the other request owns the key now.
        uow.update_one(
            STILL_CLAIMED,
            {
                "state": DONE,
                "response_status": CREATED,
                "response_body": body,
                "order_id": order.id,
            },
            _held(self.claim),
            refused=KeyInFlight,
        )
        self.placed = Placed(CREATED, body, order.number)


def order_response(order: Order) -> dict[str, Any]:
    return {
        "number": order.number,
        "status": order.status.value,
        "payment_status": order.payment_status.value,
        "currency": order.currency,
        "subtotal_cents": order.subtotal_cents,
        "tax_cents": order.tax_cents,
        "shipping_cents": order.shipping_cents,
        "total_cents": order.total_cents,
        "items": [
            {
                "sku": item.sku,
                "name": item.name,
                "quantity": item.quantity,
                "unit_price_cents": item.unit_price_cents,
                "line_total_cents": item.subtotal_cents,
            }
            for item in order.items
        ],
    }


def release_key(db: Database, claim: Claim) -> None:
    """Give the key back after a failed attempt, so the client may retry with it."""
    try:
        with db.single_statements() as connection:
            connection.execute(RELEASE, _held(claim))
    except Exception:
        # The lease frees the key later; the caller's own error is the one to report.
        log.exception("could not release idempotency key %s", claim.id)


def purge_expired_keys(db: Database, *, older_than: timedelta = KEY_RETENTION) -> int:
    with db.single_statements() as connection:
        result = connection.execute(delete(KEYS).where(KEYS.c.created_at < utc_now() - older_than))
    return result.rowcount


_purge_lock = threading.Lock()
_next_purge = 0.0


def _purge_now_and_then(db: Database) -> None:
    # At most once per PURGE_EVERY_SECONDS per process; replicas each purge, harmlessly.
    global _next_purge
    with _purge_lock:
        if time.monotonic() < _next_purge:
            return
        _next_purge = time.monotonic() + PURGE_EVERY_SECONDS
    try:
        purge_expired_keys(db)
    except Exception:
        log.exception("purging old idempotency keys failed; trying again later")


# ---- the catalogue and order status ------------------------------------------------------


@dataclass(frozen=True)
class CatalogueEntry:
    sku: str
    name: str
    category: str
    price_cents: int
    currency: str


def active_catalogue(db: Database) -> list[CatalogueEntry]:
    """What the assistant may quote and sell: active products at today's prices."""
    currency = business_settings(db).currency
    return [
        CatalogueEntry(p.sku, p.name, p.category, p.price_cents, currency)
        for p in list_products(db, active_only=True)
    ]


class OrderLookupIn(Strict):
    """A customer's "where is my order?": the number and their e-mail or phone."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["email"]}, {"required": ["phone"]}]}
    )

    number: Annotated[
        str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=20)
    ]
    email: str | None = None
    phone: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normalise_email(value) if value and value.strip() else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        return normalise_phone(value, (info.context or {}).get("region", "US"))


@dataclass(frozen=True)
class OrderStatusView:
    number: str
    status: str
    payment_status: str
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    updated_at: datetime
    status_url: str | None = None  # the customer's status page, when links are configured


def order_status(db: Database, *, lookup: dict[str, Any]) -> OrderStatusView | None:
    """The order's status, or None when it does not exist or the contact does not match."""
    with db.reading() as session:
        region = load_settings(session).default_country
        wanted = parse(OrderLookupIn, lookup, region=region)
        if wanted.email is None and wanted.phone is None:
            raise InvalidInput([FieldError("email", "give the customer's e-mail or phone")])
        row = session.execute(
            select(
                Order.id,
                Order.number,
                Order.status,
                Order.payment_status,
                Order.carrier,
                Order.tracking_number,
                Order.tracking_url,
                Order.updated_at,
            )
            .join(Contact, Contact.id == Order.contact_id)
            .where(Order.number == wanted.number, or_(*_contact_matches(wanted)))
        ).first()
    if row is None:
        return None
    return OrderStatusView(
        row.number,
        row.status.value,
        row.payment_status.value,
        row.carrier,
        row.tracking_number,
        row.tracking_url,
        row.updated_at,
        db.status_link(row.id) if db.status_link is not None else None,
    )


def _contact_matches(wanted: OrderLookupIn) -> list[Any]:
    matches: list[Any] = []
    if wanted.email:
        key = wanted.email.lower()
        matches += [func.lower(Order.customer_email) == key, Contact.email_key == key]
    if wanted.phone:
        matches += [Order.customer_phone == wanted.phone, Contact.phone == wanted.phone]
    return matches
