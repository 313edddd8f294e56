"""Hand-built results whose filters, segments and comparisons have known answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from nexio_lab._models import EvaluationRecord
from nexio_lab.results import ResultSet

#: entity -> (state, line, revenue)
PROFILES = {
    "acme": ("CA", "cyber", 500_000),  # <$1M
    "bolt": ("CA", "property", 1_000_000),  # exactly $1M: the $1M–10M band
    "cora": ("NY", "cyber", 25_000_000),  # $10M–100M
    "dune": ("TX", "property", 2_000_000_000),  # $1B+
}
#: (entity, pool) -> ranked (name, tier); "dune" failed on pool Q.
RANKED = {
    ("acme", "P"): [("X", "STRONG_FIT"), ("Y", "GOOD_FIT"), ("Z", "WEAK_FIT")],
    ("acme", "Q"): [("Y", "STRONG_FIT"), ("X", "GOOD_FIT"), ("W", "POSSIBLE_FIT")],
    ("bolt", "P"): [("X", "GOOD_FIT"), ("Z", "GOOD_FIT")],
    ("bolt", "Q"): [("X", "GOOD_FIT"), ("Z", "POSSIBLE_FIT")],
    ("cora", "P"): [("Y", "STRONG_FIT")],
    ("cora", "Q"): [("Y", "WEAK_FIT"), ("V", "STRONG_FIT")],
    ("dune", "P"): [("W", "POSSIBLE_FIT"), ("X", "WEAK_FIT")],
}


def _records(ranked: dict[tuple[str, str], list[tuple[str, str]]]) -> list[EvaluationRecord]:
    records = []
    for row, entity in enumerate(PROFILES):
        state, line, revenue = PROFILES[entity]
        profile = {"entity": entity, "state": state, "line": line, "revenue": revenue}
        for pool in ("P", "Q"):
            eval_id = f"eval_{entity}_{pool}"
            candidates = ranked.get((entity, pool))
            if candidates is None:
                result: dict[str, Any] = {
                    "eval_id": eval_id,
                    "status": "failed",
                    "error": {"code": "pipeline_error", "message": "timed out"},
                }
                status = "failed"
            else:
                result = {
                    "eval_id": eval_id,
                    "status": "completed",
                    "pool_size": 100,
                    "filtered": 40,
                    "candidates": [
                        {
                            "name": name,
                            "tier": tier,
                            "confidence": "HIGH",
                            "scores": {"appetite": "L1", "pricing": "L3"},
                            "reasoning": f"{name} for {entity} on {pool}",
                        }
                        for name, tier in candidates
                    ],
                }
                status = "completed"
            records.append(
                EvaluationRecord(
                    row=row, pool=pool, profile=profile, status=status, eval_id=eval_id,
                    result=result,
                )
            )  # fmt: skip
    return records


@pytest.fixture
def results() -> ResultSet:
    return ResultSet.from_records(_records(RANKED))


@pytest.fixture
def later_run() -> ResultSet:
    """The same profiles a month later: on P, acme's Y became STRONG_FIT and X dropped out."""
    ranked = dict(RANKED)
    ranked[("acme", "P")] = [("Y", "STRONG_FIT"), ("Z", "WEAK_FIT")]
    return ResultSet.from_records(_records(ranked))


@pytest.fixture(autouse=True)
def _no_pyplot_figures() -> Iterator[None]:
    yield
    # the explorer draws on bare Figures: pyplot must not be holding any
    assert plt.get_fignums() == []
