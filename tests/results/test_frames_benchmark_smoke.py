"""benchmarks/frames.py runs end to end at tiny sizes (so it cannot rot); no timing asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "frames.py"


def test_frames_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "figure | nexio-lab | baseline | ratio | target | pass/fail"
    assert len(lines) == 2
    cells = lines[1].split(" | ")
    assert cells[0].startswith("all tables, 20 evals x 5 candidates (100 candidate rows")
    assert cells[1].endswith(" s") and cells[2].endswith(" s")
    assert float(cells[3]) > 0 and cells[5] == "n/a (smoke)"
    figures = json.loads(out.read_text())
    (row,) = figures["rows"]
    assert row["nexio_lab_s"] > 0 and row["baseline_s"] > 0 and row["pass"] is None
