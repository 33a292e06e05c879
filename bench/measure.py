"""Timing and results: each figure a median of runs after a warm-up, beside its floor.

Figures and floors are run in turn, one after the other in every round, so a busy
machine slows both alike and the ratio stays honest.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal


def timed(action: Callable[[], Any]) -> float:
    """Seconds one call takes."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def medians(
    actions: dict[str, Callable[[], Any]], *, runs: int, warmup: int = 1
) -> dict[str, float]:
    """Median milliseconds of each action, after `warmup` untimed calls of each."""
    for _ in range(warmup):
        for action in actions.values():
            action()
    samples: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            samples[name].append(timed(action) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


TargetKind = Literal["ratio_at_most", "at_most", "at_least"]


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    limit: float
    unit: str = ""

    def describe(self) -> str:
        if self.kind == "ratio_at_most":
            return f"≤ {self.limit:g}× floor"
        sign = "≤" if self.kind == "at_most" else "≥"
        return f"{sign} {self.limit:,g} {self.unit}".strip()

    def met_by(self, row: Row) -> bool | None:
        if self.kind == "ratio_at_most":
            return None if row.ratio is None else row.ratio <= self.limit
        if self.kind == "at_most":
            return row.value <= self.limit
        return row.value >= self.limit


@dataclass(frozen=True)
class Floor:
    name: str  # the JSON key's suffix: ratio_vs_<name>
    label: str
    value: float | None
    compared: bool = True  # False: shown for context, no ratio (e.g. bare SQL under a page)


@dataclass
class Row:
    """One figure and the floors it is compared with; the first floor is the one targeted."""

    key: str  # e.g. "orders_page.all.page1"
    label: str
    value: float
    unit: str
    floors: list[Floor] = field(default_factory=list)
    target: Target | None = None
    higher_is_better: bool = False  # rates: the ratio is floor / figure, "times slower"

    def ratio_to(self, floor: Floor) -> float | None:
        if not floor.compared or not floor.value or not self.value:
            return None
        return floor.value / self.value if self.higher_is_better else self.value / floor.value

    @property
    def ratio(self) -> float | None:
        return self.ratio_to(self.floors[0]) if self.floors else None

    @property
    def passed(self) -> bool | None:
        return self.target.met_by(self) if self.target else None

    def ratios(self) -> dict[str, float]:
        found = {}
        for floor in self.floors:
            ratio = self.ratio_to(floor)
            if ratio is not None:
                found[f"{self.key}.ratio_vs_{floor.name}"] = round(ratio, 3)
        return found


@dataclass
class Section:
    """Every row measured on one database at one size, with what it took to get there."""

    kind: str  # "sqlite" | "postgresql"
    size: int
    database: str  # described, password hidden
    rows: list[Row] = field(default_factory=list)
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        verdict = {True: "pass", False: "MISS", None: ""}[row.passed]
        floors = "  ".join(
            f"{f.label} {fmt(f.value, row.unit)}" for f in row.floors if f.value is not None
        )
        ratio = f"×{row.ratio:.2f}" if row.ratio is not None else ""
        print(f"    {row.label:<46} {fmt(row.value, row.unit):>12}  {floors}  {ratio} {verdict}")
        return row

    def ratios(self) -> dict[str, float]:
        prefix = f"{self.kind}.{self.size}."
        found = {}
        for row in self.rows:
            found.update({prefix + key: value for key, value in row.ratios().items()})
        return found


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ms":
        return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit == "s":
        return f"{value:,.2f} s"
    if unit == "MB":
        return f"{value:,.0f} MB"
    return f"{value:,.0f} {unit}"
