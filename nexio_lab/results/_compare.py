"""Compare candidates: two evaluations or batches, each segment of a column, runs over time.

Sign conventions (all "B minus A", so negative always means *better on B*):
``rank_change = rank_b - rank_a`` (rank 1 is best) and ``<dimension>_change = level_b -
level_a`` in level steps (L1 is best). ``tier_change`` is ``"up"`` when B's tier is better
than A's, ``"down"`` when worse, ``"same"`` when equal, and missing when either side has no
tier, an unknown tier (outside ``TIERS``, so its order is not known), or lacks the candidate.

The frame of :func:`compare` (one row per candidate of either side, per segment):
``segment``, the key columns (``entity, name`` by default), ``present`` (``both``,
``a_only``, ``b_only``), ``tier_a, tier_b, tier_change, rank_a, rank_b, rank_change``,
``confidence_a, confidence_b, eval_id_a, eval_id_b`` and one ``<dimension>_change`` per
dimension. ``segment`` names the B side of each comparison (the reference is A).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._models import TIERS, Evaluation
from ._columns import CANDIDATE_COLUMNS, confidence_dtype, tier_dtype
from ._stats import kendall_tau_b, spearman_rho

__all__ = ["CompareSummary", "agreement", "compare"]

PRESENT = pd.CategoricalDtype(["both", "a_only", "b_only"])
#: The columns of :func:`agreement`, in order.
AGREEMENT_COLUMNS = (
    "segment",
    "label_a",
    "label_b",
    "k",
    "n_shared",
    "n_a_only",
    "n_b_only",
    "same_tier_share",
    "spearman",
    "kendall",
    "top_k_overlap",
)


@dataclass(frozen=True, slots=True)
class CompareSummary:
    """Overall agreement of one comparison (``frame.attrs["summary"]``; see :func:`agreement`).

    ``same_tier_share``: share of shared candidates with the same tier on both sides.
    ``spearman``/``kendall``: rank correlations (Spearman's rho, Kendall's tau-b) over shared
    candidates (NaN below 2). ``top_k_overlap``: Jaccard index |A_k ∩ B_k| / |A_k ∪ B_k| of
    the candidates ranked ``<= k`` on each side (NaN when both are empty).
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
        """The summary as a plain dict (JSON-ready)."""
        return asdict(self)


@dataclass(slots=True)
class _Pair:
    """One comparison to make: the segment's name, the A and B candidates, their labels."""

    segment: str
    a: pd.DataFrame
    b: pd.DataFrame
    labels: tuple[str, str]


