"""`python -m bench`: every figure of issue 8 on each database and size, beside its floor.

For each database URL and each order count: prepare the data (reusing a prepared database
that already holds that many orders), then measure the Orders page, order details, a
status change, exports, intake over HTTP and the server's memory while browsing. Writes
docs/BENCHMARKS.md and prints one JSON line last with every ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import (
    api_server,
    browse,
    bulk,
    clicks,
    documents,
    exports,
    intake,
    orders_page,
    service_calls,
    status_page,
)
from bench.datasets import kind_of, prepare
from bench.measure import Section
from bench.report import commits, machine, stamp, store, write
from config import ROOT
from queries.orders import business_settings

DEFAULT_SIZES = "10000,100000,1000000"
DEFAULT_SQLITE = "sqlite:////tmp/bench-sqlite/orders.db"
STEPS = (
    *("page", "details", "status", "export", "intake", "browse"),
    *("bulk", "documents", "status_page", "clicks", "api", "api_clicks"),
)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Measure Product Orders against its floors."
    )
    parser.add_argument(
        "--database-url",
        action="append",
        help="a database to measure (repeatable); default: a SQLite file under /tmp and "
        "$BENCH_DATABASE_URL when set. PostgreSQL sizes live in schemas bench_<size>.",
    )
    parser.add_argument("--orders", default=None, help=f"order counts (default {DEFAULT_SIZES})")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (default 7)")
    parser.add_argument("--quick", action="store_true", help="10k orders, fewer runs: minutes")
    parser.add_argument("--only", default=",".join(STEPS), help=f"steps to run: {STEPS}")
    parser.add_argument("--intake-orders", type=int, default=None, help="orders per intake run")
    parser.add_argument("--export-runs", type=int, default=None, help="runs per export")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    args.orders = [int(n) for n in (args.orders or ("10000" if args.quick else DEFAULT_SIZES))
                   .replace("_", "").split(",")]  # fmt: skip
    args.runs = args.runs or (3 if args.quick else 7)
    args.intake_orders = args.intake_orders or (100 if args.quick else 300)
    args.export_runs = args.export_runs or (1 if args.quick else 3)
    args.only = [step.strip() for step in args.only.split(",") if step.strip()]
    unknown = set(args.only) - set(STEPS)
    if unknown:
        parser.error(f"unknown steps {sorted(unknown)}; choose from {STEPS}")
    urls = args.database_url or [
        DEFAULT_SQLITE,
        *filter(None, [os.environ.get("BENCH_DATABASE_URL")]),
    ]
    args.database_url = urls
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    box = machine()
    print(f"machine: {box['cores']} cores, {box['memory_gib']} GiB; sizes {args.orders}; "
          f"{args.runs} runs per figure", flush=True)  # fmt: skip
    ratios: dict[str, float] = {}
    failed = 0
    for url in args.database_url:
        for size in sorted(args.orders):
            section = measure(url, size, args, box)
            failed += sum(1 for note in section.notes if note.startswith("FAILED"))
            ratios.update(section.ratios())
            store(section, args.results, args.only, STEPS)
            write(args.results, args.output)
    print(f"wrote {args.output}", flush=True)
    print(json.dumps(ratios, sort_keys=True), flush=True)
    return 1 if failed else 0


def measure(url: str, size: int, args: argparse.Namespace, box: dict[str, object]) -> Section:
    kind = kind_of(url)
    print(f"\n== {kind} · {size:,} orders", flush=True)
    started = time.perf_counter()
    prepared = prepare(url, size)
    db = prepared.db
    section = Section(kind, size, db.describe())
    section.steps["prepare"] = time.perf_counter() - started
    if prepared.reused:
        section.notes.append("the prepared database was reused")
    else:
        section.notes.append(f"generated the orders in {prepared.seconds:,.0f} s")
    section.meta = {
        "when": stamp(),
        "commits": commits(),
        "machine": box,
        "runs": args.runs,
        "load_before": _load(),
    }
    rng = random.Random(size)
    zone = business_settings(db).timezone
    steps: dict[str, Callable[[], None]] = {
        "page": lambda: orders_page.measure(section, db, runs=args.runs),
        "details": lambda: service_calls.measure_details(section, db, runs=args.runs, rng=rng),
        "status": lambda: service_calls.measure_status_change(section, db, runs=args.runs,
                                                              rng=rng),
        "export": lambda: exports.measure(section, prepared.url, runs=args.export_runs, zone=zone),
        "intake": lambda: intake.measure(section, prepared.url, orders=args.intake_orders,
                                         clients=8, runs=max(1, args.runs // 2)),
        "browse": lambda: browse.measure(section, prepared.url),
        "bulk": lambda: bulk.measure_rows(section, prepared.url, rounds=args.runs),
        "documents": lambda: documents.measure_rows(section, url, runs=args.runs),
        "status_page": lambda: status_page.measure(section, prepared.url,
                                                   requests=100 if args.quick else 300),
        "clicks": lambda: clicks.measure(section, prepared.url, rounds=10 if args.quick else 20),
        "api": lambda: api_server.measure(section, prepared.url, clients=8, runs=args.runs,
                                          orders=max(400, args.intake_orders)),
        "api_clicks": lambda: api_server.measure_clicks_under_intake(
            section, prepared.url, phases=2 if args.quick else 4),
    }  # fmt: skip
    for name in STEPS:
        if name in args.only:
            _step(section, name, steps[name])
    section.meta["load_after"] = _load()
    db.dispose()
    return section


def _step(section: Section, name: str, action: Callable[[], None]) -> None:
    print(f"  -- {name}", flush=True)
    started = time.perf_counter()
    try:
        action()
    except Exception as exc:  # one broken step must not lose the others' figures
        traceback.print_exc(file=sys.stderr)
        section.notes.append(f"FAILED {name}: {type(exc).__name__}: {exc}"[:300])
    section.steps[name] = time.perf_counter() - started


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())
