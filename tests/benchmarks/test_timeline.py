"""The per-request timeline tool runs end to end on a tiny sandbox, so it cannot rot.

It checks the counts it prints against each other (not timings): every request the
sandbox admitted appears once in the windows, and the run finished with no 429.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_timeline_lists_every_admitted_request_by_window() -> None:
    args = ["--rate-kind", "fixed", "--n", "8", "--limit", "10", "--window", "0.5"]
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks._timeline", *args, "--speed", "400"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    requests = int(re.search(r"requests (\d+)", out).group(1))  # type: ignore[union-attr]
    assert requests >= 16  # a POST and at least one GET per evaluation
    windows = re.findall(r"^window (\d+):", out, flags=re.M)
    assert windows == [str(w) for w in range(len(windows))]
    assert len(windows) == -(-requests // 10)  # every admitted request lands in a window
    assert "start -> first request:" in out
    assert re.search(r"429s at \(s from start\): \[\]", out)
