"""benchmarks/large.py runs end to end at tiny sizes (so it cannot rot); no figure asserted
beyond its shape and the store's counts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "large.py"


def test_large_benchmark_smoke() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke"],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("30 evaluations x 5 candidates")
    labels = [line.split(" | ")[0].strip() for line in lines[2:-1]]
    assert labels == [
        "tables: peak RSS",
        "tables: peak RSS above the imports' floor",
        "tables: their own size (memory_usage deep)",
        "tables: (peak - floor) / own size",
        "export to_parquet: peak RSS",
        "export: peak RSS above the imports' floor",
        "tables: wall time (chunked reads twice)",
        "export: wall time",
        "journal file bytes per evaluation",
        "result column bytes per evaluation",
    ]
    assert lines[-1].startswith("result compression ratio (JSON text / zlib): ")
    assert float(lines[-1].rsplit(" ", 1)[1].rstrip("x")) > 1