def compare(
    a: Any,
    b: Any = None,
    *,
    by: str | None = None,
    ref: Hashable | None = None,
    within: str | None = None,
    k: int = 10,
    on: Sequence[str] | None = None,
    labels: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """One row per candidate of either side: tiers, ranks and level changes A -> B.

    ``a`` and ``b`` are Evaluations, ResultSets, batches or candidates DataFrames. Or give
    one ResultSet/batch and ``by=`` a column (of ``candidates`` or ``evaluations``, e.g.
    ``"pool"`` or ``"profile_state"``): each of its values (a *segment*) is compared with
    the reference ``ref=`` (one of the values), or, without ``ref``, with all the other
    rows. With exactly two values and no ``ref`` the first (sorted, or in category order)
    is A and the second B, one comparison. ``within=`` another column repeats the
    comparison inside each of its values (``by="pool", within="profile_revenue_band"``:
    the two pools compared per band); ``segment`` is then that value.

    Candidates match by ``name`` for two evaluations, else by ``(entity, name)`` minus the
    ``by`` column, or by the columns ``on=``. Splitting on a profile field puts different
    entities on each side: match on ``on=["name"]`` to compare carriers across segments. A
    key seen twice on one side keeps its best rank. The frame's columns are described in
    :mod:`nexio_lab.results._compare`; :func:`agreement` gives the summary per segment as a
    DataFrame (also in ``.attrs["summary"]`` when there is one comparison).

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
        pairs = _split(a, by, ref, within)
        key = tuple(on) if on else tuple(c for c in ("entity", "name") if c != by)
    else:
        if b is None:
            raise TypeError("compare needs two things (a, b) or one and by=<column>")
        if ref is not None or within is not None:
            raise TypeError("ref= and within= go with by=<column>")
        side_a, label_a = _candidates_of(a, "a")
        side_b, label_b = _candidates_of(b, "b")
        pairs = [_Pair(label_b, side_a, side_b, (label_a, label_b))]
        both_single = isinstance(a, Evaluation) and isinstance(b, Evaluation)
        key = tuple(on) if on else (("name",) if both_single else ("entity", "name"))
    for pair in pairs:
        for side in (pair.a, pair.b):
            missing = [c for c in key if c not in side.columns]
            if missing:
                raise ValueError(f"cannot match candidates on {missing}: no such column")
    if labels is not None:
        for pair in pairs:
            pair.labels = labels
    return _compare_pairs(pairs, key, k)


def _compare_pairs(pairs: list[_Pair], key: tuple[str, ...], k: int) -> pd.DataFrame:
    """The comparison frames of ``pairs`` stacked, categories shared, ``segment`` first."""
    tiers = tier_dtype(_seen([p.a for p in pairs] + [p.b for p in pairs], "tier"))
    confidences = confidence_dtype(_seen([p.a for p in pairs] + [p.b for p in pairs], "confidence"))
    frames, summaries = [], {}
    for pair in pairs:
        frame, summary = _compare_frames(pair.a, pair.b, key, k, pair.labels, tiers, confidences)
        frame.insert(0, "segment", pd.array([pair.segment] * len(frame), dtype="string"))
        frames.append(frame)
        summaries[pair.segment] = summary
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(summaries) == 1:
        out.attrs["summary"] = next(iter(summaries.values()))
    out.attrs["summaries"] = summaries
    return out


def _seen(frames: list[pd.DataFrame], column: str) -> set[str]:
    return {str(v) for f in frames if column in f for v in f[column].dropna().unique()}


def agreement(
    a: Any,
    b: Any = None,
    *,
    by: str | None = None,
    ref: Hashable | None = None,
    within: str | None = None,
    k: int = 10,
    on: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The agreement of a comparison as a DataFrame: one row per segment.

    Takes what :func:`compare` takes, or a frame ``compare`` returned (its summary is
    recomputed from the rows, so it survives merges and filters that drop ``.attrs``).
    Columns: ``segment, label_a, label_b, k, n_shared, n_a_only, n_b_only,
    same_tier_share, spearman, kendall, top_k_overlap`` (see :class:`CompareSummary`).

    >>> a = Evaluation.from_json({"eval_id": "e1", "status": "completed", "candidates": [
    ...     {"name": "X", "tier": "STRONG_FIT"}, {"name": "Y", "tier": "GOOD_FIT"}]})
    >>> agreement(a, a)[["n_shared", "same_tier_share", "spearman"]].to_dict("records")
    [{'n_shared': 2, 'same_tier_share': 1.0, 'spearman': 1.0}]
    """
    if isinstance(a, pd.DataFrame) and _is_comparison(a) and b is None and by is None:
        diff = a
        key = tuple(_key_of(diff))
        summaries = diff.attrs.get("summaries") or {}
        rows = []
        for segment, part in diff.groupby("segment", sort=False, dropna=False):
            known = summaries.get(segment)
            labels = (known.label_a, known.label_b) if known else ("a", str(segment))
            summary = _summary(part, key, known.k if known else k, labels)
            rows.append({"segment": segment, **_row(summary)})
        return _agreement_frame(rows)
    diff = compare(a, b, by=by, ref=ref, within=within, k=k, on=on)
    return _agreement_frame(
        [{"segment": seg, **_row(s)} for seg, s in diff.attrs["summaries"].items()]
    )


def _is_comparison(frame: pd.DataFrame) -> bool:
    return {"segment", "present", "rank_a", "rank_b", "tier_a", "tier_b"} <= set(frame.columns)


def _key_of(diff: pd.DataFrame) -> list[str]:
    columns = list(diff.columns)
    return columns[columns.index("segment") + 1 : columns.index("present")]


def _row(summary: CompareSummary) -> dict[str, Any]:
    row = summary.to_dict()
    del row["key"]
    return row


def _agreement_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(AGREEMENT_COLUMNS))
    return frame.astype(
        {
            "segment": "string",
            "label_a": "string",
            "label_b": "string",
            "k": "int64",
            "n_shared": "int64",
            "n_a_only": "int64",
            "n_b_only": "int64",
            "same_tier_share": "float64",
            "spearman": "float64",
            "kendall": "float64",
            "top_k_overlap": "float64",
        }
    )


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


def _with_column(
    candidates: pd.DataFrame, evaluations: Any, column: str
) -> tuple[pd.DataFrame, pd.Series]:
    """``candidates`` with ``column`` (its own or the evaluations'), and every value it takes."""
    if column in candidates.columns:
        universe = (
            evaluations[column]
            if isinstance(evaluations, pd.DataFrame) and column in evaluations
            else candidates[column]
        )
        return candidates, universe
    if isinstance(evaluations, pd.DataFrame) and column in evaluations.columns:
        link = evaluations[["row", "pool", column]].drop_duplicates(["row", "pool"])
        merged = candidates.merge(link, on=["row", "pool"], how="left", validate="m:1")
        return merged, evaluations[column]
    known = sorted(set(candidates.columns) | set(getattr(evaluations, "columns", [])))
    raise ValueError(f"no column {column!r} to split on; columns are {known}")


