"""What this deployment has configured, for the Settings page — presence only, never values."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import config
from db.database import Database
from services.providers import build_providers

SecretLookup = Callable[[str, str | None], Any]


@dataclass(frozen=True)
class ConfigurationStatus:
    database_kind: str  # "sqlite" or "postgresql"
    database: str  # the URL with any password hidden
    email_live: bool  # SendGrid configured; otherwise e-mail runs in dry-run mode
    sms_live: bool  # Twilio configured; otherwise SMS runs in dry-run mode
    intake_tokens: int  # how many API tokens the assistant may use

    @property
    def on_sqlite(self) -> bool:
        return self.database_kind == "sqlite"


def configuration_status(
    db: Database, *, secret_value: SecretLookup = config.secret_value
) -> ConfigurationStatus:
    def notification_secret(name: str) -> str | None:
        value = secret_value(name, "notifications")
        return None if value is None else str(value)

    # The same decision the dispatcher makes, so the page cannot disagree with it.
    providers = build_providers(notification_secret)
    return ConfigurationStatus(
        database_kind=db.kind,
        database=db.describe(),
        email_live=not providers["email"].dry_run,
        sms_live=not providers["sms"].dry_run,
        intake_tokens=count_tokens(
            secret_value("INTAKE_API_TOKENS", None) or secret_value("tokens", "intake")
        ),
    )


def count_tokens(value: Any) -> int:
    """Tokens as a list (secrets.toml) or a comma- or space-separated string (environment)."""
    if value is None:
        return 0
    items = value if isinstance(value, list | tuple) else re.split(r"[\s,]+", str(value))
    return sum(1 for item in items if str(item).strip())
