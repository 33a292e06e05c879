"""`python -m api`: the JSON API, its OpenAPI document, the webhooks and /healthz, no dashboard.

Same code and same database (DATABASE_URL or the secrets) as `streamlit run app.py`; run it
beside the dashboard or on another host against the same PostgreSQL. It delivers
notifications too, unless --no-dispatcher.
"""

from __future__ import annotations

import argparse
import logging

import uvicorn
from sqlalchemy.exc import DBAPIError

import bootstrap
from db.migrate import SchemaOutOfDate

FACTORIES = {True: "api.app:build_app", False: "api.app:build_app_without_dispatcher"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (1)")
    parser.add_argument(
        "--no-dispatcher",
        action="store_true",
        help="do not deliver notifications from this process (another one does)",
    )
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    prepare_database()
    uvicorn.run(
        FACTORIES[not args.no_dispatcher],
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
    )


def prepare_database() -> None:
    """Migrate the embedded SQLite once, here, before the workers start: workers that all
    migrated a new file at once met "database is locked", and one then sent nothing."""
    try:
        bootstrap.database().dispose()
    except (SchemaOutOfDate, DBAPIError) as exc:
        # /healthz says so; each worker tries again when it starts.
        logging.getLogger("product_orders").warning("the database is not ready: %s", exc)


if __name__ == "__main__":
    main()
