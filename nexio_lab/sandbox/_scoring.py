"""Filter -> assess -> rank: a profile against a pool, as the Nexio pipeline describes it.

Filter drops candidates not licensed in the profile's state, not writing its line, or whose
revenue band excludes its revenue. Assess rates six dimensions L1..L4 from the profile and
the candidate. Rank orders by the weighted aggregate, buckets into tiers and writes one
reasoning sentence. Missing or unrecognised profile fields make the assessment generic
(and less confident) instead of failing; other profile fields are ignored.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ._pools import LINE_INDEX, LINE_LABELS, STATE_INDEX, STATE_REGION, Pool

__all__ = ["DIMENSIONS", "TIERS", "Assessment", "ProfileFacts", "assess", "canonical_profile"]

DIMENSIONS = ("appetite", "coverage", "financial", "pricing", "placement", "service")
_WEIGHTS = np.array([0.26, 0.2, 0.16, 0.14, 0.14, 0.10])
#: Tiers best first (the docs name STRONG_FIT; the other three are the sandbox's names).
TIERS = ("STRONG_FIT", "GOOD_FIT", "POSSIBLE_FIT", "WEAK_FIT")
#: Aggregate score (0..1) a candidate needs for each tier but the last.
_TIER_FLOORS = np.array([0.76, 0.63, 0.48])
#: Dimension score (0..1) needed for L1, L2, L3; below the last is L4.
_LEVEL_FLOORS = np.array([0.72, 0.52, 0.3])
_LEVELS = ("L1", "L2", "L3", "L4")


def canonical_profile(profile: Mapping[str, Any]) -> str:
    """The profile as canonical JSON: the identity of an evaluation's input."""
    return json.dumps(profile, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class ProfileFacts:
    """What the pipeline understood of a profile; None where a field was missing or unusable."""

    state: str | None
    line: str | None
    revenue: float | None

    @classmethod
    def read(cls, profile: Mapping[str, Any]) -> ProfileFacts:
        state = profile.get("state")
        state = state.strip().upper() if isinstance(state, str) else None
        line = profile.get("line")
        if isinstance(line, str):
            line = line.strip().lower().replace("-", "_").replace(" ", "_")
        revenue = profile.get("revenue")
        if isinstance(revenue, str):
            try:
                revenue = float(revenue.replace(",", "").replace("$", ""))
            except ValueError:
                revenue = None
        if not (
            isinstance(revenue, int | float)
            and not isinstance(revenue, bool)
            and math.isfinite(revenue)
            and revenue > 0
        ):
            revenue = None
        return cls(
            state=state if state in STATE_INDEX else None,
            line=line if line in LINE_INDEX else None,
            revenue=float(revenue) if revenue is not None else None,
        )

    @property
    def completeness(self) -> int:
        return sum(v is not None for v in (self.state, self.line, self.revenue))


@dataclass(frozen=True, slots=True)
class Assessment:
    """A pool evaluated for one profile: counts and the ranked shortlist (JSON-ready)."""

    pool_size: int
    filtered: int
    candidates: list[dict[str, Any]]


def _levels(scores: np.ndarray) -> np.ndarray:
    """Level index 0..3 (L1..L4) of each score."""
    floors = _LEVEL_FLOORS
    return (
        (scores < floors[0]).astype(np.int8)
        + (scores < floors[1]).astype(np.int8)
        + (scores < floors[2]).astype(np.int8)
    )


#: Small per-(profile, candidate) variation, so two similar entities never rank identically;
#: drawn from a fixed table at a profile-specific offset because sampling it per evaluation
#: would cost more than the whole assessment.
_NOISE = np.random.default_rng(20240601).normal(0.0, 0.035, (1 << 14, 6))


def _noise(digest: bytes, idx: np.ndarray) -> np.ndarray:
    offset = int.from_bytes(digest[:4], "big")
    return _NOISE[(offset + idx * 7919) % len(_NOISE)]


@lru_cache(maxsize=16)
def _texts(pool: Pool) -> tuple[list[str], list[str]]:
    """Per-candidate revenue band and rating text, built once per pool."""
    bands = [
        f"{_money(lo)}-{_money(hi)} band"
        for lo, hi in zip(pool.rev_min.tolist(), pool.rev_max.tolist(), strict=True)
    ]
    return bands, [_rating(v) for v in pool.strength.tolist()]


def assess(pool: Pool, profile: Mapping[str, Any], *, seed: int, shortlist: int) -> Assessment:
    """Run the pipeline; deterministic for the same pool, profile and seed.

    >>> from ._pools import pools_for
    >>> pool = pools_for(0)["carriers:tier1"]
    >>> profile = {"entity": "acme", "state": "CA", "line": "cyber", "revenue": 2e7}
    >>> result = assess(pool, profile, seed=0, shortlist=3)
    >>> result.pool_size, len(result.candidates), result.candidates[0]["tier"] in TIERS
    (60, 3, True)
    """
    facts = ProfileFacts.read(profile)
    digest = hashlib.sha256(f"{seed}|{pool.pool_id}|{canonical_profile(profile)}".encode()).digest()

    eligible = np.ones(pool.size, dtype=bool)
    s = STATE_INDEX.get(facts.state) if facts.state else None
    li = LINE_INDEX.get(facts.line) if facts.line else None
    r = math.log10(facts.revenue) if facts.revenue else None
    if s is not None:
        eligible &= pool.licensed[:, s]
    if li is not None:
        eligible &= pool.appetite[:, li] > 0
    if r is not None:
        eligible &= (pool.rev_min <= r) & (r <= pool.rev_max)
    idx = np.flatnonzero(eligible)
    filtered = pool.size - len(idx)
    if not len(idx):
        return Assessment(pool.size, filtered, [])

    appetite = pool.appetite[idx, li] if li is not None else pool.appetite_mean[idx]
    coverage = pool.breadth[idx, li] if li is not None else pool.breadth_mean[idx]
    home: float | np.ndarray = 0.0
    if s is not None:
        region = pool.home_region[idx]
        home = np.where(region == STATE_REGION[s], 1.0, np.where(region < 0, 0.4, 0.0))
    if r is not None:
        # 0 at the centre of the candidate's revenue band (in log dollars), 1 at its edges.
        lo, hi = pool.rev_min[idx], pool.rev_max[idx]
        edge = np.abs(2 * r - lo - hi) / np.maximum(hi - lo, 1e-6)
        strain: float | np.ndarray = np.clip(r - pool.capacity[idx], 0.0, 2.0)
    else:
        edge = np.full(len(idx), 0.5)
        strain = 0.0
    edge2 = edge * edge
    scores = _noise(digest, idx)
    scores[:, 0] += appetite + 0.12 * home
    scores[:, 1] += coverage + 0.1 - 0.15 * edge2
    scores[:, 2] += pool.strength[idx] - 0.3 * strain
    scores[:, 3] += pool.pricing[idx] + 0.2 * appetite - 0.1 - 0.1 * edge
    scores[:, 4] += pool.placement[idx] + 0.1 * home - 0.2 * edge2 - 0.1 * strain
    scores[:, 5] += pool.service[idx] + 0.05 * home
    np.clip(scores, 0.0, 1.0, out=scores)

    aggregate = scores @ _WEIGHTS
    tiers = (aggregate < _TIER_FLOORS[0]).astype(np.int8)
    tiers += aggregate < _TIER_FLOORS[1]
    tiers += aggregate < _TIER_FLOORS[2]
    # An L4 on any dimension is disqualifying in part: never better than POSSIBLE_FIT.
    disqualified = (scores < _LEVEL_FLOORS[2]).any(axis=1)
    tiers[disqualified] = np.maximum(tiers[disqualified], 2)

    # Best first: by tier, then aggregate, then name order for exact ties.
    rank_key = tiers - aggregate  # aggregate < 1, so the tier dominates
    k = min(shortlist, len(idx))
    top = np.argpartition(rank_key, k - 1)[:k] if k < len(idx) else np.arange(len(idx))
    top = top[np.lexsort((idx[top], rank_key[top]))]

    levels = _levels(scores[top]).tolist()
    margins = np.abs(aggregate[top, None] - _TIER_FLOORS).min(axis=1).tolist()
    bands, ratings = _texts(pool)
    where = " ".join(p for p in (facts.state, LINE_LABELS.get(facts.line or "")) if p)
    noun = "network fit" if pool.kind == "provider" else "appetite"
    standing = "financial stability" if pool.kind == "provider" else "financial strength"
    revenue = _money(r) if r is not None else None
    completeness = facts.completeness
    candidates = []
    for j, lv, margin in zip(top.tolist(), levels, margins, strict=True):
        i = int(idx[j])
        parts = [f"{_APPETITE_WORDS[lv[0]]} {where or 'general'} {noun}"]
        if revenue is not None:
            fit = "fits" if edge[j] < 0.6 else "stretches to"
            parts.append(f"{bands[i]} {fit} {revenue} revenue")
        else:
            parts.append(f"{bands[i]} (no revenue given)")
        parts.append(f"{ratings[i]} {standing}")
        worst = max((3, 4, 5), key=lambda d: (lv[d], -d))  # pricing, placement, service
        if lv[worst] >= 2:
            parts.append(f"but {DIMENSIONS[worst]} is {_WEAK_WORDS[lv[worst]]}")
        candidates.append(
            {
                "tier": TIERS[int(tiers[j])],
                "name": pool.names[i],
                "confidence": _confidence(margin, completeness),
                "scores": dict(zip(DIMENSIONS, (_LEVELS[v] for v in lv), strict=True)),
                "reasoning": "; ".join(parts) + ".",
            }
        )
    return Assessment(pool.size, filtered, candidates)


def _confidence(margin: float, completeness: int) -> str:
    if completeness == 3 and margin >= 0.03:
        return "HIGH"
    if completeness >= 2 and margin >= 0.01:
        return "MEDIUM"
    return "LOW"


def _money(log_usd: float) -> str:
    usd = 10**log_usd
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if usd >= size:
            value = usd / size
            text = f"{value:.1f}" if value < 10 else f"{value:.0f}"
            return f"${text.removesuffix('.0')}{unit}"
    return f"${usd:.0f}"


def _rating(strength: float) -> str:
    for floor, rating in ((0.9, "A++"), (0.8, "A+"), (0.7, "A"), (0.6, "A-"), (0.5, "B++")):
        if strength >= floor:
            return rating
    return "B+" if strength >= 0.4 else "B"


_APPETITE_WORDS = ("Strong", "Solid", "Moderate", "Limited")
_WEAK_WORDS = {2: "marginal", 3: "poor"}
