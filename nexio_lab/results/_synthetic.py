"""Seeded synthetic batch records, for the frames benchmark, tests and demos (not the sandbox).

>>> records = synthetic_records(3, 4, seed=1)
>>> len(records), records[0].status, len(records[0].result["candidates"])
(3, 'completed', 4)
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from .._models import CONFIDENCES, DEFAULT_DIMENSIONS, LEVELS, TIERS, EvaluationRecord

__all__ = ["synthetic_records"]

POOLS = ("carriers:all", "carriers:tier1", "providers:network")
STATES = ("CA", "NY", "TX", "FL", "WA", "IL")
WORDS = (
    *("strong", "appetite", "in", "CA,", "$10-15M", "band;", '"A+"', "rated,", "fast"),
    *("claims", "—", "regional", "niche,", "limited", "placement", "history"),
)


def synthetic_records(
    n_evaluations: int,
    n_candidates: int,
    seed: int = 0,
    *,
    pools: Sequence[str] = POOLS,
    n_carriers: int = 500,
    failed_every: int = 0,
    start: int = 0,
) -> list[EvaluationRecord]:
    """Completed records with ``n_candidates`` ranked candidates each (seeded, repeatable).

    Every ``failed_every``-th record (when > 0) is a failed evaluation with an error object.
    Tiers follow rank (best quarter STRONG_FIT, ...); names come from ``n_carriers`` carriers.
    ``start`` numbers the rows from there, so a large batch can be made a slice at a time.
    """
    rng = random.Random(seed)
    epoch = datetime(2025, 1, 1, tzinfo=UTC)
    records = []
    for i in range(start, start + n_evaluations):
        eval_id = f"eval_{i:08d}"
        submitted = epoch + timedelta(seconds=i)
        completed = submitted + timedelta(seconds=rng.uniform(15, 60))
        profile = {
            "entity": f"entity-{i:06d}",
            "state": rng.choice(STATES),
            "revenue": rng.randrange(1_000_000, 50_000_000),
        }
        pool = pools[i % len(pools)]
        if failed_every and i % failed_every == failed_every - 1:
            result = {
                "eval_id": eval_id,
                "status": "failed",
                "error": {"code": "pipeline_error", "message": "assessment timed out"},
            }
            records.append(
                EvaluationRecord(
                    row=i,
                    pool=pool,
                    profile=profile,
                    status="failed",
                    eval_id=eval_id,
                    submitted_at=submitted,
                    completed_at=completed,
                    result=result,
                )
            )
            continue
        names = rng.sample(range(n_carriers), min(n_candidates, n_carriers))
        candidates = [
            {
                "tier": TIERS[min(len(TIERS) - 1, rank * len(TIERS) // n_candidates)],
                "name": f"Carrier {name:03d}",
                "confidence": rng.choice(CONFIDENCES),
                "scores": {dim: rng.choice(LEVELS) for dim in DEFAULT_DIMENSIONS},
                "reasoning": " ".join(rng.choices(WORDS, k=12)),
            }
            for rank, name in enumerate(names)
        ]
        records.append(
            EvaluationRecord(
                row=i,
                pool=pool,
                profile=profile,
                status="completed",
                eval_id=eval_id,
                submitted_at=submitted,
                completed_at=completed,
                result={
                    "eval_id": eval_id,
                    "status": "completed",
                    "pool_size": 1847,
                    "filtered": rng.randrange(20, 200),
                    "candidates": candidates,
                    "audit": f"https://api.usenexio.com/traces/{eval_id}",
                },
            )
        )
    return records