def _values(universe: pd.Series) -> list[Any]:
    """The distinct values of a column: category order, else sorted as text."""
    values = list(pd.unique(universe.dropna()))
    if isinstance(universe.dtype, pd.CategoricalDtype):
        order = {c: i for i, c in enumerate(universe.cat.categories)}
        values.sort(key=lambda v: order[v])
    else:
        values.sort(key=str)
    return values


def _mask(column: pd.Series, value: Any) -> np.ndarray:
    return column.eq(value).fillna(False).to_numpy(dtype=bool)


def _split(obj: Any, by: str, ref: Hashable | None, within: str | None) -> list[_Pair]:
    candidates, _ = _candidates_of(obj, "a")
    evaluations = getattr(obj, "evaluations", None)
    candidates, universe = _with_column(candidates, evaluations, by)
    values = _values(universe)
    shown = ", ".join(repr(v) for v in values[:10]) + (" ..." if len(values) > 10 else "")
    column = candidates[by]
    # (label A, mask A, label B, mask B) for each segment B
    sides: list[tuple[str, np.ndarray, str, np.ndarray]] = []
    if ref is not None:
        matches = [v for v in values if v == ref] or [v for v in values if str(v) == str(ref)]
        if not matches:
            raise ValueError(f"ref={ref!r} is not a value of {by!r}; its values are {shown}")
        ref_value = matches[0]
        others = [v for v in values if v != ref_value]
        if not others:
            raise ValueError(f"by={by!r} has no value besides ref={ref!r} to compare with it")
        sides = [
            (str(ref_value), _mask(column, ref_value), str(v), _mask(column, v)) for v in others
        ]
    elif len(values) == 2:
        first, second = values
        sides = [(str(first), _mask(column, first), str(second), _mask(column, second))]
    elif len(values) > 2:
        present = column.notna().to_numpy(dtype=bool)
        for v in values:
            inside = _mask(column, v)
            sides.append((f"all but {v}", present & ~inside, str(v), inside))
    else:
        raise ValueError(
            f"by={by!r} needs at least two distinct values to compare, found {len(values)}: "
            f"{shown or 'none'}"
        )
    if within is None:
        return [
            _Pair(label_b, candidates[ma], candidates[mb], (la, label_b))
            for la, ma, label_b, mb in sides
        ]
    candidates, groups = _with_column(candidates, evaluations, within)
    pairs = []
    for w in _values(groups):
        in_w = _mask(candidates[within], w)
        for la, ma, lb, mb in sides:
            segment = str(w) if len(sides) == 1 else f"{w} / {lb}"
            pairs.append(_Pair(segment, candidates[ma & in_w], candidates[mb & in_w], (la, lb)))
    if not pairs:
        raise ValueError(f"within={within!r} has no values")
    return pairs


def _dimension_columns(frame: pd.DataFrame) -> list[str]:
    return [
        c
        for c in frame.columns
        if c not in CANDIDATE_COLUMNS and isinstance(frame[c].dtype, pd.CategoricalDtype)
    ]


