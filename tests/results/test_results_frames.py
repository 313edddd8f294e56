"""The four tables built from records: columns, dtypes and values on odd payloads."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from nexio_lab._models import CONFIDENCES, DEFAULT_DIMENSIONS, LEVELS, TIERS, Evaluation
from nexio_lab.results import ResultSet, to_frames
from nexio_lab.results._columns import (
    CANDIDATE_COLUMNS,
    ERROR_COLUMNS,
    EVALUATION_COLUMNS,
    SCORE_COLUMNS,
    TIME_DTYPE,
)

DIMS = (*DEFAULT_DIMENSIONS, "cyber", "zeta")


def values(series: pd.Series) -> list[object]:
    """Plain Python values, every kind of missing as None."""
    return [None if pd.isna(v) else v for v in series.astype(object)]


def test_column_order_follows_the_contract(odd: ResultSet) -> None:
    assert tuple(odd.evaluations.columns) == (
        *EVALUATION_COLUMNS,
        "profile_entity",
        "profile_state",
        "profile_revenue",
        "profile_active",
        "profile_tags",
    )
    assert odd.dimensions == DIMS
    assert tuple(odd.candidates.columns) == (*CANDIDATE_COLUMNS, *DIMS)
    assert tuple(odd.scores.columns) == SCORE_COLUMNS
    assert tuple(odd.errors.columns) == ERROR_COLUMNS


def test_dtypes(odd: ResultSet) -> None:
    ev, cand, sc = odd.evaluations, odd.candidates, odd.scores
    for frame in (ev, cand, sc):
        assert frame["row"].dtype == "Int64"
        for col in ("eval_id", "entity", "pool"):
            assert frame[col].dtype == pd.StringDtype(na_value=pd.NA), col
    for col in ("pool_size", "filtered", "n_candidates"):
        assert ev[col].dtype == "Int64"
    assert ev["status"].dtype == "string"
    assert ev["submitted_at"].dtype == TIME_DTYPE == ev["completed_at"].dtype
    assert ev["duration_s"].dtype == "float64"
    assert cand["rank"].dtype == "Int64" and sc["rank"].dtype == "Int64"
    assert cand["name"].dtype == "string" and cand["reasoning"].dtype == "string"
    tier = cand["tier"].dtype
    assert tier.ordered and list(tier.categories) == [*TIERS, "SUPER_FIT"]
    conf = cand["confidence"].dtype
    assert conf.ordered and list(conf.categories) == [*CONFIDENCES, "VERY_HIGH"]
    for dim in DIMS:
        assert cand[dim].dtype == pd.CategoricalDtype(list(LEVELS), ordered=True), dim
    assert sc["level"].dtype == pd.CategoricalDtype(list(LEVELS), ordered=True)
    assert sc["level_num"].dtype == "Int8"
    assert list(sc["dimension"].dtype.categories) == list(DIMS)


def test_profile_columns_keep_native_types(odd: ResultSet) -> None:
    ev = odd.evaluations
    assert ev["profile_entity"].tolist() == ev["entity"].tolist()
    assert ev["profile_state"].dtype == "string"
    # ints and a float mixed: float64, missing as NaN
    assert ev["profile_revenue"].dtype == "float64"
    assert ev["profile_revenue"].iloc[0] == 12_000_000.0 and math.isnan(
        ev["profile_revenue"].iloc[2]
    )
    assert ev["profile_active"].dtype == "boolean"
    assert ev["profile_active"].iloc[0] is np.True_ or bool(ev["profile_active"].iloc[0])
    assert ev["profile_active"].isna().sum() == 4
    assert ev["profile_tags"].dtype == "string"
    assert ev["profile_tags"].iloc[1] == '["a", "b"]'


def test_evaluation_values(odd: ResultSet) -> None:
    ev = odd.evaluations
    assert ev["status"].tolist() == ["completed", "completed", "failed", "error", "queued"]
    assert ev["eval_id"].isna().tolist() == [False, False, False, True, False]
    assert ev["pool_size"].tolist()[:2] == [100, 50]
    assert ev["pool_size"].isna().tolist() == [False, False, True, True, True]
    # junk entries of the candidates list are not counted
    assert ev["n_candidates"].tolist() == [4, 0, 0, 0, 0]
    # naive completed_at was taken as UTC
    assert ev["duration_s"].iloc[0] == pytest.approx(42.5)
    assert ev["completed_at"].iloc[0] == pd.Timestamp("2025-03-01 12:00:42.5", tz="UTC")
    assert ev["duration_s"].isna().tolist() == [False, False, False, True, True]


def test_errors_carry_the_reason(odd: ResultSet) -> None:
    err = odd.errors
    assert err["row"].tolist() == [2, 3, 4]
    assert err["status"].tolist() == ["failed", "error", "queued"]
    # from the result's error object when the record has none, else the record's own
    assert err["error_code"].tolist()[:2] == ["pipeline_error", "invalid_request"]
    assert err["error_message"].iloc[0] == "assessment <timed> out"
    assert err["error_message"].iloc[1] == "Missing required field: profile.line"
    assert err["error_code"].isna().iloc[2]


def test_candidates_skip_junk_but_keep_api_ranks(odd: ResultSet, tricky_reasoning: str) -> None:
    cand = odd.candidates
    assert cand["name"].tolist() == ["Alpha", "Beta", "Gamma", "Delta"]
    assert cand["rank"].tolist() == [1, 3, 4, 6]
    assert cand["eval_id"].unique().tolist() == ["eval_a"]
    assert cand["entity"].unique().tolist() == ["acme"]
    assert cand["pool"].unique().tolist() == ["carriers:all"]
    assert cand["tier"].astype(object).tolist()[:2] == ["STRONG_FIT", "SUPER_FIT"]
    assert cand["tier"].isna().tolist() == [False, False, True, False]
    assert cand["reasoning"].iloc[0] == tricky_reasoning
    assert cand["reasoning"].isna().tolist() == [False, True, True, True]
    # levels: lowercase/blank-padded accepted, unknown L5 missing, extra dims filled
    assert values(cand.loc[0, list(DIMS)]) == [
        "L1", "L2", "L1", "L3", "L4", "L2", "L2", None,
    ]  # fmt: skip
    beta = cand.iloc[1]
    assert pd.isna(beta["appetite"]) and beta["coverage"] == "L2" and beta["zeta"] == "L3"
    assert cand.loc[2:3, list(DIMS)].isna().all().all()


def test_scores_long_form(odd: ResultSet) -> None:
    sc = odd.scores
    # Alpha: 7 scored dimensions; Beta: 3 (one with an unknown level); Gamma, Delta: none
    assert sc["name"].value_counts().to_dict() == {"Alpha": 7, "Beta": 3}
    beta = sc[sc["name"] == "Beta"]
    assert beta["dimension"].astype(str).tolist() == ["appetite", "coverage", "zeta"]
    assert values(beta["level"]) == [None, "L2", "L3"]
    assert values(beta["level_num"]) == [None, 2, 3]
    assert beta["rank"].tolist() == [3, 3, 3]
    alpha = sc[sc["name"] == "Alpha"]
    assert alpha["level_num"].tolist() == [1, 2, 1, 3, 4, 2, 2]


def test_scores_equal_a_melt_of_the_wide_candidates(make_records) -> None:
    rs = ResultSet.from_records(make_records(40, 9, seed=11, failed_every=7))
    cand, dims = rs.candidates, list(rs.dimensions)
    melted = cand.melt(
        id_vars=["row", "eval_id", "rank", "name"], value_vars=dims, var_name="dimension"
    ).dropna(subset=["value"])
    expected = sorted(
        zip(melted["row"], melted["rank"], melted["dimension"], melted["value"], strict=True)
    )
    sc = rs.scores
    got = sorted(
        zip(
            sc["row"], sc["rank"], sc["dimension"].astype(str), sc["level"].astype(str), strict=True
        )
    )
    assert got == expected
    assert len(sc) == len(cand) * 6
    assert (sc["level_num"] == sc["level"].cat.codes + 1).all()


def test_empty_input_has_the_same_columns_and_dtypes(make_records) -> None:
    empty = ResultSet.from_records([])
    full = ResultSet.from_records(make_records(3, 4, seed=1))
    for name in ("evaluations", "candidates", "scores", "errors"):
        e, f = getattr(empty, name), getattr(full, name)
        assert e.empty
        fixed = [c for c in e.columns]
        if name == "evaluations":
            # profile columns exist only when profiles have fields
            assert [c for c in f.columns if not c.startswith("profile_")] == fixed
        else:
            assert list(f.columns) == fixed
        for col in fixed:
            if col in ("tier", "confidence"):
                assert e[col].dtype.ordered and f[col].dtype.ordered
            else:
                assert e[col].dtype == f[col].dtype, (name, col)


def test_to_frames_from_evaluations_with_profiles_and_pools() -> None:
    payloads = [
        {"eval_id": "e1", "status": "completed", "pool_size": 9, "filtered": 1,
         "candidates": [{"name": "A", "tier": "GOOD_FIT", "scores": {"pricing": "L2"}}]},
        {"eval_id": "e2", "status": "failed", "error": {"code": "x", "message": "y"}},
    ]  # fmt: skip
    evs = [Evaluation.from_json(p) for p in payloads]
    rs = to_frames(evs, profiles=[{"entity": "one"}, {"entity": "two"}], pools=["p1", "p2"])
    assert rs.evaluations["row"].tolist() == [0, 1]
    assert rs.evaluations["entity"].tolist() == ["one", "two"]
    assert rs.evaluations["pool"].tolist() == ["p1", "p2"]
    assert rs.errors["error_code"].tolist() == ["x"]
    assert rs.candidates[["entity", "pool", "name", "pricing"]].astype(object).values.tolist() == [
        ["one", "p1", "A", "L2"]
    ]
    bare = to_frames(evs)
    assert bare.evaluations["entity"].isna().all() and bare.evaluations["pool"].isna().all()
    with pytest.raises(ValueError, match="pools has 1 items for 2 evaluations"):
        to_frames(evs, pools=["p1"])


def test_one_evaluation_to_frames_and_evaluation_without_raw() -> None:
    ev = Evaluation.from_json(
        {"eval_id": "e1", "status": "completed",
         "candidates": [{"name": "A", "tier": "STRONG_FIT"}, {"name": "B", "tier": "ODD"}]}
    )  # fmt: skip
    frame = to_frames(ev).candidates
    assert tuple(frame.columns[: len(CANDIDATE_COLUMNS)]) == CANDIDATE_COLUMNS
    assert not hasattr(ev, "to_frame")  # the core builds no frames: nexio_lab.to_frames does
    assert frame["name"].tolist() == ["A", "B"] and frame["rank"].tolist() == [1, 2]
    assert list(frame["tier"].dtype.categories) == [*TIERS, "ODD"]
    # an Evaluation built by hand (no raw JSON) is rebuilt from its attributes
    rebuilt = Evaluation(eval_id="e9", status="completed", candidates=ev.candidates, pool_size=5)
    out = to_frames([rebuilt])
    assert out.candidates["name"].tolist() == ["A", "B"]
    assert out.evaluations["pool_size"].tolist() == [5]


def test_result_set_repr_and_html(odd: ResultSet) -> None:
    text = repr(odd)
    assert "evaluations=5" in text and "completed=2" in text and "candidates=4" in text
    assert "STRONG_FIT=1" in text and "SUPER_FIT=1" in text
    html = odd._repr_html_()
    assert "<table>" in html and "failed: 1" in html and "cyber" in html
    summary = odd.summary()
    assert summary["by_tier"] == {"STRONG_FIT": 1, "WEAK_FIT": 1, "SUPER_FIT": 1}


def test_tables_are_built_once(odd: ResultSet) -> None:
    assert odd.candidates is odd.candidates
    assert odd.tables.evaluations is odd.evaluations
