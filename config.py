"""Where configuration comes from: the environment first, then `.streamlit/secrets.toml`.

Read without importing Streamlit, so Alembic, the seed and dispatch commands, and the
services all see exactly what the dashboard sees.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
DEFAULT_SQLITE_PATH = ROOT / "data" / "orders.db"


def secrets_files() -> list[Path]:
    # The same places Streamlit looks, the project's own file winning.
    return [Path.home() / ".streamlit" / "secrets.toml", ROOT / ".streamlit" / "secrets.toml"]


@lru_cache(maxsize=1)
def _secrets() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in secrets_files():
        if path.is_file():
            with path.open("rb") as handle:
                merged.update(tomllib.load(handle))
    return merged


def reload() -> None:
    _secrets.cache_clear()


def secret_value(name: str, section: str | None = None) -> Any:
    """An environment variable `name`, else `[section] name` (or top-level `name`) in secrets."""
    if name in os.environ and os.environ[name] != "":
        return os.environ[name]
    table = _secrets().get(section, {}) if section else _secrets()
    if isinstance(table, dict) and name in table:
        return table[name]
    return _secrets().get(name)


def secret_entry(section: str, name: str) -> Any:
    """`[section] name` from the secrets files only, never from the environment."""
    return _nested(section, name)


def secret(name: str, section: str | None = None) -> str | None:
    value = secret_value(name, section)
    return None if value is None else str(value)


def database_url() -> str:
    url = os.environ.get("DATABASE_URL") or _nested("connections", "orders", "url")
    return normalise_database_url(url) if url else f"sqlite:///{DEFAULT_SQLITE_PATH}"


def normalise_database_url(url: str) -> str:
    # Hosted PostgreSQL services hand out postgres:// URLs, which SQLAlchemy does not accept.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def _nested(*keys: str) -> Any:
    node: Any = _secrets()
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node
