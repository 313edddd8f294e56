"""benchmarks/explore.py runs end to end at tiny sizes, so it cannot rot (timings unchecked)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_explore_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "explore.json"
    done = subprocess.run(
        [sys.executable, "benchmarks/explore.py", "--smoke", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(out.read_text())["rows"]
    steps = [r["step"] for r in rows]
    assert steps[0] == "open (prepare 2 runs)" and "A/B runs" in steps
    assert sum(s.startswith("plot ") for s in steps) == 6
    assert all(math.isfinite(r["median_s"]) and r["median_s"] > 0 for r in rows)
    assert "slowest redraw:" in done.stdout
