"""The business's settings, stored as JSON values in the settings table."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Setting
from domain.money import Pricing

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


def load_settings(session: Session) -> BusinessSettings:
    rows = session.execute(select(Setting.key, Setting.value))
    stored = {key: json.loads(value) for key, value in rows}
    known = {key: value for key, value in stored.items() if key in FIELD_NAMES}
    if "notify_events" in known:
        known["notify_events"] = tuple(known["notify_events"])
    return replace(BusinessSettings(), **known)


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
