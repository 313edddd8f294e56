"""Scenarios 6 and 7: memory while tracking many evaluations, frames, and the soak run.

The client runs alone in a child process (:mod:`benchmarks._track`) and the sandbox in
another, so the RSS measured is the client's only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from . import frames
from ._common import REPO, Settings, serve_in_subprocess
from ._report import Row, ratio

__all__ = ["frames_vs_json_normalize", "memory_and_scale", "soak"]

RSS_TARGET_MB = 300.0
FLAT_TOLERANCE = 0.10  # RSS may grow this much after the first quarter of the soak


def _track(url: str, n: int, until: str, timeout: float) -> dict[str, Any]:
    options = json.dumps({"url": url, "n": n, "until": until})
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks._track", options],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"tracking child failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(lines[-1])


def memory_and_scale(n: int, target_n: int = 20_000) -> list[Row]:
    """Peak RSS of a client process while ``n`` evaluations are submitted, polled to the last
    result, and their four tables built (what an analyst's process goes through)."""
    # A limit nobody reaches, and processing slow enough (30-120 s at 20,000) that most jobs
    # are still open (tracked) when the last one is submitted; a smaller n is sped up in
    # proportion, so jobs last as long against its shorter submission.
    speed = 0.5 * max(1.0, target_n / n)
    with serve_in_subprocess(rate_limit=10**9, rate_window=60.0, speed=speed, seed=7) as served:
        result = _track(served.url, n, "tables", timeout=1800)
    peak, floor = result["peak_mb"], result["floor_mb"]
    before_tables = result["tables"]["peak_before_mb"]
    most_open = max((sample[4] for sample in result["samples"]), default=0)
    finished = sum(v for k, v in result["counts"].items() if k in {"completed", "failed"})
    per_eval_kb = (peak - floor) * 1024 / n
    projected = floor + per_eval_kb * target_n / 1024
    tables = result["tables"]
    return [
        Row(
            "6 memory",
            f"peak RSS projected for {target_n:,} evaluations (floor + {per_eval_kb:.1f} KB x N), "
            "through the last result and the tables",
            projected,
            floor,
            ratio(projected, floor),
            f"< {RSS_TARGET_MB:g} MB",
            projected < RSS_TARGET_MB,
            "MB",
        ),
        Row(
            "6 memory",
            f"peak RSS tracking {n:,} evaluations to the last result, tables built "
            "(baseline: before the batch)",
            peak,
            floor,
            ratio(peak, floor),
            f"< {RSS_TARGET_MB:g} MB",
            peak < RSS_TARGET_MB,
            "MB",
            details={k: v for k, v in result.items() if k != "samples"},
        ),
        Row(
            "6 memory",
            f"peak RSS before the tables (submitting and polling {n:,})",
            before_tables,
            floor,
            ratio(before_tables, floor),
            "info",
            None,
            "MB",
        ),
        Row(
            "6 memory",
            f"building the tables ({tables['rows'][1]:,} candidate rows, "
            f"{tables['rows'][2]:,} score rows): RSS added",
            peak - before_tables,
            before_tables - floor,
            ratio(peak - before_tables, before_tables - floor),
            "info (baseline: what tracking added)",
            None,
            "MB",
        ),
        Row(
            "6 memory",
            f"evaluations open at once, at the most (of {n:,})",
            most_open,
            n,
            ratio(most_open, n),
            "info",
            None,
            details={"wall_to_last_result_s": result["wall_s"], "sandbox_speed": speed},
        ),
        Row(
            "6 memory",
            "rows finished (completed or failed)",
            finished,
            n,
            ratio(finished, n),
            f"= {n}",
            finished == n,
        ),
    ]


def frames_vs_json_normalize(smoke: bool) -> list[Row]:
    """benchmarks/frames.py (all tables vs json_normalize of the candidates only)."""
    with tempfile.TemporaryDirectory(prefix="nexio-bench-") as tmp:
        out = Path(tmp) / "frames.json"
        frames.main(["--smoke", "--json", str(out)] if smoke else ["--json", str(out)])
        row = json.loads(out.read_text())["rows"][0]
    return [
        Row(
            "6 frames",
            row["figure"],
            row["nexio_lab_s"],
            row["baseline_s"],
            row["ratio"],
            "ratio <= 1.0 (json_normalize of candidates only)",
            row["pass"],
            "s",
        )
    ]


def soak(settings: Settings) -> list[Row]:
    """Issue 8's load test: every row finishes, RSS flat, no 429 in steady state."""
    s = "7 soak"
    n = settings.n
    with serve_in_subprocess(**settings.sandbox_options()) as served:
        result = _track(served.url, n, "end", timeout=3600)
        stats = served.stats()
    counts = result["counts"]
    finished = counts.get("completed", 0) + counts.get("failed", 0)
    samples = result["samples"]
    # steady state: after the first window (the limiter learns the limit from headers there)
    steady = [x for x in samples if x[0] >= settings.window + 1.0]
    first_429 = steady[0][2] if steady else 0
    steady_429 = result["rate_limited"] - first_429
    quarter = [x[1] for x in samples if x[0] >= result["wall_s"] * 0.25]
    base_rss = quarter[0] if quarter else result["peak_mb"]
    growth = (max(quarter) - base_rss) / base_rss if quarter else 0.0
    info = {
        "wall_s": result["wall_s"],
        "counts": counts,
        "sandbox": stats,
        "rss_samples_mb": [x[1] for x in samples],
        "bound_s": 2 * n / settings.rate,
    }
    return [
        Row(
            s,
            f"rows finished (N={n:,}, error_rate {settings.error_rate:g}, "
            f"{settings.limit} req/{settings.window:g} s)",
            finished,
            n,
            ratio(finished, n),
            f"= {n}",
            finished == n,
            details=info,
        ),
        Row(
            s,
            "RSS growth after the first quarter (max vs at 25%)",
            growth * 100,
            base_rss,
            None,
            f"<= {FLAT_TOLERANCE * 100:g} %",
            growth <= FLAT_TOLERANCE,
            "%",
        ),
        Row(
            s,
            "429s in steady state (after the first window)",
            steady_429,
            result["rate_limited"],
            None,
            "= 0",
            steady_429 == 0,
        ),
        Row(
            s,
            "wall / (2N/rate)",
            result["wall_s"],
            2 * n / settings.rate,
            ratio(result["wall_s"], 2 * n / settings.rate),
            "info",
            None,
            "s",
        ),
    ]
