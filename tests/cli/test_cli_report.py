"""``nexio-lab report NAME --out FILE`` reads the journal only and writes one HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nexio_lab.sandbox import Sandbox


def test_report_from_the_journal_makes_no_request(
    cli: Any, sandbox_server: Sandbox, tmp_path: Path, make_profiles: Any, env_for: Any
) -> None:
    make_profiles(tmp_path / "profiles.csv", 6)
    ran = cli(
        "run", "profiles.csv", "--pool", "carriers:all", "--pool", "carriers:tier1",
        "--name", "q4", "--no-progress", "--store", "j.sqlite", env=env_for(sandbox_server),
    )  # fmt: skip
    assert ran.code == 0, ran.output
    sandbox_server.reset_stats()

    done = cli("report", "q4", "--out", "reports/q4.html", "--store", "j.sqlite")

    assert done.code == 0, done.output
    assert "report of 12 evaluation(s) written to" in done.stdout
    html = (tmp_path / "reports" / "q4.html").read_text(encoding="utf-8")
    assert '<section id="summary">' in html and '<table id="agreement">' in html
    assert sandbox_server.api_key not in html and sandbox_server.api_key not in done.output
    assert sandbox_server.stats()["requests"] == 0


def test_report_of_an_unknown_batch_exits_2(cli: Any, tmp_path: Path) -> None:
    done = cli("report", "nope", "--out", "x.html")
    assert done.code == 2
    assert "no batch named 'nope'" in done.stderr and "Traceback" not in done.output
    assert not (tmp_path / "x.html").exists()
