"""``nexio-lab demo``: an embedded sandbox, tables in two formats, plots, a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nexio_lab import read_results
from nexio_lab.demo import DEMO_POOLS, shipped_profiles


def test_demo_writes_tables_plots_and_a_summary(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    out.mkdir()
    # What a previous run left: the demo must start a fresh journal, not resume this one
    # (each run has a new sandbox that would not know the old eval_ids).
    (out / "journal.sqlite").write_bytes(b"left over from an earlier run, not a database")

    done = cli("demo", "--rows", "40", "--out", "demo")

    assert done.code == 0, done.output
    for fmt in ("parquet", "csv"):
        results = read_results(out / fmt)
        assert len(results.evaluations) == 40 * len(DEMO_POOLS)
        assert set(results.evaluations["status"]) == {"completed"}
        assert len(results.scores) > len(results.candidates) > 0
    pngs = sorted(p.name for p in (out / "plots").glob("*.png"))
    assert {"tier_distribution.png", "score_heatmap.png", "rank_shift.png"} <= set(pngs)
    for png in (out / "plots").glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<title>Batch demo</title>" in report and '<table id="agreement">' in report
    assert "report: report.html in" in done.stdout
    assert "80 evaluations (40 profiles x 2 pools)" in done.stdout
    assert "carriers:all vs carriers:tier1" in done.stdout
    assert str(out / "plots") in done.stdout or "demo/plots" in done.stdout


def test_shipped_profiles_are_found() -> None:
    path = shipped_profiles()
    assert path.is_file()
    assert path.read_text(encoding="utf-8").startswith("entity,")
