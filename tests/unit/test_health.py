"""`/healthz` says whether the database can be reached, without revealing where it is."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from sqlalchemy.exc import OperationalError

import bootstrap
from api import health
from db.migrate import SchemaOutOfDate
from tests import aio


def check(monkeypatch: pytest.MonkeyPatch, problem: Exception | None) -> tuple[int, dict]:
    def database():
        if problem:
            raise problem
        return SimpleNamespace(ping=lambda: None)

    monkeypatch.setattr(bootstrap, "database", database)
    request = SimpleNamespace(receive=lambda: None)
    response = aio.run(lambda: health.healthz(request))
    return response.status_code, json.loads(response.body)


def test_a_reachable_database_is_healthy(monkeypatch):
    assert check(monkeypatch, None) == (200, {"status": "ok", "database": "reachable"})


def test_an_unreachable_database_answers_503(monkeypatch):
    refused = OperationalError("connect", {}, Exception("password=secret host=db"))
    status, body = check(monkeypatch, refused)
    assert (status, body) == (503, {"status": "unavailable", "database": "unreachable"})


def test_a_schema_behind_the_code_answers_503(monkeypatch):
    status, body = check(monkeypatch, SchemaOutOfDate("run alembic upgrade head"))
    assert (status, body) == (503, {"status": "unavailable", "database": "needs migrating"})
