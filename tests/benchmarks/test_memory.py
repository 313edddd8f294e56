"""A CI-sized batch stays within its memory budget per evaluation (issue 12).

2,000 evaluations against the sandbox at high speed, in a child process that holds only the
client (``benchmarks._track``, the same code as the 20,000-evaluation benchmark): its RSS is
sampled from before the batch, through submitting and polling to the last result, to the
four tables built and held. RSS growth per evaluation must stay within a budget.

The budgets come from measurements on the 2-core dev machine (``benchmarks._track`` at
n=2,000 then n=1,000, sandbox speed 1000): through the tables 79.6 and 75.4 KB per evaluation
at n=2,000 (93.3 at n=1,000: a fixed ~10 MB is spread over fewer rows); before the tables 6.4
and 6.1 KB (10.8 at n=1,000). Each budget is the worst measurement plus a quarter, rounded
up: a regression of a third fails, run-to-run noise (about 5%) does not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from nexio_lab.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[2]
N = 2_000
#: RSS growth per evaluation, through the last result and the four tables built.
BUDGET_KB = 100.0
#: RSS growth per evaluation while submitting and polling, before any table.
TRACKING_BUDGET_KB = 8.0


@pytest.mark.timeout(600)
def test_a_ci_sized_batch_stays_within_its_memory_budget(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = make_sandbox(rate_limit=10**9, rate_window=60.0, speed=1000.0, seed=7)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXIO_")}
    env |= {"PYTHONPATH": str(REPO), "NEXIO_LAB_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks._track",
         json.dumps({"url": sandbox.url, "n": N, "until": "tables"})],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=590, check=False,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    result = json.loads(lines[-1])
    assert result["counts"].get("completed", 0) + result["counts"].get("failed", 0) == N
    rows = result["tables"]["rows"]
    assert rows[0] == N and rows[1] > 0 and rows[2] > 0  # the tables really were built
    floor = result["floor_mb"]
    per_eval = (result["peak_mb"] - floor) * 1024 / N
    tracking = (result["tables"]["peak_before_mb"] - floor) * 1024 / N
    report = f"{per_eval:.1f} KB/evaluation in all, {tracking:.1f} KB before the tables"
    assert tracking <= TRACKING_BUDGET_KB, report
    assert per_eval <= BUDGET_KB, report
