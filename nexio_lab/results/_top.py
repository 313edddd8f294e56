"""The best candidates per segment, with their reasoning: one table for the explorer and report.

Column contract of :func:`top_candidates` (built here only):
``segment, entity, pool, rank, name, tier, confidence, reasoning``. ``segment`` is the
text of the grouping column's value (``"(none)"`` when missing, ``"all"`` without
grouping); ``rank`` is ``Int64``; ``tier`` and ``confidence`` keep the candidates' ordered
Categoricals; the other columns are ``string``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["TOP_COLUMNS", "segment_labels", "top_candidates"]

TOP_COLUMNS = ("segment", "entity", "pool", "rank", "name", "tier", "confidence", "reasoning")
#: Segment of every row when nothing groups them.
ALL = "all"
#: Segment label of a missing value.
NONE = "(none)"


def segment_labels(values: pd.Series) -> np.ndarray:
    """Each value as text (``str(value)``), missing ones as ``"(none)"``; vectorised."""
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    labels = np.array([*(str(u) for u in uniques), NONE], dtype=object)
    return labels[codes]  # code -1 (missing) picks the trailing NONE


def top_candidates(
    candidates: pd.DataFrame,
    evaluations: pd.DataFrame | None = None,
    *,
    by: str | None = None,
    per_segment: int = 3,
) -> pd.DataFrame:
    """The ``per_segment`` best candidates of each segment of ``by``, best first.

    Best means best tier, then best rank, then highest confidence (then input row).
    ``by`` is a column of ``candidates`` (e.g. ``"pool"``) or of ``evaluations`` (e.g.
    ``"profile_state"``), or ``None`` for one segment ``"all"``. Segments come in sorted
    order.

    >>> from nexio_lab.results import ResultSet
    >>> from nexio_lab.results._synthetic import synthetic_records
    >>> rs = ResultSet.from_records(synthetic_records(6, 4, seed=1))
    >>> top = top_candidates(rs.candidates, rs.evaluations, by="pool", per_segment=1)
    >>> top["segment"].tolist(), top["rank"].tolist()
    (['carriers:all', 'carriers:tier1', 'providers:network'], [1, 1, 1])
    """
    if per_segment < 1:
        raise ValueError(f"per_segment must be at least 1, got {per_segment}")
    frame = candidates
    if by is None:
        segment = np.full(len(frame), ALL, dtype=object)
    elif by in frame.columns:
        segment = segment_labels(frame[by])
    elif evaluations is not None and by in evaluations.columns:
        link = evaluations[["row", "pool", by]].drop_duplicates(["row", "pool"])
        frame = frame.merge(link, on=["row", "pool"], how="left", validate="m:1")
        segment = segment_labels(frame[by])
    else:
        known = sorted(set(candidates.columns) | set(getattr(evaluations, "columns", [])))
        raise ValueError(f"no column {by!r} to segment by; columns are {known}")
    order = pd.DataFrame(
        {
            "segment": segment,
            # missing or unknown-order tiers and confidences sort after the known ones
            "tier": _codes(frame["tier"]),
            "rank": frame["rank"].astype("float64").fillna(np.inf).to_numpy(),
            "confidence": _codes(frame["confidence"]),
            "row": frame["row"].astype("float64").fillna(np.inf).to_numpy(),
        }
    )
    chosen = (
        order.sort_values(["segment", "tier", "rank", "confidence", "row"], kind="stable")
        .groupby("segment", sort=False)
        .head(per_segment)
        .index.to_numpy()
    )
    out = frame.iloc[chosen][[c for c in TOP_COLUMNS if c != "segment"]].reset_index(drop=True)
    out.insert(0, "segment", pd.array(segment[chosen], dtype="string"))
    return out


def _codes(column: pd.Series) -> np.ndarray:
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy(dtype="float64")
        codes[codes < 0] = np.inf
        return codes
    return np.zeros(len(column))
