"""Plots render with the Agg backend (no display); every figure is closed after its test."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from nexio_lab._models import Evaluation, EvaluationRecord
from nexio_lab.results import ResultSet
from nexio_lab.results._synthetic import synthetic_records


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture
def batch() -> ResultSet:
    """12 evaluations over 3 pools, 8 candidates each, every 5th failed."""
    return ResultSet.from_records(synthetic_records(12, 8, seed=3, failed_every=5))


@pytest.fixture
def unknown_tiers() -> ResultSet:
    """One evaluation whose tiers include two the contract does not name."""
    tiers = ["STRONG_FIT", "MYSTERY_FIT", "GOOD_FIT", "ODD_FIT", "MYSTERY_FIT"]
    return ResultSet.from_records(
        [
            EvaluationRecord(
                row=0,
                pool="p",
                profile={"entity": "acme"},
                status="completed",
                eval_id="e1",
                result={
                    "eval_id": "e1",
                    "status": "completed",
                    "pool_size": 10,
                    "filtered": 2,
                    "candidates": [
                        {"name": f"C{i}", "tier": t, "scores": {"appetite": "L1", "cyber": "L4"}}
                        for i, t in enumerate(tiers)
                    ],
                },
            )
        ]
    )


def _evaluation(eval_id: str, ranked: list[tuple[str, str]]) -> Evaluation:
    return Evaluation.from_json(
        {
            "eval_id": eval_id,
            "status": "completed",
            "candidates": [{"name": n, "tier": t} for n, t in ranked],
        }
    )


@pytest.fixture
def pair() -> tuple[Evaluation, Evaluation]:
    """X drops a rank and a tier, Y rises, Z stays, W only in A, V only in B."""
    a = _evaluation(
        "eval_A", [("X", "STRONG_FIT"), ("Y", "GOOD_FIT"), ("Z", "POSSIBLE_FIT"), ("W", "WEAK_FIT")]
    )
    b = _evaluation(
        "eval_B", [("Y", "STRONG_FIT"), ("X", "GOOD_FIT"), ("Z", "POSSIBLE_FIT"), ("V", "WEAK_FIT")]
    )
    return a, b
