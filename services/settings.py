"""The business's settings, stored as JSON values in the settings table."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, StringConstraints, field_validator
from sqlalchemy import JSON, ScalarSelect, Table, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from db.database import Database
from db.models import Setting
from domain.money import Pricing
from services.inputs import Money, Strict, normalise_email, parse
from services.unit_of_work import UnitOfWork

log = logging.getLogger("product_orders.audit")

TEMPLATES = (
    "received",
    "confirmed",
    "back_in_progress",
    "shipped",
    "completed",
    "cancelled",
    "payment_failed",
    "refunded",
)


@dataclass(frozen=True)
class BusinessSettings:
    business_name: str = "Product Orders"
    timezone: str = "UTC"
    currency: str = "USD"
    tax_rate_bp: int = 825
    shipping_fee_cents: int = 500
    free_shipping_over_cents: int | None = None
    default_country: str = "US"
    sender_name: str = ""
    reply_to_email: str = ""
    notify_events: tuple[str, ...] = field(default=TEMPLATES)

    @property
    def pricing(self) -> Pricing:
        return Pricing(self.tax_rate_bp, self.shipping_fee_cents, self.free_shipping_over_cents)

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")


class InvalidSetting(ValueError):
    pass


FIELD_NAMES = {f.name for f in fields(BusinessSettings)}


# Read on every order: a prebuilt statement on the table skips the ORM's per-query work.
SETTINGS_TABLE = cast(Table, Setting.__table__)
ALL_SETTINGS = select(SETTINGS_TABLE.c.key, SETTINGS_TABLE.c.value)


def load_settings(session: Session) -> BusinessSettings:
    rows = session.execute(ALL_SETTINGS)
    return settings_from(dict(rows.all()))


def settings_from(rows: dict[str, str]) -> BusinessSettings:
    """The settings from their stored rows ({key: JSON text}); unset ones keep their defaults."""
    stored = {key: json.loads(value) for key, value in rows.items()}
    known = {key: value for key, value in stored.items() if key in FIELD_NAMES}
    if "notify_events" in known:
        known["notify_events"] = tuple(known["notify_events"])
    return replace(BusinessSettings(), **known)


class _settings_object(FunctionElement[Any]):
    """Every stored setting as one JSON object {key: JSON text}: one aggregate, one column."""

    type = JSON()
    inherit_cache = True
    name = "settings_object"


@compiles(_settings_object)
def _json_object_agg(element: _settings_object, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_object_agg({compiler.process(element.clauses, **kw)})"


@compiles(_settings_object, "sqlite")
def _json_group_object(element: _settings_object, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_object({compiler.process(element.clauses, **kw)})"


def stored_settings() -> ScalarSelect[Any]:
    """The settings rows as a column of another query, for `settings_from(value or {})`.

    The status services read them in the same statement as the order: every change reads
    them fresh (several servers share the database) without a round trip of its own.
    """
    # Table columns, not the mapped attributes: those would make the whole query an ORM one.
    table = SETTINGS_TABLE.c
    return select(_settings_object(table.key, table.value)).scalar_subquery()


def validate_settings(values: BusinessSettings) -> None:
    if not values.business_name.strip():
        raise InvalidSetting("The business name cannot be empty.")
    try:
        ZoneInfo(values.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSetting(f"Unknown time zone “{values.timezone}”.") from None
    if not (0 <= values.tax_rate_bp <= 10_000):
        raise InvalidSetting("The tax rate must be between 0 % and 100 %.")
    if values.shipping_fee_cents < 0 or (values.free_shipping_over_cents or 0) < 0:
        raise InvalidSetting("Shipping amounts cannot be negative.")
    if len(values.currency) != 3 or not values.currency.isalpha():
        raise InvalidSetting("The currency must be a three-letter code such as USD.")
    unknown = set(values.notify_events) - set(TEMPLATES)
    if unknown:
        raise InvalidSetting(f"Unknown notification events: {', '.join(sorted(unknown))}.")


def store_settings(session: Session, values: BusinessSettings) -> dict[str, tuple[Any, Any]]:
    """Write the settings that differ from what is stored; return {name: (old, new)}."""
    validate_settings(values)
    current = load_settings(session)
    changes: dict[str, tuple[Any, Any]] = {}
    for name, new in asdict(values).items():
        old = getattr(current, name)
        if _jsonable(old) == _jsonable(new):
            continue
        changes[name] = (old, new)
        session.merge(Setting(key=name, value=json.dumps(_jsonable(new))))
    return changes


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


# What each notification template is called on the Settings page.
TEMPLATE_LABELS = {
    "received": "Order received",
    "confirmed": "Order confirmed",
    "back_in_progress": "Being prepared again",
    "shipped": "Shipped (with tracking)",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "payment_failed": "Payment failed",
    "refunded": "Refunded",
}

Percent = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10)]


class SettingsIn(Strict):
    """The Settings form as typed: amounts and the tax rate as text."""

    business_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
    timezone: str
    currency: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True)]
    default_country: Annotated[
        str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$")
    ]
    tax_rate_percent: Percent
    shipping_fee: Money
    free_shipping_over: Money | None = None
    sender_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    reply_to_email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] = ""
    notify_events: list[str] = Field(default_factory=lambda: list(TEMPLATES))

    @field_validator("free_shipping_over", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("reply_to_email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalise_email(value) if value else ""

    @field_validator("tax_rate_percent")
    @classmethod
    def _percent(cls, value: str) -> str:
        percent_to_bp(value)
        return value

    def to_settings(self) -> BusinessSettings:
        return BusinessSettings(
            business_name=self.business_name,
            timezone=self.timezone,
            currency=self.currency,
            tax_rate_bp=percent_to_bp(self.tax_rate_percent),
            shipping_fee_cents=self.shipping_fee,
            free_shipping_over_cents=self.free_shipping_over,
            default_country=self.default_country,
            sender_name=self.sender_name,
            reply_to_email=self.reply_to_email,
            notify_events=tuple(e for e in TEMPLATES if e in self.notify_events),
        )


def percent_to_bp(text: str) -> int:
    """'8.25' (or '8.25 %') → 825 basis points."""
    cleaned = text.strip().rstrip("%").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"“{text}” is not a percentage") from None
    if not value.is_finite() or not (0 <= value <= 100):
        raise ValueError("must be between 0 and 100")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("can have at most two decimal places")
    return int(value * 100)


def bp_to_percent(bp: int) -> str:
    return f"{Decimal(bp) / 100:.2f}".rstrip("0").rstrip(".")


def save_settings(
    db: Database, *, values: BusinessSettings | SettingsIn | dict[str, Any], actor: str
) -> dict[str, tuple[Any, Any]]:
    """Store the business's settings; orders placed from now on use them. Returns the changes."""
    if isinstance(values, dict):
        values = parse(SettingsIn, values, subject="the settings")
    if isinstance(values, SettingsIn):
        values = values.to_settings()
    with UnitOfWork(db) as uow:
        changes = store_settings(uow.session, values)
        uow.commit()
    if changes:
        log.info("%s changed settings: %s", actor, ", ".join(sorted(changes)))
    return changes


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first moment of `day` in the business's time zone, as a UTC time."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def within_days(column: Any, first: date | None, last: date | None, zone: ZoneInfo) -> list[Any]:
    """Conditions for `column` falling on the days first…last (inclusive) in `zone`."""
    conditions = []
    if first:
        conditions.append(column >= local_midnight(first, zone))
    if last:
        conditions.append(column < local_midnight(last + timedelta(days=1), zone))
    return conditions
