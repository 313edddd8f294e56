"""The tables built from a real batch against the sandbox follow the column contract."""

from __future__ import annotations

import pandas as pd

from nexio_lab import Client, read_results
from nexio_lab.results._columns import (
    CANDIDATE_COLUMNS,
    EVALUATION_COLUMNS,
    SCORE_COLUMNS,
)


def test_sandbox_batch_tables_follow_the_contract(sandbox, tmp_path) -> None:
    profiles = [
        {
            "entity": "acme-mfg",
            "state": "CA",
            "line": "professional_liability",
            "revenue": 12_000_000,
            "industry": "manufacturing",
        },
        {
            "entity": "lone-star-clinic",
            "state": "TX",
            "line": "general_liability",
            "revenue": 800_000,
        },
        {
            "entity": "empire-logistics",
            "state": "NY",
            "line": "workers_comp",
            "revenue": 250_000_000,
        },
    ]
    batch = Client(sandbox.api_key, base_url=sandbox.url).run_batch(
        profiles,
        pools=["carriers:all", "providers:network"],
        name="contract",
        store=tmp_path / "j.sqlite",
        progress=False,
    )

    evaluations, candidates, scores = batch.evaluations, batch.candidates, batch.scores
    assert tuple(evaluations.columns[: len(EVALUATION_COLUMNS)]) == EVALUATION_COLUMNS
    assert {"profile_state", "profile_revenue", "profile_industry"} <= set(evaluations.columns)
    assert len(evaluations) == 6 and set(evaluations["status"]) == {"completed"}
    assert (evaluations["n_candidates"] > 0).all()
    assert isinstance(evaluations["completed_at"].dtype, pd.DatetimeTZDtype)
    assert (evaluations["duration_s"] >= 0).all()

    assert tuple(candidates.columns[: len(CANDIDATE_COLUMNS)]) == CANDIDATE_COLUMNS
    assert candidates["tier"].cat.categories[0] == "STRONG_FIT"
    assert candidates.groupby("eval_id")["rank"].min().eq(1).all()
    assert tuple(scores.columns) == SCORE_COLUMNS
    assert scores["level"].cat.ordered and list(scores["level"].cat.categories) == [
        "L1",
        "L2",
        "L3",
        "L4",
    ]
    assert len(scores) == len(candidates) * 6  # six default dimensions per candidate
    # the profile really changes the outcome: the three entities' shortlists differ
    shortlists = candidates[candidates["pool"] == "carriers:all"].groupby("entity")["name"]
    assert len({tuple(names) for _, names in shortlists}) == 3

    back = read_results(batch.to_parquet(tmp_path / "out"))
    pd.testing.assert_frame_equal(back.candidates, candidates)
