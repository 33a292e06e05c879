"""Exports are downloaded once, from disk, through an unguessable short-lived link."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import bootstrap
from api import exports
from queries.export_files import ExportFiles
from queries.order_export import export_csv, export_size, write_csv
from queries.orders import OrderFilter, Tab

ZONE = ZoneInfo("America/New_York")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch, tmp_path):
    clock = Clock()
    files = ExportFiles(lifetime=60, clock=clock)
    monkeypatch.setattr(files, "_folder", tmp_path)
    monkeypatch.setattr(bootstrap, "export_files", files)
    return clock


@pytest.fixture
def client(clock):
    with TestClient(Starlette(routes=exports.ROUTES)) as test_client:
        yield test_client


def test_the_route_streams_the_export_once_and_deletes_it(db, client, tmp_path):
    from db.seed import seed_orders

    seed_orders(db, 30, batch=30)

    def fill(out):
        write_csv(db, out, kind="orders", tab=Tab.ALL, filters=OrderFilter(), zone=ZONE)

    token = bootstrap.export_files.write(
        fill, file_name="orders-all-2026-11-30.csv", mime="text/csv"
    )
    assert len(token) >= 43  # 256 random bits
    response = client.get(f"/exports/{token}")
    assert response.status_code == 200
    assert response.content == export_csv(
        db, kind="orders", tab=Tab.ALL, filters=OrderFilter(), zone=ZONE
    )
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="orders-all-2026-11-30.csv"' in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    assert list(tmp_path.iterdir()) == []  # deleted once sent
    assert client.get(f"/exports/{token}").status_code == 404  # one download only


def test_unknown_and_expired_tokens_are_not_found(client, clock, tmp_path):
    assert client.get("/exports/not-a-token").status_code == 404
    token = bootstrap.export_files.write(
        lambda out: out.write(b"x"), file_name="a.csv", mime="text/csv"
    )
    clock.now += 61
    response = client.get(f"/exports/{token}")
    assert response.status_code == 404
    assert "expired" in response.text
    assert list(tmp_path.iterdir()) == []  # an unclaimed file goes when it expires


def test_a_failed_export_leaves_no_file(clock, tmp_path):
    def fail(out):
        out.write(b"half")
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        bootstrap.export_files.write(fail, file_name="a.csv", mime="text/csv")
    assert list(tmp_path.iterdir()) == []


def test_export_size_counts_the_rows_progress_counts_towards(db):
    from db.seed import seed_orders

    seed_orders(db, 12, batch=12)
    for kind in ("orders", "items"):
        data = export_csv(db, kind=kind, tab=Tab.ALL, filters=OrderFilter(), zone=ZONE)
        rows = data.count(b"\r\n") - 1  # seeded data holds no line breaks in cells
        assert export_size(db, kind=kind, tab=Tab.ALL, filters=OrderFilter(), zone=ZONE) == rows


def test_a_head_request_does_not_use_up_the_link(client, tmp_path):
    # Link previews and virus scanners send HEAD before (or instead of) the person's GET.
    token = bootstrap.export_files.write(
        lambda out: out.write(b"a,b\r\n"), file_name="a.csv", mime="text/csv"
    )

    head = client.head(f"/exports/{token}")

    response = client.get(f"/exports/{token}")
    assert response.status_code == 200 and response.content == b"a,b\r\n"
    assert head.status_code == 405 and head.headers["allow"] == "GET"
    assert head.content == b""
