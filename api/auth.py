"""Bearer tokens for the assistant, from INTAKE_API_TOKENS or `[intake] tokens` in secrets."""

from __future__ import annotations

import hashlib
import hmac
import os

from starlette.requests import Request

import config
from api.problems import Problem
from services.intake import client_scope

ENV_VARIABLE = "INTAKE_API_TOKENS"


def configured_tokens() -> list[str]:
    value = os.environ.get(ENV_VARIABLE) or config.secret_entry("intake", "tokens")
    if isinstance(value, str):
        value = value.split(",")
    return [str(token).strip() for token in value or [] if str(token).strip()]


def authenticate(request: Request) -> str:
    """The calling client's scope (a hash of its token), or a 503 / 401 problem."""
    tokens = configured_tokens()
    if not tokens:
        raise Problem(
            503,
            "intake-not-configured",
            "The order API is not configured",
            f"No API token is configured. Set {ENV_VARIABLE} (comma-separated) or "
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
