"""The benchmark harness runs end to end at tiny sizes, so it cannot rot.

It runs the documented command in a subprocess (the way a person runs it) and checks the
table, not the timings: every scenario has its rows, every figure is a number, and the
counts agree with each other (requests, polls, 429s, rows, evaluations created, floors).
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
_LIMIT = [
    "nexio-lab, N=",
    "(c) burst at each reset: wall / true floor",
    "(a) vendor advice: wall / true floor",
    "wall vs (c) burst at each reset",
    "wall vs (a) vendor advice",
    "polls per evaluation vs (a) vendor advice",
    "429s after the first window",
    "rows finished",
]
_SHARED = [
    "429s, % of all requests, K=2",
    "429s, % of all requests, K=3",
    "total wall / true floor of K x N",
    "slowest client wall / mean of the others",
    "rows finished",
]
EXPECTED = {
    "1 limit binds [fixed-aligned]": [*_LIMIT, "wall vs (b) shortcut", "requests vs (b)"],
    "1 limit binds [fixed]": _LIMIT,
    "1 limit binds [sliding]": _LIMIT,
    "1 limit binds [bucket]": _LIMIT,
    "2 latency binds": [
        "start -> last result noticed vs (a) vendor advice",
        "last ready -> noticed",
        "polls per evaluation vs (a) vendor advice",
        "wall vs (a) vendor advice",
        "requests vs (b) shortcut",
        "rows finished",
    ],
    "3 webhook": [
        "requests per evaluation",
        "nexio-lab (webhook)",
        "webhook wall vs (a) vendor advice",
    ],
    "5 overhead": ["run_batch vs bare loop, same httpx settings", "sandbox capacity"],
    "6 memory": ["peak RSS tracking", "peak RSS projected"],
    "6 frames": ["all tables"],
    "7 soak": ["rows finished", "RSS growth", "429s in steady state"],
    "8 shared key [fixed-aligned]": _SHARED,
    "9 real scale (scaled x100)": [
        "polls per evaluation vs (a) vendor advice, N=3",
        "start -> last result noticed vs (a)",
        "lateness: last ready -> noticed vs (a)",
        "wall / true floor, real s",
        "rows finished",
    ],
}
COLUMNS = (
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


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "smoke.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--soak", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=330,
        env={"NEXIO_LAB_HOME": str(tmp / "home"), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(out.read_text())
    data["stdout"] = done.stdout
    return data


@pytest.mark.timeout(360)
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
    assert len(finished) >= 10
    assert all(r["passed"] for r in finished), finished


def _runs(smoke: dict) -> list[tuple[str, str, dict]]:
    """Every measured client run: (scenario, client, run)."""
    out = []
    for row in smoke["rows"]:
        for client, runs in row["details"].get("runs", {}).items():
            out += [(row["scenario"], client, run) for run in runs]
    return out


def test_the_counts_of_every_run_agree(smoke: dict) -> None:
    runs = _runs(smoke)
    scenarios = {scenario for scenario, _, _ in runs}
    assert {s for s in EXPECTED if s[0] in "1239"} <= scenarios
    for scenario, client, run in runs:
        where = (scenario, client)
        assert run["posts"] + run["polls"] <= run["requests"], where
        assert run["rate_limited_after_first_window"] <= run["rate_limited"] <= run["requests"]
        assert run["jobs_created"] <= run["posts"], where
        floor = run["floor"]
        assert floor["floor_s"] == max(floor["budget_s"], floor["ready_s"]) > 0, where
        assert floor["naive_s"] > 0 and floor["binds"] in ("budget", "readiness"), where
        if client != "webhook":
            assert run["polls"] >= run["finished"], where  # at least one GET per result
        else:
            assert run["webhooks"] == run["finished"], where


def test_shared_key_counts_agree(smoke: dict) -> None:
    rows = [r for r in smoke["rows"] if r["scenario"].startswith("8 shared key")]
    firsts = [r for r in rows if r["figure"].startswith("429s, % of all requests")]
    assert len(firsts) == 2  # K = 2 and 3 on the first kind
    for row in firsts:
        details = row["details"]
        children = details["children"]
        assert len(children) in (2, 3) and len(details["walls"]) == len(children)
        assert details["429"] <= details["requests"] == details["stats"]["requests"]
        assert row["nexio_lab"] == pytest.approx(100 * details["429"] / details["requests"])
        assert sum(c["finished"] for c in children) == details["stats"]["jobs_created"]
        assert all(c["start"] <= c["last_noticed"] <= c["end"] for c in children)


def test_rows_over_several_runs_say_so(smoke: dict) -> None:
    overhead = next(r for r in smoke["rows"] if "same httpx settings" in r["figure"])
    assert overhead["runs"] == 3 and overhead["spread"]  # alternating even in smoke mode
    assert len(overhead["details"]["run_batch"]) == len(overhead["details"]["bare"]) == 3
    floors = [r for r in smoke["rows"] if "wall / true floor" in r["figure"]]
    assert floors and all(r["floor"] and r["floor"] > 0 for r in floors)


def test_the_table_is_printed(smoke: dict) -> None:
    header = smoke["stdout"].splitlines()[0]
    for column in COLUMNS:
        assert column in header
    assert smoke["meta"]["table"].splitlines()[0] == header
