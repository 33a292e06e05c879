"""The composition root: what one process is made of, built once and handed down.

Only this module (with `config`, which it reads) knows where settings come from. It builds
one `Database` per process — the dashboard, the JSON routes and notification delivery all
share it, with its pools and its after-commit listeners — the providers, the dispatcher and
the background delivery, and gives the Settings page what is configured. Everything below
takes what it needs as arguments, so a test builds its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import config
from db.database import Database
from db.migrate import ensure_schema
from notify.delivery import IMMEDIATE_TIMEOUT, POLL_SECONDS, BackgroundDelivery
from notify.dispatch import (
    DEFAULT_MAX_ATTEMPTS,
    DISPATCH_TIMEOUT,
    Attachments,
    Claimed,
    Dispatcher,
    RetryPolicy,
)
from notify.links import OrderLinks
from notify.providers import Attachment, Provider, build_providers, is_configured
from queries import pdf
from queries.documents import document_orders
from queries.export_files import ExportFiles

log = logging.getLogger("product_orders")

SecretLookup = Callable[[str, str | None], Any]
INTAKE_TOKENS_VARIABLE = "INTAKE_API_TOKENS"

# ---- the database ------------------------------------------------------------------------

_lock = threading.Lock()
_databases: dict[str, Database] = {}


def database(url: str | None = None) -> Database:
    """This process's database (for DATABASE_URL unless `url` is given), made ready once.

    Blocking — the first call may migrate the embedded SQLite file: call it from a worker
    thread, never on an event loop. A failure keeps nothing, so the next call tries again.
    """
    url = config.normalise_database_url(url) if url else config.database_url()
    with _lock:
        db = _databases.get(url)
        if db is None:
            db = Database(url)
            try:
                ensure_schema(db)
            except Exception:
                db.dispose()
                raise
            links = order_links()
            db.status_link = links.url_for if links else None
            _databases[url] = db
    return db


# ---- notifications -----------------------------------------------------------------------


def notification_secret(name: str) -> str | None:
    return config.secret(name, "notifications")


def providers(*, timeout: float = DISPATCH_TIMEOUT) -> dict[str, Provider]:
    """SendGrid / Twilio from env or `[notifications]` secrets; dry-run where none is set."""
    return build_providers(notification_secret, timeout=timeout)


def max_attempts() -> int:
    raw = notification_secret("NOTIFY_MAX_ATTEMPTS")
    try:
        value = int(raw) if raw else DEFAULT_MAX_ATTEMPTS
    except ValueError:
        value = 0
    if value < 1:
        log.warning("NOTIFY_MAX_ATTEMPTS=%r is not a positive number; using 8", raw)
        return DEFAULT_MAX_ATTEMPTS
    return value


def dispatcher(db: Database, *, timeout: float = DISPATCH_TIMEOUT) -> Dispatcher:
    return Dispatcher(
        db,
        providers(timeout=timeout),
        policy=RetryPolicy(max_attempts=max_attempts()),
        attachments=invoice_attachments(db),
    )


def invoice_attachments(db: Database) -> Attachments:
    """What an outbox row that asks for the invoice carries: the order's invoice PDF.

    It reads the number the confirm issued and never issues one: sending (or resending)
    happens outside the change's transaction, and a number given there could be lost.
    """

    def attach(row: Claimed) -> list[Attachment]:
        settings, found = document_orders(db, [row.order_id])
        issued = [order for order in found if order.invoice_number]
        if not issued:
            raise LookupError(f"order {row.order_id} has no invoice number to attach")
        name = f"invoice-{issued[0].invoice_number}.pdf"
        return [Attachment(name, pdf.invoices(settings, issued))]

    return attach


def background_delivery(db: Database, *, interval: float = POLL_SECONDS) -> BackgroundDelivery:
    """Sending right after each commit (short timeouts), and the dispatcher loop behind it."""
    return BackgroundDelivery(
        immediate=dispatcher(db, timeout=IMMEDIATE_TIMEOUT),
        loop=dispatcher(db),
        interval=interval,
    )


@dataclass(frozen=True)
class DryRunChannel:
    channel: str
    label: str
    provider: str
    settings: str


NEEDS = {
    "email": ("e-mail", "SendGrid", "`SENDGRID_API_KEY` and `SENDGRID_FROM_EMAIL`"),
    "sms": (
        "SMS",
        "Twilio",
        "`TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN` and `TWILIO_FROM_NUMBER` "
        "(or `TWILIO_MESSAGING_SERVICE_SID`)",
    ),
}


def dry_run_channels() -> list[DryRunChannel]:
    """Channels with no provider credentials: their messages are recorded, not delivered."""
    return [
        DryRunChannel(channel, *NEEDS[channel])
        for channel in ("email", "sms")
        if not is_configured(notification_secret, channel)
    ]


# ---- the routes' keys --------------------------------------------------------------------


def parse_tokens(value: Any) -> list[str]:
    """API tokens as a list (secrets.toml) or a comma- or space-separated string (environment)."""
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else str(value).replace(",", " ").split()
    return [str(item).strip() for item in items if str(item).strip()]


def setting_or_entry(name: str, section: str | None) -> Any:
    """An environment variable (or top-level secret) `name`; with a section, `[section] name`
    from the secrets files only."""
    return config.secret_entry(section, name) if section else config.secret_value(name)


def intake_tokens(secret_value: SecretLookup = setting_or_entry) -> list[str]:
    """The assistant's bearer tokens: INTAKE_API_TOKENS, else `[intake] tokens`."""
    return parse_tokens(
        secret_value(INTAKE_TOKENS_VARIABLE, None) or secret_value("tokens", "intake")
    )


