"""`python -m bench` runs end to end on a small SQLite database and ends with its JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bench.intake import _cpu_split
from bench.measure import Floor, Row, Section, Target
from bench.report import KEPT_BELOW, commits, machine, store, write
from bench.run import STEPS
from config import ROOT
from tests.conftest import backend_pid


def test_a_ratio_reads_as_times_the_floors_cost_for_times_and_for_rates():
    page = Row("page", "page", 12.0, "ms", [Floor("page_floor", "floor", 6.0)],
               Target("ratio_at_most", 2.0))  # fmt: skip
    intake = Row("intake", "intake", 100.0, "orders/s", [Floor("in_process", "floor", 300.0)],
                 Target("at_least", 400, "orders/s"), higher_is_better=True)  # fmt: skip
    assert page.ratio == 2.0 and page.passed is True
    assert intake.ratio == 3.0 and intake.passed is False
    assert page.ratios() == {"page.ratio_vs_page_floor": 2.0}


def test_a_floor_shown_for_context_has_no_ratio():
    row = Row("page", "page", 12.0, "ms", [Floor("sql_floor", "SQL", 1.0, compared=False)])
    assert row.ratio is None and row.ratios() == {}


@pytest.mark.slow
def test_a_quick_run_measures_everything_and_prints_every_ratio_last(tmp_path):
    output, results = tmp_path / "BENCHMARKS.md", tmp_path / "results"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--orders", "2000", "--runs", "1",
         "--intake-orders", "20", "--database-url", f"sqlite:///{tmp_path / 'orders.db'}",
         "--output", str(output), "--results", str(results),
         # The steps of the figures below; bulk and documents have a smoke test of their
         # own, and the browser click and API steps take minutes.
         "--only", "page,details,status,export,intake,browse"],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr[-3000:]
    ratios = json.loads(done.stdout.strip().splitlines()[-1])
    for key in (
        "orders_page.all.page1.ratio_vs_page_floor",
        "orders_page.pending.deep.ratio_vs_page_floor",
        "orders_page.all.search_name.ratio_vs_page_floor",
        "order_details.ratio_vs_sql_floor",
        "status_change.ratio_vs_sql_floor",
        "export_csv.ratio_vs_copy_floor",
        "export_xlsx.peak_memory.ratio_vs_copy_floor",
        "intake.http_8_clients.ratio_vs_in_process_threads",
        "intake.http_8_clients_two_servers.ratio_vs_in_process_threads",
        "server_rss_browsing.ratio_vs_idle",
    ):
        assert ratios[f"sqlite.2000.{key}"] > 0, key
    page = output.read_text()
    assert "## SQLite · 2,000 orders" in page and "Targets met:" in page
    assert "| Export all orders to CSV |" in page


def test_a_run_of_some_steps_keeps_the_stored_figures_of_the_others(tmp_path):
    def section(steps: dict[str, float], when: str) -> Section:
        meta = {"when": when, "load_before": "0.1", "load_after": "0.1", "runs": 1,
                "commits": commits() | {"head": when}, "machine": machine()}  # fmt: skip
        measured = Section("sqlite", 10, "db", meta=meta)
        for key, value in steps.items():
            measured.add(Row(key, key, value, "ms", [Floor("f", "floor", 1.0)]))
        return measured

    full = section({"orders_page.all.page1": 2.0, "status_change": 3.0}, "first")
    store(full, tmp_path, list(STEPS), STEPS)
    path = store(section({"status_change": 1.5}, "second"), tmp_path, ["status"], STEPS)
    stored = json.loads(path.read_text())
    assert [(r["key"], r["value"]) for r in stored["rows"]] == [
        ("orders_page.all.page1", 2.0),
        ("status_change", 1.5),
    ]
    assert "re-measured here: status" in stored["notes"][-1]
    assert "`first`" in stored["notes"][-1]
    write(tmp_path, tmp_path / "BENCHMARKS.md")
    assert "re-measured here: status" in (tmp_path / "BENCHMARKS.md").read_text()
    # A second partial run: the page row still says it comes from the first run.
    path = store(section({"status_change": 1.4}, "third"), tmp_path, ["status"], STEPS)
    note = json.loads(path.read_text())["notes"][-1]
    assert "`first`" in note and "`second`" not in note


def test_a_new_run_keeps_what_was_written_by_hand_below_the_marker(tmp_path):
    page = tmp_path / "BENCHMARKS.md"
    page.write_text(f"# old figures\n\n{KEPT_BELOW}\n\n## Notes\n\nWritten by hand.\n")
    write(tmp_path, page)
    written = page.read_text()
    assert "old figures" not in written
    assert written.endswith(f"{KEPT_BELOW}\n\n## Notes\n\nWritten by hand.\n")
    write(tmp_path, page)
    assert page.read_text() == written


def test_postgresqls_cpu_keeps_what_a_closed_connection_used(pg):
    """The CPU split's PostgreSQL part never drops when a connection's process ends."""
    pid = backend_pid(pg)
    with pg.engine.connect() as connection:  # the pool's one connection: that process
        connection.execute(text("SELECT count(*) FROM generate_series(1, 3000000)"))
        used = _cpu_split([])["PostgreSQL"]
    pg.dispose()  # closes it: its server process ends
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists()
    assert _cpu_split([])["PostgreSQL"] >= used


def test_a_partial_run_without_stored_results_keeps_the_pages_tables_and_rows(tmp_path):
    page = tmp_path / "BENCHMARKS.md"
    page.write_text(
        "# Benchmarks\n\n## PostgreSQL · 10 orders\n\nMeasured long ago at commit `old`; "
        "database `x`.\n\n| figure | value | floor | floor value | ratio | target | result |\n"
        "|---|---:|---|---:|---:|---|---|\n| Old row | 2.0 ms | floor | 1.0 ms | 2.00× | ≤ 3× "
        "floor | pass |\n|  |  | other | 1.0 ms | — |  |  |\n\n## SQLite · 10 orders\n\nKept "
        f"as it was.\n\n{KEPT_BELOW}\n"
    )
    meta = {"when": "now", "load_before": "0.1", "load_after": "0.1", "runs": 1,
            "commits": commits(), "machine": machine()}  # fmt: skip
    measured = Section("postgresql", 10, "db", meta=meta)
    measured.add(Row("bulk_confirm", "Bulk", 3.0, "ms", [Floor("f", "floor", 1.0)],
                     Target("ratio_at_most", 2.0)))  # fmt: skip
    store(measured, tmp_path / "results", ["bulk"], STEPS)
    write(tmp_path / "results", page)
    written = page.read_text()
    assert "| Old row | 2.0 ms |" in written and "|  |  | other | 1.0 ms |" in written
    assert "| Bulk | 3.0 ms |" in written and "Targets met: 1 of 2." in written
    assert "carried over from the page as it was: long ago at commit `old`" in written
    assert "## SQLite · 10 orders\n\nKept as it was.\n" in written
    write(tmp_path / "results", page)
    assert page.read_text() == written


def test_the_bulk_and_documents_steps_each_add_their_row(tmp_path):
    from bench import bulk, documents
    from db.database import Database
    from db.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'orders.db'}"
    db = Database(url)
    upgrade(db)
    db.dispose()
    section = Section("sqlite", 0, "db")
    bulk.measure_rows(section, url, rounds=1)
    documents.measure_rows(section, url, runs=1)
    assert [row.key for row in section.rows] == ["bulk_confirm", "packing_slips"]
    assert all(row.value > 0 and row.ratio for row in section.rows)
