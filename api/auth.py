"""Bearer tokens for the assistant, from INTAKE_API_TOKENS or `[intake] tokens` in secrets."""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request

from api.problems import Problem
from bootstrap import INTAKE_TOKENS_VARIABLE, intake_tokens
from services.intake import client_scope


def authenticate(request: Request) -> str:
    """The calling client's scope (a hash of its token), or a 503 / 401 problem."""
    tokens = intake_tokens()
    if not tokens:
        raise Problem(
            503,
            "intake-not-configured",
            "The order API is not configured",
            f"No API token is configured. Set {INTAKE_TOKENS_VARIABLE} (comma-separated) or "
            "`[intake] tokens = [...]` in .streamlit/secrets.toml, then restart.",
        )
    given = _bearer_token(request)
    if given is None or not _matches_one(given, tokens):
        raise Problem(
            401,
            "unauthorized",
            "Unauthorized",
            "Send a valid API token as `Authorization: Bearer <token>`.",
            headers={"WWW-Authenticate": 'Bearer realm="product-orders"'},
        )
    return client_scope(given)


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _matches_one(given: str, tokens: list[str]) -> bool:
    # Equal-length digests compared in constant time, and every token compared, so the
    # answer's timing says nothing about how close a guess was or which token it resembled.
    digest = hashlib.sha256(given.encode()).digest()
    found = False
    for token in tokens:
        found |= hmac.compare_digest(digest, hashlib.sha256(token.encode()).digest())
    return found
