"""The result model of `make bench`: one `Row` per figure (ours, the stock baseline's, the
ratio, the target and whether it was met), the `Bench` that collects rows, tables and notes
while the sections run, the number format every figure is shown in, and the saved form
(bench/out/results.json) that `python bench/run.py --render` reads back.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass
class Row:
    section: str
    metric: str
    ours: float | None
    stock: float | None
    unit: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.stock in (None, 0):
            return None
        return self.ours / self.stock  # type: ignore[operator]


@dataclass
class Bench:
    quick: bool
    rows: list[Row] = field(default_factory=list)
    tables: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    durations: dict[str, float] = field(default_factory=dict)
    fake: Any = None
    t0: float = field(default_factory=time.perf_counter)
    force_hybrid: bool = False  # build the largest tier hybrid whatever the budget says

    def add(self, row: Row) -> None:
        self.rows.append(row)
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "n/a"
        met = "" if row.met is None else ("  target met" if row.met else "  TARGET MISSED")
        print(
            f"  {row.metric}: ours {fmt(row.ours)}{row.unit}, stock {fmt(row.stock)}{row.unit}, "
            f"ratio {ratio}{('  [' + row.target + ']') if row.target else ''}{met}",
            flush=True,
        )


def fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") if value else "0"


def save(bench: Bench, path: Path, started: datetime, total: float) -> None:
    """Everything RESULTS.md is rendered from, so it can be rendered again (`--render`)."""
    saved = {
        "quick": bench.quick,
        "rows": [r.__dict__ for r in bench.rows],
        "tables": bench.tables,
        "notes": bench.notes,
        "durations": bench.durations,
        "started": started.isoformat(),
        "total": total,
    }
    path.write_text(json.dumps(saved, indent=1), "utf-8")


def load(path: Path) -> tuple[Bench, datetime, float]:
    """What `save` wrote: the bench, when it started and how long it took in seconds."""
    saved = json.loads(path.read_text("utf-8"))
    bench = Bench(quick=saved["quick"], rows=[Row(**r) for r in saved["rows"]])
    bench.tables, bench.notes, bench.durations = (
        saved["tables"],
        saved["notes"],
        saved["durations"],
    )
    return bench, datetime.fromisoformat(saved["started"]), saved["total"]
