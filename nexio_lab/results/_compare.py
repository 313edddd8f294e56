"""Compare the candidates of two evaluations, two batches, or two halves of one batch.

Sign conventions (all "B minus A", so negative always means *better on B*):
``rank_change = rank_b - rank_a`` (rank 1 is best) and ``<dimension>_change = level_b -
level_a`` in level steps (L1 is best). ``tier_change`` is ``"up"`` when B's tier is better
than A's, ``"down"`` when worse, ``"same"`` when equal, and missing when either side has no
tier, an unknown tier (outside ``TIERS``, so its order is not known), or lacks the candidate.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._models import TIERS, Evaluation
from ._columns import CANDIDATE_COLUMNS, confidence_dtype, tier_dtype

__all__ = ["CompareSummary", "compare"]

PRESENT = pd.CategoricalDtype(["both", "a_only", "b_only"])
_TIER_INDEX = {tier: i for i, tier in enumerate(TIERS)}


@dataclass(frozen=True, slots=True)
class CompareSummary:
    """Overall agreement of a comparison (``frame.attrs["summary"]``).

    ``same_tier_share``: share of shared candidates with the same tier on both sides.
    ``spearman``/``kendall``: rank correlations over shared candidates (NaN below 2).
    ``top_k_overlap``: Jaccard index |A_k ∩ B_k| / |A_k ∪ B_k| of the candidates ranked
    ``<= k`` on each side (NaN when both are empty).
    """

    label_a: str
    label_b: str
    key: tuple[str, ...]
    k: int
    n_shared: int
    n_a_only: int
    n_b_only: int
    same_tier_share: float
    spearman: float
    kendall: float
    top_k_overlap: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare(
    a: Any,
    b: Any = None,
    *,
    by: str | None = None,
    k: int = 10,
    on: Sequence[str] | None = None,
    labels: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """One row per candidate of either side: tiers, ranks and level changes A -> B.

    ``a`` and ``b`` are Evaluations, ResultSets, batches or candidates DataFrames; or give
    one ResultSet/batch and ``by=`` a column (of ``candidates`` or ``evaluations``, e.g.
    ``"pool"`` or ``"profile_state"``) with exactly two distinct values, sorted into A and
    B. Candidates match by ``name`` for two evaluations, else by ``(entity, name)`` (minus
    the ``by`` column), or by the columns ``on=``. A key seen twice on one side keeps its
    best rank. The summary is in ``.attrs["summary"]`` (:class:`CompareSummary`).

    >>> a = Evaluation.from_json({"eval_id": "e1", "status": "completed", "candidates": [
    ...     {"name": "X", "tier": "STRONG_FIT"}, {"name": "Y", "tier": "GOOD_FIT"}]})
    >>> b = Evaluation.from_json({"eval_id": "e2", "status": "completed", "candidates": [
    ...     {"name": "Y", "tier": "STRONG_FIT"}, {"name": "X", "tier": "STRONG_FIT"}]})
    >>> diff = compare(a, b)
    >>> diff[["name", "tier_change", "rank_change"]].to_dict("list")
    {'name': ['X', 'Y'], 'tier_change': ['same', 'up'], 'rank_change': [1, -1]}
    >>> round(diff.attrs["summary"].spearman, 6)
    -1.0
    """
    if by is not None:
        if b is not None:
            raise TypeError("pass either b or by=, not both")
        side_a, side_b, default_labels = _split(a, by)
        key = tuple(on) if on else tuple(c for c in ("entity", "name") if c != by)
    else:
        if b is None:
            raise TypeError("compare needs two things (a, b) or one and by=<column>")
        side_a, label_a = _candidates_of(a, "a")
        side_b, label_b = _candidates_of(b, "b")
        default_labels = (label_a, label_b)
        both_single = isinstance(a, Evaluation) and isinstance(b, Evaluation)
        key = tuple(on) if on else (("name",) if both_single else ("entity", "name"))
    for side in (side_a, side_b):
        missing = [c for c in key if c not in side.columns]
        if missing:
            raise ValueError(f"cannot match candidates on {missing}: no such column")
    return _compare_frames(side_a, side_b, key, k, labels or default_labels)


def _candidates_of(obj: Any, fallback: str) -> tuple[pd.DataFrame, str]:
    if isinstance(obj, Evaluation):
        from ._frames import build_tables, records_from_evaluations

        return build_tables(records_from_evaluations([obj])).candidates, obj.eval_id or fallback
    if isinstance(obj, pd.DataFrame):
        return obj, fallback
    candidates = getattr(obj, "candidates", None)
    if isinstance(candidates, pd.DataFrame):
        return candidates, str(getattr(obj, "name", None) or fallback)
    raise TypeError(
        f"cannot compare a {type(obj).__name__}: expected an Evaluation, a ResultSet or batch, "
        "or a candidates DataFrame"
    )


def _split(obj: Any, by: str) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, str]]:
    candidates, _ = _candidates_of(obj, "a")
    evaluations = getattr(obj, "evaluations", None)
    if by in candidates.columns:
        column = candidates[by]
        universe = evaluations[by] if evaluations is not None and by in evaluations else column
    elif isinstance(evaluations, pd.DataFrame) and by in evaluations.columns:
        link = evaluations[["row", "pool", by]].drop_duplicates(["row", "pool"])
        candidates = candidates.merge(link, on=["row", "pool"], how="left", validate="m:1")
        column, universe = candidates[by], evaluations[by]
    else:
        known = sorted(set(candidates.columns) | set(getattr(evaluations, "columns", [])))
        raise ValueError(f"no column {by!r} to split on; columns are {known}")
    values = list(pd.unique(universe.dropna()))
    if len(values) != 2:
        shown = ", ".join(repr(v) for v in values[:10]) + (" ..." if len(values) > 10 else "")
        raise ValueError(
            f"by={by!r} needs exactly two distinct values to compare, found {len(values)}: "
            f"{shown or 'none'}"
        )
    if isinstance(universe.dtype, pd.CategoricalDtype):
        order = {c: i for i, c in enumerate(universe.cat.categories)}
        values.sort(key=lambda v: order[v])
    else:
        values.sort(key=str)
    first, second = values
    return (
        candidates[column.eq(first).fillna(False).to_numpy(dtype=bool)],
        candidates[column.eq(second).fillna(False).to_numpy(dtype=bool)],
        (str(first), str(second)),
    )


def _dimension_columns(frame: pd.DataFrame) -> list[str]:
    return [
        c
        for c in frame.columns
        if c not in CANDIDATE_COLUMNS and isinstance(frame[c].dtype, pd.CategoricalDtype)
    ]


def _compare_frames(
    a: pd.DataFrame, b: pd.DataFrame, key: tuple[str, ...], k: int, labels: tuple[str, str]
) -> pd.DataFrame:
    dims = list(dict.fromkeys([*_dimension_columns(a), *_dimension_columns(b)]))
    wanted = ["rank", "tier", "confidence", "eval_id", *dims]

    def side(frame: pd.DataFrame) -> pd.DataFrame:
        cols = [c for c in dict.fromkeys([*key, *wanted, "row"]) if c in frame.columns]
        frame = frame[cols].sort_values([c for c in ("rank", "row") if c in cols])
        return frame.drop_duplicates(list(key), keep="first").drop(columns="row", errors="ignore")

    merged = side(a).merge(
        side(b), on=list(key), how="outer", suffixes=("_a", "_b"), indicator="_merge", sort=False
    )
    present = merged["_merge"].map({"both": "both", "left_only": "a_only", "right_only": "b_only"})
    out = merged[list(key)].copy()
    out["present"] = pd.Categorical(present.astype(object), dtype=PRESENT)

    tiers = tier_dtype(
        pd.concat([merged.get("tier_a", pd.Series()), merged.get("tier_b", pd.Series())])
        .dropna()
        .astype(str)
        .unique()
    )
    tier_a = _as_text(merged.get("tier_a"), len(merged))
    tier_b = _as_text(merged.get("tier_b"), len(merged))
    out["tier_a"] = pd.Categorical(tier_a, dtype=tiers)
    out["tier_b"] = pd.Categorical(tier_b, dtype=tiers)
    out["tier_change"] = pd.array(
        [_tier_move(x, y) for x, y in zip(tier_a, tier_b, strict=True)], dtype="string"
    )
    rank_a = merged.get("rank_a", pd.Series(pd.NA, index=merged.index, dtype="Int64"))
    rank_b = merged.get("rank_b", pd.Series(pd.NA, index=merged.index, dtype="Int64"))
    out["rank_a"] = rank_a.astype("Int64").array
    out["rank_b"] = rank_b.astype("Int64").array
    out["rank_change"] = out["rank_b"] - out["rank_a"]
    confidences = confidence_dtype(
        {
            str(v)
            for c in ("confidence_a", "confidence_b")
            if c in merged
            for v in merged[c].dropna()
        }
    )
    for col in ("confidence", "eval_id"):
        for suffix in ("_a", "_b"):
            name = f"{col}{suffix}"
            if name not in merged:
                continue
            # The sides may know different unknown confidences: one shared dtype for both.
            out[name] = (
                pd.Categorical(_as_text(merged[name], len(merged)), dtype=confidences)
                if col == "confidence"
                else merged[name].array
            )
    for dim in dims:
        codes = [_level_codes(merged, f"{dim}{suffix}") for suffix in ("_a", "_b")]
        missing = (codes[0] < 0) | (codes[1] < 0)
        out[f"{dim.removesuffix('_level')}_change"] = pd.arrays.IntegerArray(
            (codes[1] - codes[0]).astype("int64"), missing
        )

    sort_cols = [c for c in ("entity",) if c in key] + ["rank_a", "rank_b"]
    out = out.sort_values(sort_cols, na_position="last", kind="stable").reset_index(drop=True)
    out.attrs["summary"] = _summary(out, key, k, labels)
    return out


def _as_text(series: pd.Series | None, n: int) -> list[str | None]:
    if series is None:
        return [None] * n
    return [None if pd.isna(v) else str(v) for v in series.astype(object)]


def _tier_move(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return None
    if a == b:
        return "same"
    if a in _TIER_INDEX and b in _TIER_INDEX:
        return "up" if _TIER_INDEX[b] < _TIER_INDEX[a] else "down"
    return None


def _level_codes(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame or not isinstance(frame[column].dtype, pd.CategoricalDtype):
        return np.full(len(frame), -1, dtype=np.int64)
    return frame[column].cat.codes.to_numpy(dtype=np.int64)


def _summary(
    out: pd.DataFrame, key: tuple[str, ...], k: int, labels: tuple[str, str]
) -> CompareSummary:
    from scipy import stats

    present = out["present"].astype(object)
    shared = out[(present == "both").to_numpy()]
    same = shared["tier_a"].astype(object).eq(shared["tier_b"].astype(object))
    ranked = shared.dropna(subset=["rank_a", "rank_b"])
    ra = ranked["rank_a"].to_numpy(dtype=float)
    rb = ranked["rank_b"].to_numpy(dtype=float)
    spearman = kendall = float("nan")
    if len(ranked) >= 2:
        with warnings.catch_warnings():
            # Constant ranks on a side give NaN, which is the honest answer; no warning needed.
            warnings.simplefilter("ignore")
            spearman = float(stats.spearmanr(ra, rb).statistic)
            kendall = float(stats.kendalltau(ra, rb).statistic)
    keys = out[list(key)].astype(object).itertuples(index=False, name=None)
    keys = list(keys)
    top_a = {kk for kk, r in zip(keys, out["rank_a"], strict=True) if not pd.isna(r) and r <= k}
    top_b = {kk for kk, r in zip(keys, out["rank_b"], strict=True) if not pd.isna(r) and r <= k}
    union = top_a | top_b
    return CompareSummary(
        label_a=labels[0],
        label_b=labels[1],
        key=key,
        k=k,
        n_shared=len(shared),
        n_a_only=int((present == "a_only").sum()),
        n_b_only=int((present == "b_only").sum()),
        same_tier_share=float(same.mean()) if len(shared) else float("nan"),
        spearman=spearman,
        kendall=kendall,
        top_k_overlap=len(top_a & top_b) / len(union) if union else float("nan"),
    )