def _compare_frames(
    a: pd.DataFrame,
    b: pd.DataFrame,
    key: tuple[str, ...],
    k: int,
    labels: tuple[str, str],
    tiers: pd.CategoricalDtype,
    confidences: pd.CategoricalDtype,
) -> tuple[pd.DataFrame, CompareSummary]:
    dims = list(dict.fromkeys([*_dimension_columns(a), *_dimension_columns(b)]))
    wanted = ["rank", "tier", "confidence", "eval_id", *dims]

    def side(frame: pd.DataFrame) -> pd.DataFrame:
        cols = [c for c in dict.fromkeys([*key, *wanted]) if c in frame.columns]
        by = [c for c in ("rank", "row") if c in frame.columns]
        # The same rows, in the same order, as sorting the whole frame and dropping
        # duplicate keys; but only the sort and key columns are moved until the end
        # (each move of a text column costs ~2 ms per 100,000 rows).
        order = (
            frame[by].reset_index(drop=True).sort_values(by).index.to_numpy()
            if by
            else np.arange(len(frame))
        )
        duplicate = frame[list(key)].take(order).duplicated(keep="first").to_numpy(dtype=bool)
        return frame[cols].take(order[~duplicate])

    merged = side(a).merge(
        side(b), on=list(key), how="outer", suffixes=("_a", "_b"), indicator="_merge", sort=False
    )
    present = merged["_merge"].map({"both": "both", "left_only": "a_only", "right_only": "b_only"})
    out = merged[list(key)].copy()
    out["present"] = pd.Categorical(present.astype(object), dtype=PRESENT)

    out["tier_a"] = tier_a = _recode(merged.get("tier_a"), len(merged), tiers)
    out["tier_b"] = tier_b = _recode(merged.get("tier_b"), len(merged), tiers)
    out["tier_change"] = _tier_moves(tier_a.codes, tier_b.codes)
    rank_a = merged.get("rank_a", pd.Series(pd.NA, index=merged.index, dtype="Int64"))
    rank_b = merged.get("rank_b", pd.Series(pd.NA, index=merged.index, dtype="Int64"))
    out["rank_a"] = rank_a.astype("Int64").array
    out["rank_b"] = rank_b.astype("Int64").array
    out["rank_change"] = out["rank_b"] - out["rank_a"]
    for col in ("confidence", "eval_id"):
        for suffix in ("_a", "_b"):
            name = f"{col}{suffix}"
            if name not in merged:
                continue
            # The sides may know different unknown confidences: one shared dtype for both.
            out[name] = (
                _recode(merged[name], len(merged), confidences)
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
    return out, _summary(out, key, k, labels)


def _recode(series: pd.Series | None, n: int, dtype: pd.CategoricalDtype) -> pd.Categorical:
    """``series`` (categorical or text; None: all missing) as a Categorical of ``dtype``."""
    if series is None:
        return pd.Categorical.from_codes(np.full(n, -1), dtype=dtype)
    if not isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object).where(series.notna(), None).astype("category")
    position = {c: i for i, c in enumerate(dtype.categories)}
    lut = [position.get(str(c), -1) for c in series.cat.categories]
    codes = np.array([*lut, -1], dtype=np.int64)[series.cat.codes.to_numpy()]
    return pd.Categorical.from_codes(codes, dtype=dtype)


def _tier_moves(a: np.ndarray, b: np.ndarray) -> pd.arrays.StringArray:
    """``up``/``down``/``same`` from tier codes of one dtype whose known tiers come first."""
    both = (a >= 0) & (b >= 0)
    known = both & (a < len(TIERS)) & (b < len(TIERS))
    moves = np.full(len(a), None, dtype=object)
    moves[known & (b < a)] = "up"
    moves[known & (b > a)] = "down"
    moves[both & (a == b)] = "same"
    return pd.array(moves, dtype="string")


def _level_codes(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame or not isinstance(frame[column].dtype, pd.CategoricalDtype):
        return np.full(len(frame), -1, dtype=np.int64)
    return frame[column].cat.codes.to_numpy(dtype=np.int64)


def _summary(
    out: pd.DataFrame, key: tuple[str, ...], k: int, labels: tuple[str, str]
) -> CompareSummary:
    # on arrays, not on row selections of the frame: these are its hottest lines
    present = out["present"]
    both = present.eq("both").fillna(False).to_numpy(dtype=bool)
    n_shared = int(both.sum())
    tier_a = out["tier_a"].cat.codes.to_numpy()[both]
    tier_b = out["tier_b"].cat.codes.to_numpy()[both]
    same = (tier_a == tier_b) & (tier_a >= 0)
    ra = out["rank_a"].to_numpy(dtype="float64", na_value=np.nan)[both]
    rb = out["rank_b"].to_numpy(dtype="float64", na_value=np.nan)[both]
    ranked = ~(np.isnan(ra) | np.isnan(rb))
    ra, rb = ra[ranked], rb[ranked]
    # One row per key (each side was reduced to one row per key before the outer merge).
    top_a = out["rank_a"].le(k).fillna(False).to_numpy(dtype=bool)
    top_b = out["rank_b"].le(k).fillna(False).to_numpy(dtype=bool)
    union = int((top_a | top_b).sum())
    return CompareSummary(
        label_a=labels[0],
        label_b=labels[1],
        key=key,
        k=k,
        n_shared=n_shared,
        n_a_only=int(present.eq("a_only").fillna(False).sum()),
        n_b_only=int(present.eq("b_only").fillna(False).sum()),
        same_tier_share=float(same.mean()) if n_shared else float("nan"),
        spearman=spearman_rho(ra, rb),
        kendall=kendall_tau_b(ra, rb),
        top_k_overlap=int((top_a & top_b).sum()) / union if union else float("nan"),
    )
