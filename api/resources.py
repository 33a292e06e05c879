"""The routes' database: one per process, created (and the SQLite file migrated) on first use."""

from __future__ import annotations

import threading

import config
from db.database import Database
from db.migrate import ensure_schema

_lock = threading.Lock()
_database: Database | None = None


def database() -> Database:
    """Blocking (it may migrate): call it from a worker thread, never on the event loop."""
    global _database
    if _database is None:
        with _lock:
            if _database is None:
                db = Database(config.database_url())
                try:
                    ensure_schema(db)
                except Exception:
                    db.dispose()  # not kept: the next request tries again
                    raise
                _database = db
    return _database