def webhook_secret(name: str) -> str | None:
    """A provider's webhook key (`SENDGRID_WEBHOOK_PUBLIC_KEY`, `TWILIO_AUTH_TOKEN`, …)."""
    return notification_secret(name)


# ---- the customer's status links --------------------------------------------------------

PUBLIC_BASE_URL_VARIABLE = "PUBLIC_BASE_URL"
ORDER_LINK_SECRET_VARIABLE = "ORDER_LINK_SECRET"


def public_base_url(secret_value: SecretLookup = setting_or_entry) -> str | None:
    """Where customers reach this server: PUBLIC_BASE_URL, else `[app] public_base_url`."""
    value = secret_value(PUBLIC_BASE_URL_VARIABLE, None) or secret_value("public_base_url", "app")
    base = str(value or "").strip().rstrip("/")
    return base or None


def order_link_secret(secret_value: SecretLookup = setting_or_entry) -> str | None:
    """The key status links are signed with: ORDER_LINK_SECRET, else `[app] order_link_secret`."""
    value = secret_value(ORDER_LINK_SECRET_VARIABLE, None) or secret_value(
        "order_link_secret", "app"
    )
    return str(value) if value else None


def links_problem(secret_value: SecretLookup = setting_or_entry) -> str | None:
    """Why customer messages carry no status link, or None when they do."""
    base = public_base_url(secret_value)
    missing = [
        f"`{name}`"
        for name, value in (
            (PUBLIC_BASE_URL_VARIABLE, base),
            (ORDER_LINK_SECRET_VARIABLE, order_link_secret(secret_value)),
        )
        if not value
    ]
    if missing:
        return f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"
    if base and not base.startswith(("https://", "http://")):
        return f"`{PUBLIC_BASE_URL_VARIABLE}` must start with https:// or http:// (it is “{base}”)"
    return None


def order_links(secret_value: SecretLookup = setting_or_entry) -> OrderLinks | None:
    """The signer of status links, or None when they are not configured (no links then)."""
    if links_problem(secret_value) is not None:
        return None
    base, secret = public_base_url(secret_value), order_link_secret(secret_value)
    assert base and secret
    return OrderLinks(base, secret)


# ---- exports waiting for their download --------------------------------------------------

# One per process: the Streamlit page writes them, the Starlette route serves them.
export_files = ExportFiles()


# ---- what the Settings page shows --------------------------------------------------------


@dataclass(frozen=True)
class ConfigurationStatus:
    database_kind: str  # "sqlite" or "postgresql"
    database: str  # the URL with any password hidden
    email_live: bool  # SendGrid configured; otherwise e-mail runs in dry-run mode
    sms_live: bool  # Twilio configured; otherwise SMS runs in dry-run mode
    intake_tokens: int  # how many API tokens the assistant may use
    status_links: str | None  # the public base of customer status links; None when off
    status_links_problem: str | None  # why messages carry no status link


def configuration_status(
    db: Database, *, secret_value: SecretLookup | None = None
) -> ConfigurationStatus:
    """What this deployment has configured — presence only, never values."""
    lookup = secret_value or setting_or_entry

    def secret(name: str) -> str | None:
        value = (secret_value or config.secret_value)(name, "notifications")
        return None if value is None else str(value)

    # The same decision the dispatcher makes, so the page cannot disagree with it.
    built = build_providers(secret)
    return ConfigurationStatus(
        database_kind=db.kind,
        database=db.describe(),
        email_live=not built["email"].dry_run,
        sms_live=not built["sms"].dry_run,
        intake_tokens=len(intake_tokens(lookup)),
        status_links=None if links_problem(lookup) else public_base_url(lookup),
        status_links_problem=links_problem(lookup),
    )
