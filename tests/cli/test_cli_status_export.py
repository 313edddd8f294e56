"""``nexio-lab status`` and ``export`` read the journal only: no request is made."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nexio_lab import read_results
from nexio_lab.sandbox import Sandbox


def test_status_and_export_make_no_requests(
    cli: Any, sandbox_server: Sandbox, tmp_path: Path, make_profiles: Any, env_for: Any
) -> None:
    make_profiles(tmp_path / "profiles.csv", 6, blank_entity_rows=(2,))
    ran = cli(
        "run", "profiles.csv", "--pool", "carriers:all", "--name", "q4", "--no-progress",
        env=env_for(sandbox_server),
    )  # fmt: skip
    assert ran.code == 1, ran.output
    sandbox_server.reset_stats()

    # No key, no URL: these read the journal only.
    status = cli("status", "q4")
    exported = cli("export", "q4", "--out", "again", "--format", "csv")

    assert status.code == 0, status.output
    lines = dict(line.split() for line in status.stdout.splitlines() if line.startswith("  "))
    assert lines["completed"] == "5"
    assert lines["error"] == "1"
    assert lines["pending"] == "0"
    assert exported.code == 0, exported.output
    results = read_results(tmp_path / "again")
    assert len(results.evaluations) == 6
    assert (results.evaluations["status"] == "completed").sum() == 5
    assert sandbox_server.stats()["requests"] == 0


def test_unknown_batch_name_exits_2(cli: Any) -> None:
    for args in (("status", "nope"), ("export", "nope", "--out", "x")):
        done = cli(*args)
        assert done.code == 2, done.output
        assert "no batch named 'nope'" in done.stderr
        assert "Traceback" not in done.output
