"""docs/BENCHMARKS.md from the stored results: a table per database and size.

Each run stores its sections as JSON (one file per database kind and size), and the page
is written from all that are stored, so a run of one size leaves the others' tables in
place — each table says when, and at which commit, it was measured.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.measure import Section, fmt
from config import ROOT

KIND_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
PAGE = "docs/BENCHMARKS.md"


def machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    total_kb = next((int(line.split()[1]) for line in meminfo.splitlines()
                     if line.startswith("MemTotal:")), 0)  # fmt: skip
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                  if line.startswith("model name")), platform.processor())  # fmt: skip
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(total_kb / 1024 / 1024, 1),
        "cpu": model,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def commits() -> dict[str, str]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    return {
        "head": git("rev-parse", "--short", "HEAD"),
        "main_merged": git("merge-base", "--short", "HEAD", "main")
        or git("rev-parse", "--short", "HEAD"),
        # The page this run writes is not a change to the code being measured.
        "dirty": "yes"
        if git("status", "--porcelain", "--untracked-files=no", "--", ".", f":!{PAGE}")
        else "",
    }


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


# The step of `python -m bench` each row's key comes from (the key's first part).
STEP_OF = {
    "orders_page": "page",
    "order_details": "details",
    "status_change": "status",
    "export_csv": "export",
    "export_xlsx": "export",
    "intake": "intake",
    "server_rss_browsing": "browse",
    "bulk_confirm": "bulk",
    "packing_slips": "documents",
    "status_page": "status_page",
    "clicks": "clicks",
    "api": "api",
    "api_clicks": "api_clicks",
}


def store(section: Section, folder: Path, steps: list[str], all_steps: tuple[str, ...]) -> Path:
    """Save the section; a run of some steps keeps the stored rows of the other steps."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{section.kind}-{section.size}.json"
    data = asdict(section)
    for row, kept in zip(section.rows, data["rows"], strict=True):
        kept["ratio"], kept["passed"] = row.ratio, row.passed
        kept["target_text"] = row.target.describe() if row.target else ""
        kept["measured"] = _provenance(section.meta)
    partial = set(steps) != set(all_steps)
    # Complete: every step's rows are in this file (a full run, or a partial one on top of
    # a complete file). An incomplete section keeps the page's other rows (see `write`).
    data["complete"] = not partial
    if partial and path.exists():
        earlier = json.loads(path.read_text())
        data["complete"] = bool(earlier.get("complete", True))
        _keep_other_steps(data, earlier, steps, all_steps)
    path.write_text(json.dumps(data, indent=1, default=str))
    return path


def _keep_other_steps(
    data: dict[str, Any], earlier: dict[str, Any], steps: list[str], all_steps: tuple[str, ...]
) -> None:
    def step(row: dict[str, Any]) -> str:
        return STEP_OF[row["key"].split(".")[0]]

    kept = [row for row in earlier["rows"] if step(row) not in steps]
    if not kept:
        return
    data["rows"] = sorted(kept + data["rows"], key=lambda row: all_steps.index(step(row)))
    data["steps"] = {**earlier["steps"], **data["steps"]}
    # Each kept row says where it was measured, so a second partial run does not pass the
    # first one's time and commit off as the origin of rows it never measured.
    origins = dict.fromkeys(row.get("measured") or _provenance(earlier["meta"]) for row in kept)
    data["notes"].append(
        f"re-measured here: {', '.join(steps)}; the other rows were measured {'; '.join(origins)}"
    )


def _provenance(meta: dict[str, Any]) -> str:
    return (
        f"{meta['when']} at commit `{meta['commits']['head']}`, {meta['runs']} runs per figure "
        f"(load average {meta['load_before']} before)"
    )


# What follows this line in the page is written by hand, and a new run keeps it.
KEPT_BELOW = "<!-- Written by hand from here on: `python -m bench` keeps it. -->"


def write(folder: Path, output: Path) -> None:
    """The page from the stored sections; what the page already shows and no stored
    result covers (a table measured in another checkout, rows of steps not run since) is
    carried over as it was, with when it was measured."""
    stored = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    old = _old_sections(output)
    blocks: dict[tuple[bool, int], list[str]] = {}
    for heading, block in old.items():
        blocks[_order(heading)] = block
    for section in stored:
        heading = _heading(section)
        carried = [] if section.get("complete", True) else old.get(heading, [])
        blocks[(section["kind"] != "postgresql", section["size"])] = _section(section, carried)
    lines = _header(stored)
    for _, block in sorted(blocks.items()):
        lines += block
    lines += _kept(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(lines) + "\n")


def _kept(output: Path) -> list[str]:
    text = output.read_text() if output.is_file() else ""
    start = text.find(KEPT_BELOW)
    return [] if start < 0 else ["", *text[start:].rstrip("\n").split("\n")]


def _heading(section: dict[str, Any]) -> str:
    return f"## {KIND_NAMES.get(section['kind'], section['kind'])} · {section['size']:,} orders"


def _order(heading: str) -> tuple[bool, int]:
    kind, _, size = heading.removeprefix("## ").partition(" · ")
    return (kind != KIND_NAMES["postgresql"], int(size.split()[0].replace(",", "")))


def _old_sections(output: Path) -> dict[str, list[str]]:
    """The page's tables as written last time, by heading (up to the hand-written part)."""
    text = output.read_text() if output.is_file() else ""
    text = text.split(KEPT_BELOW, 1)[0]
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.split("\n"):
        if line.startswith("## "):
            current = sections.setdefault(line, [])
        if current is not None:
            current.append(line)
    return {heading: [*"\n".join(block).rstrip("\n").split("\n"), ""]
            for heading, block in sections.items()}  # fmt: skip


CARRIED = " were carried over from the page as it was: "


