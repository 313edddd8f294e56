"""Parquet and CSV export round trips, and reading results back."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from nexio_lab.results import ResultSet, read_results
from nexio_lab.results._columns import CONTRACT_VERSION, TIME_DTYPE

TABLES = ("evaluations", "candidates", "scores", "errors")


def assert_same_tables(a: ResultSet, b: ResultSet, **kwargs: object) -> None:
    for name in TABLES:
        assert_frame_equal(getattr(a, name), getattr(b, name), **kwargs, obj=name)
    assert a.dimensions == b.dimensions


@pytest.mark.parametrize("which", ["odd", "batch_like", "empty"])
def test_parquet_round_trips_exactly(which: str, request, tmp_path: Path) -> None:
    rs = ResultSet.from_records([]) if which == "empty" else request.getfixturevalue(which)
    out = rs.to_parquet(tmp_path / "out")
    assert out == tmp_path / "out"
    # no sidecar: each file's schema metadata describes it
    assert sorted(p.name for p in out.iterdir()) == [
        "candidates.parquet",
        "evaluations.parquet",
        "scores.parquet",
    ]
    assert_same_tables(rs, read_results(out))


@pytest.mark.parametrize("which", ["odd", "batch_like", "empty"])
def test_csv_round_trips_with_contract_dtypes(which: str, request, tmp_path: Path) -> None:
    rs = ResultSet.from_records([]) if which == "empty" else request.getfixturevalue(which)
    back = read_results(rs.to_csv(tmp_path))
    # With the metadata file even CSV comes back equal: categories, Int64, UTC times, text.
    assert_same_tables(rs, back)


def test_tricky_text_survives_both_formats(odd: ResultSet, tricky_reasoning: str, tmp_path):
    for fmt in ("parquet", "csv"):
        back = read_results(getattr(odd, f"to_{fmt}")(tmp_path / fmt))
        assert back.candidates["reasoning"].iloc[0] == tricky_reasoning, fmt
        assert back.errors["error_message"].iloc[0] == "assessment <timed> out"
    raw = (tmp_path / "csv" / "candidates.csv").read_bytes()
    assert "東京".encode() in raw  # written as UTF-8, not escaped


def test_metadata_file_describes_the_contract(odd: ResultSet, tmp_path: Path) -> None:
    meta = json.loads((odd.to_csv(tmp_path) / "nexio-results.json").read_text())
    assert meta["format"] == "csv" and meta["contract_version"] == CONTRACT_VERSION
    assert meta["dimensions"][-2:] == ["cyber", "zeta"]
    tier = meta["dtypes"]["candidates"]["tier"]
    assert tier["kind"] == "category" and tier["ordered"] and tier["categories"][-1] == "SUPER_FIT"


def test_csv_without_metadata_is_typed_by_the_contract(odd: ResultSet, tmp_path: Path) -> None:
    out = odd.to_csv(tmp_path)
    (out / "nexio-results.json").unlink()
    back = read_results(out)
    cand, ev, sc = back.candidates, back.evaluations, back.scores
    assert back.dimensions == odd.dimensions
    assert cand["tier"].dtype == odd.candidates["tier"].dtype
    assert cand["confidence"].dtype == odd.candidates["confidence"].dtype
    assert cand["zeta"].dtype == odd.candidates["zeta"].dtype
    assert sc["level"].dtype == odd.scores["level"].dtype
    assert sc["level_num"].dtype == "Int8"
    assert ev["row"].dtype == "Int64" and ev["pool_size"].dtype == "Int64"
    assert ev["submitted_at"].dtype == TIME_DTYPE
    assert_frame_equal(ev[["completed_at"]], odd.evaluations[["completed_at"]])
    assert cand["name"].tolist() == odd.candidates["name"].tolist()
    # profile columns are guessed: numbers stay numbers
    assert ev["profile_revenue"].dtype == "float64"


def test_parquet_is_preferred_and_missing_results_fail_clearly(odd, tmp_path: Path) -> None:
    odd.to_parquet(tmp_path)
    odd.to_csv(tmp_path)  # both in one directory: Parquet wins, whichever came last
    assert json.loads((tmp_path / "nexio-results.json").read_text())["format"] == "csv"
    back = read_results(tmp_path)
    assert_same_tables(odd, back)
    assert back.candidates["tier"].dtype == odd.candidates["tier"].dtype
    with pytest.raises(FileNotFoundError, match="not a results directory"):
        read_results(tmp_path / "nowhere")


def test_round_trip_keeps_working_in_pandas(odd: ResultSet, tmp_path: Path) -> None:
    back = read_results(odd.to_csv(tmp_path))
    best = back.candidates.sort_values("tier").iloc[0]
    assert best["name"] == "Alpha"
    assert back.scores.groupby("dimension", observed=True)["level_num"].mean()["zeta"] == 3
    assert isinstance(back.evaluations["completed_at"].iloc[0], pd.Timestamp)
