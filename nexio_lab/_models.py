"""Typed views of what the Nexio API returns, tolerant of everything the contract leaves open.

The API may add fields, tiers, confidences, dimensions and statuses at any time, so parsing
never fails on them: known fields become attributes, everything stays available in ``raw``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "CONFIDENCES",
    "DEFAULT_DIMENSIONS",
    "LEVELS",
    "TERMINAL_STATUSES",
    "TIERS",
    "Candidate",
    "Evaluation",
    "EvaluationRecord",
    "RateLimit",
]

#: Job statuses of the v1 contract; others may appear and are kept as they come.
QUEUED, PROCESSING, COMPLETED, FAILED = "queued", "processing", "completed", "failed"
TERMINAL_STATUSES = frozenset({COMPLETED, FAILED})

#: Levels, best first: L1 ideal/superior ... L4 poor/disqualifying.
LEVELS = ("L1", "L2", "L3", "L4")
#: The documented default dimensions; verticals may configure others.
DEFAULT_DIMENSIONS = ("appetite", "coverage", "financial", "pricing", "placement", "service")
#: Tiers best first. The docs name only STRONG_FIT; the other three are the sandbox's names.
#: Unknown tiers from a real server are kept and sorted after these.
TIERS = ("STRONG_FIT", "GOOD_FIT", "POSSIBLE_FIT", "WEAK_FIT")
#: Confidences, most confident first; unknown ones are kept and sorted after these.
CONFIDENCES = ("HIGH", "MEDIUM", "LOW")


def _as_int(value: Any) -> int | None:
    """An int from a JSON number or numeric string, else None (never raises)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) else None


def _as_str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The rate-limit window as the last response described it.

    ``reset`` is the Unix time (seconds, possibly fractional) at which the window resets.
    """

    limit: int | None
    remaining: int | None
    reset: float | None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimit | None:
        """Read ``X-RateLimit-*`` headers; None when the response carried none of them."""
        lowered = {k.lower(): v for k, v in headers.items()}

        def number(name: str) -> float | None:
            raw = lowered.get(name)
            if raw is None:
                return None
            try:
                value = float(raw)
            except ValueError:
                return None
            return value if math.isfinite(value) else None

        limit = number("x-ratelimit-limit")
        remaining = number("x-ratelimit-remaining")
        reset = number("x-ratelimit-reset")
        if limit is None and remaining is None and reset is None:
            return None
        return cls(
            limit=None if limit is None else int(limit),
            remaining=None if remaining is None else max(0, int(remaining)),
            reset=reset,
        )


@dataclass(frozen=True, slots=True)
class Candidate:
    """One ranked candidate of a completed evaluation (``rank`` 1 is the best)."""

    rank: int
    name: str | None
    tier: str | None
    confidence: str | None
    scores: Mapping[str, str]
    reasoning: str | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Any, rank: int) -> Candidate:
        """Parse one element of ``candidates``; anything not a mapping is kept in ``raw``."""
        if not isinstance(data, Mapping):
            data = {"value": data}
        scores = data.get("scores")
        scores = (
            {str(k): _as_str(v) for k, v in scores.items()} if isinstance(scores, Mapping) else {}
        )
        return cls(
            rank=rank,
            name=_as_str(data.get("name")),
            tier=_as_str(data.get("tier")),
            confidence=_as_str(data.get("confidence")),
            scores=scores,
            reasoning=_as_str(data.get("reasoning")),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The state of one evaluation job, as ``GET /api/v1/jobs/{eval_id}`` describes it.

    >>> ev = Evaluation.from_json({"eval_id": "eval_1", "status": "queued"})
    >>> ev.status, ev.is_done
    ('queued', False)
    """

    eval_id: str
    status: str
    pool_size: int | None = None
    filtered: int | None = None
    candidates: tuple[Candidate, ...] = ()
    audit: str | None = None
    error: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_done(self) -> bool:
        """True once the evaluation is ``completed`` or ``failed``."""
        return self.status in TERMINAL_STATUSES

    @classmethod
    def from_json(cls, data: Mapping[str, Any], eval_id: str | None = None) -> Evaluation:
        """Parse a job body; unknown fields stay in ``raw``, odd types become None."""
        candidates = data.get("candidates")
        error = data.get("error")
        if error is not None and not isinstance(error, Mapping):
            error = {"message": _as_str(error)}
        return cls(
            eval_id=_as_str(data.get("eval_id")) or eval_id or "",
            status=_as_str(data.get("status")) or "unknown",
            pool_size=_as_int(data.get("pool_size")),
            filtered=_as_int(data.get("filtered")),
            candidates=tuple(
                Candidate.from_json(c, rank)
                for rank, c in enumerate(candidates if isinstance(candidates, list) else [], 1)
            ),
            audit=_as_str(data.get("audit")),
            error=error,
            raw=data,
        )

    def _repr_html_(self) -> str:
        # Its candidates as a DataFrame: ``nexio_lab.to_frames(ev).candidates`` (results layer).
        from ._display import evaluation_html

        return evaluation_html(self)


@dataclass(frozen=True, slots=True)
class EvaluationRecord:
    """One (input row, pool) of a batch as the journal knows it; the input of every table.

    ``status`` is the batch status: ``pending``, ``queued``, ``processing``, ``completed``,
    ``failed``, ``error`` (rejected locally or by the API) or ``uncertain`` (the POST's
    outcome is unknown). ``result`` is the raw JSON of the last GET, once there is one.
    """

    row: int
    pool: str
    profile: Mapping[str, Any]
    status: str
    eval_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    submitted_at: datetime | None = None
    completed_at: datetime | None = None
    result: Mapping[str, Any] | None = None
    #: ``batch:eval_id`` of the earlier result this row reused (``reuse=``), else None
    reused_from: str | None = None
