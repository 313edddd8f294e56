"""One table row per figure, printed as a table and written as JSON.

Columns: the figure for nexio-lab and for its baseline, their ratio, the ratio's spread
over the alternating runs (min-max, with the number of runs), the true floor (see
:mod:`benchmarks._floor`) and nexio-lab's figure over it, the round formula (2N/rate) kept
for comparison, the target and whether it is met.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Row", "median", "print_table", "ratio", "spread", "write_json"]


@dataclass
class Row:
    """``ratio`` is nexio-lab / baseline; ``passed`` is None for figures without a target.

    Over several runs, ``nexio_lab``, ``baseline`` and ``ratio`` are medians (the ratio's
    the median of the per-run ratios) and ``spread`` is the min-max of the per-run ratios;
    ``floor`` is the true floor (s) and ``naive`` the round formula (s) for wall rows.
    """

    scenario: str
    figure: str
    nexio_lab: float | None
    baseline: float | None = None
    ratio: float | None = None
    target: str = "info"
    passed: bool | None = None
    unit: str = ""
    runs: int = 1
    spread: str = ""
    floor: float | None = None
    naive: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


def ratio(ours: float, base: float) -> float | None:
    if base == 0:
        return None if ours == 0 else math.inf
    return ours / base


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def spread(values: list[float | None]) -> str:
    """``min-max`` of finite values (``-`` when there are none)."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return "-"
    lo, hi = min(finite), max(finite)
    return _fmt(lo) if lo == hi else f"{_fmt(lo)}-{_fmt(hi)}"


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "inf"
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}" if value else "0"
    return f"{text} {unit}".rstrip()


def print_table(rows: list[Row]) -> str:
    """Render (and return) the table: figure, nexio-lab, baseline, ratio, target, pass/fail."""
    header = (
        "scenario",
        "figure",
        "nexio-lab",
        "baseline",
        "ratio",
        "spread (runs)",
        "true floor",
        "/floor",
        "2N/rate",
        "target",
        "pass/fail",
    )
    cells = [header] + [
        (
            r.scenario,
            r.figure,
            _fmt(r.nexio_lab, r.unit),
            _fmt(r.baseline, r.unit),
            _fmt(r.ratio),
            f"{r.spread} ({r.runs})" if r.spread else "",
            _fmt(r.floor, "s") if r.floor is not None else "",
            _fmt(ratio(r.nexio_lab, r.floor)) if r.floor and r.nexio_lab is not None else "",
            _fmt(r.naive, "s") if r.naive is not None else "",
            r.target,
            {True: "PASS", False: "FAIL", None: "-"}[r.passed],
        )
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def write_json(path: Path, rows: list[Row], meta: dict[str, Any]) -> None:
    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    path.write_text(json.dumps(clean({"meta": meta, "rows": [asdict(r) for r in rows]}), indent=2))
