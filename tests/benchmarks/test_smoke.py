"""The benchmark harness runs end to end at tiny sizes, so it cannot rot.

It runs the documented command in a subprocess (the way a person runs it) and checks the
table, not the timings: every scenario has its rows and every figure is a number.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

#: scenario label prefix -> figures that must be present (substrings of the figure name)
EXPECTED = {
    "1 limit binds": ["wall / (2N/rate)", "polls per evaluation", "429s after the first window"],
    "2 latency binds": ["last ready -> noticed", "polls spent vs (a) vendor advice"],
    "3 webhook": ["requests per evaluation", "wall / (N/rate)"],
    "4 vs clients (1)": [
        "wall time vs (a) vendor advice",
        "wall time vs (b) shortcut",
        "webhook wall vs (a) vendor advice",
    ],
    "4 vs clients (2)": ["wall time vs (a) vendor advice", "requests vs (b) shortcut"],
    "5 overhead": ["run_batch vs bare httpx loop", "sandbox requests/s"],
    "6 memory": ["peak RSS tracking", "peak RSS projected"],
    "6 frames": ["all tables"],
    "7 soak": ["rows finished", "RSS growth", "429s in steady state"],
}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "smoke.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--soak", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=110,
        env={"NEXIO_LAB_HOME": str(tmp / "home"), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(out.read_text())
    data["stdout"] = done.stdout
    return data


@pytest.mark.timeout(120)
def test_every_scenario_has_its_rows(smoke: dict) -> None:
    rows = smoke["rows"]
    for scenario, figures in EXPECTED.items():
        names = [r["figure"] for r in rows if r["scenario"] == scenario]
        for figure in figures:
            assert any(figure in name for name in names), (scenario, figure, names)
    assert smoke["meta"]["smoke"] is True


def test_figures_are_numbers(smoke: dict) -> None:
    for row in smoke["rows"]:
        value = row["nexio_lab"]
        assert isinstance(value, int | float) and math.isfinite(value), row
        assert value >= 0, row
        for key in ("baseline", "ratio"):
            assert row[key] is None or isinstance(row[key], int | float | str), row
        assert row["passed"] in (True, False, None), row


def test_every_client_finished_every_row(smoke: dict) -> None:
    finished = [r for r in smoke["rows"] if r["figure"].startswith("rows finished")]
    assert len(finished) >= 4
    assert all(r["passed"] for r in finished), finished


def test_the_table_is_printed(smoke: dict) -> None:
    header = smoke["stdout"].splitlines()[0]
    for column in ("figure", "nexio-lab", "baseline", "ratio", "target", "pass/fail"):
        assert column in header
    assert smoke["meta"]["table"].splitlines()[0] == header
