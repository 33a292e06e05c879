"""Changing the business's settings from the Settings form."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator

from db.database import Database
from db.settings import store_settings
from db.unit_of_work import UnitOfWork
from domain.enums import TEMPLATES
from domain.inputs import Money, Strict, normalise_email, parse
from domain.settings import BusinessSettings, percent_to_bp

log = logging.getLogger("product_orders.audit")

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
    seller_address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    tax_id: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""
    notify_events: list[str] = Field(default_factory=lambda: list(TEMPLATES))
    attach_invoice_to_confirmation: bool = False

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
            seller_address=self.seller_address,
            tax_id=self.tax_id,
            notify_events=tuple(e for e in TEMPLATES if e in self.notify_events),
            attach_invoice_to_confirmation=self.attach_invoice_to_confirmation,
        )


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
