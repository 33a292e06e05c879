"""The business's settings as a value, and the rules they must meet."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.enums import TEMPLATES
from domain.money import Pricing


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
    # The seller on invoices and the return address on packing slips (the seller's name
    # is the business name).
    seller_address: str = ""
    tax_id: str = ""
    notify_events: tuple[str, ...] = field(default=TEMPLATES)
    # The invoice PDF goes with the order-confirmed e-mail (never with a text message); the
    # confirm then issues the invoice number.
    attach_invoice_to_confirmation: bool = False

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
