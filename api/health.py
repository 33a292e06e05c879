"""`GET /healthz`: is this process up, and can it reach its database?"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

import bootstrap
from api.nodelay import no_delay
from db.migrate import SchemaOutOfDate

log = logging.getLogger("product_orders.api")


def _check_database() -> str:
    try:
        bootstrap.database().ping()
    except SchemaOutOfDate:
        return "needs migrating"
    except Exception as exc:
        log.warning("health check: database unreachable (%s)", exc.__class__.__name__)
        return "unreachable"
    return "reachable"


async def healthz(request: Request) -> JSONResponse:
    no_delay(request)
    database = await run_in_threadpool(_check_database)
    healthy = database == "reachable"
    return JSONResponse(
        {"status": "ok" if healthy else "unavailable", "database": database},
        status_code=200 if healthy else 503,
    )