def _carried_rows(old: list[str], labels: set[str]) -> tuple[list[str], str, list[str]]:
    """Rows of an old table whose figure this run did not measure, when they were, notes."""
    rows: list[str] = []
    keep = False
    for line in old:
        if line.startswith("| ") and not line.startswith(("| figure ", "|---")):
            label = line[2:].split(" | ", 1)[0].strip()
            if label:
                keep = label not in labels
            if keep:
                rows.append(line)
    notes = [line for line in old if line.startswith("- ")]
    earlier = [n.split(CARRIED, 1)[1] for n in notes if CARRIED in n]
    if earlier:  # carried before: only the notes that came with those rows, listed after
        notes = notes[next(i for i, n in enumerate(notes) if CARRIED in n) + 1 :]
    measured = [line.removeprefix("Measured ").split("; database")[0]
                for line in old if line.startswith("Measured ")]  # fmt: skip
    when = next(iter(earlier + measured), "")
    return rows, when, notes


def _header(stored: list[dict[str, Any]]) -> list[str]:
    box = stored[0]["meta"]["machine"] if stored else machine()
    return [
        "# Benchmarks",
        "",
        "Written by `python -m bench` (see the README's *Benchmarks* section). Each figure is",
        "the median of several runs after a warm-up, measured in the same rounds as its floors",
        "(figure, floor, figure, floor, …) so a busy machine slows both alike. The ratio is",
        "figure ÷ floor — for rates floor ÷ figure — so it reads as *times the floor's cost*;",
        "the target applies to the first floor of each row. Rows with no target are context.",
        "",
        f"Machine: {box['cores']} cores ({box['cpu']}), {box['memory_gib']} GiB memory;",
        f"Python {box['python']}, SQLite {box['sqlite']}. Other work on the machine shows in",
        "each table's load average.",
        "",
        "Floors: *page floor* — the Orders page's layout (title, counts, tabs, filters, the",
        "50-row table with the same column settings, pager, export buttons) rendering a",
        "prebuilt 50-row frame in AppTest (`bench/floor_page.py`); *list SQL* — the page's",
        "own list query, captured and sent again through the driver; *all its SQL* — every",
        "statement one re-run of the page sends, timed in the driver (context, no ratio);",
        "*its queries, bare* — the SELECTs `order_details` sends, through the driver; *same",
        "SQL, bare* — read order, contact and settings in one SELECT, UPDATE with the version",
        "check, INSERT event, INSERT outbox row, COMMIT, through the driver (the statements",
        "`confirm_order` sends); *service in process* —",
        "`services.intake.place_order` called directly; *COPY TO STDOUT* / *sqlite3 + csv* —",
        "the export's columns written by the database's own CSV path (PostgreSQL) or a plain",
        "sqlite3 cursor into `csv.writer`, each in a child process whose peak RSS is its own;",
        "*server idle* — the server's RSS after start-up, before any browser connects;",
        "*single confirm_order calls* — the same 100 orders confirmed one call at a time;",
        "*fpdf2 plain pages* — 100 pages of the same orders' text in the slips' fonts;",
        "*GET /healthz* — on the same `python -m api` server as the order page; *bare",
        "Streamlit* — click to settled on a page with only a button and a 50-row table",
        "(`bench/click_floor_app.py`), clicked in turn with the dashboard; *in process, 8",
        "threads* — as above, beside `python -m api --workers 2` (REST and MCP).",
        "",
    ]


def _section(section: dict[str, Any], old: list[str]) -> list[str]:
    meta = section["meta"]
    commit = meta["commits"]
    dirty = " (with uncommitted changes)" if commit.get("dirty") else ""
    lines = [
        _heading(section),
        "",
        f"Measured {meta['when']} at commit `{commit['head']}`{dirty}, which contains main "
        f"`{commit['main_merged']}`; {meta['runs']} runs per figure; load average "
        f"{meta['load_before']} before, {meta['load_after']} after; database "
        f"`{section['database']}`.",
        "",
        "| figure | value | floor | floor value | ratio | target | result |",
        "|---|---:|---|---:|---:|---|---|",
    ]
    carried, when, old_notes = _carried_rows(old, {r["label"] for r in section["rows"]})
    lines += carried
    for row in section["rows"]:
        lines += _row(row)
    verdicts = [r["passed"] for r in section["rows"] if r["passed"] is not None]
    verdicts += [row.rstrip(" |").endswith(" pass") for row in carried
                 if row.rstrip(" |").endswith((" pass", " **miss**"))]  # fmt: skip
    lines += ["", f"Targets met: {sum(verdicts)} of {len(verdicts)}."]
    steps = ", ".join(f"{name} {seconds:,.0f} s" for name, seconds in section["steps"].items())
    lines += ["", f"Time per step: {steps}."]
    for note in section["notes"]:
        lines += [f"- {note}"]
    if carried:
        lines += [f"- the first {len(carried)} table lines{CARRIED}{when}"]
        lines += [note for note in old_notes if note not in lines]
    return [*lines, ""]


def _row(row: dict[str, Any]) -> list[str]:
    unit = row["unit"]
    verdict = {True: "pass", False: "**miss**", None: ""}[row["passed"]]
    floors = row["floors"] or [{"label": "—", "value": None}]
    lines = []
    for index, floor in enumerate(floors):
        value = floor["value"]
        if row["value"] and value and floor.get("compared", True):
            ratio = value / row["value"] if row["higher_is_better"] else row["value"] / value
            ratio_text = f"{ratio:,.2f}×"
        else:
            ratio_text = "—"
        first = index == 0
        cells = [
            row["label"] if first else "",
            fmt(row["value"], unit) if first else "",
            floor["label"],
            fmt(value, unit),
            ratio_text,
            row["target_text"] if first else "",
            verdict if first else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines
