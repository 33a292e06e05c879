"""Exporting every order, to CSV and to Excel, beside the database's own fastest CSV.

Each export runs in a child process of its own, so its peak memory (the child's maximum
resident set) is its own: `python -m bench.exports {csv|xlsx|floor} URL OUT ZONE` prints one
JSON line with the seconds taken and the peak. The floor is PostgreSQL's
`COPY (SELECT …) TO STDOUT` into a file, or on SQLite a plain sqlite3 + csv.writer loop,
over the same columns.
"""

from __future__ import annotations

import csv
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.datasets import kind_of
from bench.measure import Floor, Row, Section, Target
from config import ROOT

CHILD_TIMEOUT = 3600  # seconds: an unoptimised Excel export of a million orders is slow
MEMORY_TARGET = Target("at_most", 300, "MB")
CSV_TARGETS = {"postgresql": Target("ratio_at_most", 3.0), "sqlite": Target("ratio_at_most", 1.5)}

# The export's order columns, as plain SQL (same order as queries.order_export).
COLUMNS = {
    "postgresql": """number, created_at AT TIME ZONE %(zone)s, status, payment_status, source,
        customer_first_name || ' ' || customer_last_name, customer_email,
        coalesce(customer_phone, ''), items_summary, item_count,
        (subtotal_cents / 100.0)::numeric(14, 2), (tax_cents / 100.0)::numeric(14, 2),
        (shipping_cents / 100.0)::numeric(14, 2), (total_cents / 100.0)::numeric(14, 2),
        currency, ship_street, coalesce(ship_apartment, ''), ship_city, ship_state, ship_zip,
        ship_country, coalesce(carrier, ''), coalesce(tracking_number, ''),
        coalesce(external_ref, '')""",
    "sqlite": """number, created_at, status, payment_status, source,
        customer_first_name || ' ' || customer_last_name, customer_email,
        coalesce(customer_phone, ''), items_summary, item_count,
        printf('%.2f', subtotal_cents / 100.0), printf('%.2f', tax_cents / 100.0),
        printf('%.2f', shipping_cents / 100.0), printf('%.2f', total_cents / 100.0),
        currency, ship_street, coalesce(ship_apartment, ''), ship_city, ship_state, ship_zip,
        ship_country, coalesce(carrier, ''), coalesce(tracking_number, ''),
        coalesce(external_ref, '')""",
}


def measure(section: Section, url: str, *, runs: int, zone: str) -> None:
    kind = kind_of(url)
    samples: dict[str, list[dict[str, float]]] = {"csv": [], "floor": [], "xlsx": []}
    with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
        for _ in range(runs):
            for mode in samples:
                samples[mode].append(_child(mode, url, Path(folder) / f"out.{mode}", zone))
    seconds = {m: statistics.median(s["seconds"] for s in found) for m, found in samples.items()}
    peak = {m: max(s["peak_mb"] for s in found) for m, found in samples.items()}
    floor_label = "COPY TO STDOUT" if kind == "postgresql" else "sqlite3 + csv"
    for mode, name in (("csv", "CSV"), ("xlsx", "Excel")):
        section.add(
            Row(
                f"export_{mode}",
                f"Export all orders to {name}",
                seconds[mode],
                "s",
                [Floor("copy_floor", floor_label, seconds["floor"])],
                CSV_TARGETS[kind] if mode == "csv" else None,
            )
        )
        section.add(
            Row(
                f"export_{mode}.peak_memory",
                f"Export to {name}: peak memory (process)",
                peak[mode],
                "MB",
                [Floor("copy_floor", floor_label, peak["floor"])],
                MEMORY_TARGET,
            )
        )


def _child(mode: str, url: str, out: Path, zone: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.exports", mode, url, str(out), zone],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"export child {mode} failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    out.unlink(missing_ok=True)
    return result


# ---- in the child ----


def _export(mode: str, url: str, out: Path) -> None:
    """What the Orders page runs: the export written straight to a file, as it is read."""
    from db.database import Database
    from queries.order_export import write_csv, write_excel
    from queries.orders import OrderFilter, Tab, business_settings

    db = Database(url)
    zone = business_settings(db).zone
    export = write_csv if mode == "csv" else write_excel
    today = date.today()  # warm-up: the same code on the few orders placed today
    with out.open("wb") as handle:
        export(db, handle, kind="orders", tab=Tab.ALL,
               filters=OrderFilter(date_from=today, date_to=today), zone=zone)  # fmt: skip
    started = time.perf_counter()
    with out.open("wb") as handle:
        export(db, handle, kind="orders", tab=Tab.ALL, filters=OrderFilter(), zone=zone)
    _report(started, out)


def _floor(url: str, out: Path, zone: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    started = time.perf_counter()
    if kind_of(url) == "sqlite":
        import sqlite3

        connection = sqlite3.connect(parsed.database or "")
        rows = connection.execute(f"SELECT {COLUMNS['sqlite']} FROM orders ORDER BY id")
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([d[0] for d in rows.description])
            writer.writerows(rows)
    else:
        import psycopg2

        args = parsed.translate_connect_args(username="user", database="dbname")
        connection = psycopg2.connect(**args, **parsed.query)
        cursor = connection.cursor()
        select = cursor.mogrify(f"SELECT {COLUMNS['postgresql']} FROM orders ORDER BY id",
                                {"zone": zone}).decode()  # fmt: skip
        with out.open("wb") as handle:
            cursor.copy_expert(f"COPY ({select}) TO STDOUT WITH (FORMAT csv, HEADER)", handle)
    connection.close()
    _report(started, out)


def _report(started: float, out: Path) -> None:
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_mb": _peak_kb() / 1024,
                      "bytes": out.stat().st_size}))  # fmt: skip


def _peak_kb() -> int:
    """This program's peak resident set. Not ru_maxrss: a forked child inherits the
    parent's peak there, across exec; VmHWM belongs to this program's own memory map."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    MODE, URL, OUT, ZONE = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4]
    if MODE == "floor":
        _floor(URL, OUT, ZONE)
    else:
        _export(MODE, URL, OUT)
