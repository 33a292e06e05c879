"""A search box's text made safe for SQL on either database: its words, each a literal."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_


def searchable(text: str) -> str:
    """Text that can go into a query on either database: no NUL, no lone surrogate.

    Nothing stored holds either (domain.inputs refuses them), so dropping them changes no
    result; left in, PostgreSQL would fail the query where SQLite runs it.
    """
    return text.replace("\x00", " ").encode("utf-8", "ignore").decode("utf-8")


def search_terms(text: str) -> list[str]:
    """The words of a search box, lower-cased; each one is a literal, never a pattern."""
    return searchable(text).lower().split()


def escape_like(term: str) -> str:
    """`term` for a LIKE pattern with escape "\\": the user's text is a literal, so % and _
    must not act as wildcards."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def found_in_any(term: str, *columns: Any) -> ColumnElement[bool]:
    """`term`, as a literal, inside any of `columns` (lower-case those that need it)."""
    pattern = f"%{escape_like(term)}%"
    return or_(*(column.like(pattern, escape="\\") for column in columns))
