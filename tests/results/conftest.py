"""Payload fixtures for results tests: seeded synthetic batches and hand-written odd ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from nexio_lab._models import EvaluationRecord
from nexio_lab.results import ResultSet
from nexio_lab.results._synthetic import synthetic_records

#: Reasoning that CSV and Parquet must both carry unchanged.
TRICKY_REASONING = 'Says "yes", then, no;\nline two — café 東京 \t tab, 100% \\ backslash'

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def _at(seconds: float, naive: bool = False) -> datetime:
    moment = datetime.fromtimestamp(T0.timestamp() + seconds, tz=UTC)
    return moment.replace(tzinfo=None) if naive else moment


def build_odd_records() -> list[EvaluationRecord]:
    """Five rows covering what the contract leaves open (see the comments)."""
    return [
        EvaluationRecord(
            row=0,
            pool="carriers:all",
            profile={"entity": "acme", "state": "CA", "revenue": 12_000_000, "active": True},
            status="completed",
            eval_id="eval_a",
            submitted_at=_at(0),
            completed_at=_at(42.5, naive=True),  # naive: taken as UTC
            result={
                "eval_id": "eval_a",
                "status": "completed",
                "pool_size": 100,
                "filtered": 10,
                "audit": "https://api.usenexio.com/traces/eval_a",
                "new_field": {"ignored": True},
                "candidates": [
                    {
                        "tier": "STRONG_FIT",
                        "name": "Alpha",
                        "confidence": "HIGH",
                        "scores": {
                            "appetite": "L1",
                            "coverage": "L2",
                            "financial": "L1",
                            "pricing": "L3",
                            "placement": "L4",
                            "service": "L2",
                            "cyber": "L2",  # extra dimension
                        },
                        "reasoning": TRICKY_REASONING,
                    },
                    "junk between candidates",  # not an object: skipped, rank 2 unused
                    {
                        "tier": "SUPER_FIT",  # unknown tier
                        "name": "Beta",
                        "confidence": "VERY_HIGH",  # unknown confidence
                        "scores": {"appetite": "L5", "coverage": " l2 ", "zeta": "L3"},
                    },
                    {"name": "Gamma"},  # nothing optional
                    42,
                    {
                        "tier": "WEAK_FIT",
                        "name": "Delta",
                        "confidence": "LOW",
                        "scores": "not a mapping",
                        "reasoning": None,
                    },
                ],
            },
        ),
        EvaluationRecord(
            row=1,
            pool="carriers:tier1",
            profile={"entity": "beta-co", "state": "NY", "revenue": 3.5e6, "tags": ["a", "b"]},
            status="completed",
            eval_id="eval_b",
            submitted_at=_at(10),
            completed_at=_at(25),
            result={
                "eval_id": "eval_b",
                "status": "completed",
                "pool_size": 50,
                "filtered": 50,
                "candidates": [],
            },
        ),
        EvaluationRecord(
            row=2,
            pool="carriers:all",
            profile={"entity": "gamma", "state": "TX"},
            status="failed",
            eval_id="eval_c",
            submitted_at=_at(20),
            completed_at=_at(80),
            result={
                "eval_id": "eval_c",
                "status": "failed",
                "error": {"code": "pipeline_error", "message": "assessment <timed> out"},
            },
        ),
        EvaluationRecord(
            row=3,
            pool="carriers:all",
            profile={"entity": "delta", "state": "WA"},
            status="error",
            error_code="invalid_request",
            error_message="Missing required field: profile.line",
        ),
        EvaluationRecord(
            row=4,
            pool="carriers:tier1",
            profile={"entity": "eps", "state": "FL"},
            status="queued",
            eval_id="eval_e",
            submitted_at=_at(30),
            result={"eval_id": "eval_e", "status": "queued"},
        ),
    ]


@pytest.fixture
def make_records() -> Callable[..., list[EvaluationRecord]]:
    """``make_records(n_evals, n_candidates, seed, **options)``: seeded synthetic records."""
    return synthetic_records


@pytest.fixture
def odd_records() -> list[EvaluationRecord]:
    return build_odd_records()


@pytest.fixture
def odd(odd_records: list[EvaluationRecord]) -> ResultSet:
    return ResultSet.from_records(odd_records)


@pytest.fixture
def tricky_reasoning() -> str:
    return TRICKY_REASONING


@pytest.fixture
def batch_like(make_records: Callable[..., Any]) -> ResultSet:
    return ResultSet.from_records(make_records(12, 8, seed=3, failed_every=5))
