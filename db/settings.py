"""The business's settings, stored as JSON values in the settings table."""

from __future__ import annotations

import json
from dataclasses import asdict, fields, replace
from typing import Any, cast

from sqlalchemy import JSON, Connection, ScalarSelect, Table, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from db.models import Setting
from domain.settings import BusinessSettings, validate_settings

FIELD_NAMES = {f.name for f in fields(BusinessSettings)}


# Read on every order: a prebuilt statement on the table skips the ORM's per-query work.
SETTINGS_TABLE = cast(Table, Setting.__table__)
ALL_SETTINGS = select(SETTINGS_TABLE.c.key, SETTINGS_TABLE.c.value)


def load_settings(session: Session | Connection) -> BusinessSettings:
    rows = session.execute(ALL_SETTINGS)
    return settings_from(dict(rows.all()))


def settings_from(rows: dict[str, str]) -> BusinessSettings:
    """The settings from their stored rows ({key: JSON text}); unset ones keep their defaults."""
    stored = {key: json.loads(value) for key, value in rows.items()}
    known = {key: value for key, value in stored.items() if key in FIELD_NAMES}
    if "notify_events" in known:
        known["notify_events"] = tuple(known["notify_events"])
    return replace(BusinessSettings(), **known)


class _settings_object(FunctionElement[Any]):
    """Every stored setting as one JSON object {key: JSON text}: one aggregate, one column."""

    type = JSON()
    inherit_cache = True
    name = "settings_object"


@compiles(_settings_object)
def _json_object_agg(element: _settings_object, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_object_agg({compiler.process(element.clauses, **kw)})"


@compiles(_settings_object, "sqlite")
def _json_group_object(element: _settings_object, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_object({compiler.process(element.clauses, **kw)})"


def stored_settings() -> ScalarSelect[Any]:
    """The settings rows as a column of another query, for `settings_from(value or {})`.

    The status services read them in the same statement as the order: every change reads
    them fresh (several servers share the database) without a round trip of its own.
    """
    # Table columns, not the mapped attributes: those would make the whole query an ORM one.
    table = SETTINGS_TABLE.c
    return select(_settings_object(table.key, table.value)).scalar_subquery()


def store_settings(session: Session, values: BusinessSettings) -> dict[str, tuple[Any, Any]]:
    """Write the settings that differ from what is stored; return {name: (old, new)}."""
    validate_settings(values)
    current = load_settings(session)
    changes: dict[str, tuple[Any, Any]] = {}
    for name, new in asdict(values).items():
        old = getattr(current, name)
        if _jsonable(old) == _jsonable(new):
            continue
        changes[name] = (old, new)
        session.merge(Setting(key=name, value=json.dumps(_jsonable(new))))
    return changes


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
