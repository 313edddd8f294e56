"""Compare the same (profile, pool) across runs made at different times: drift of the service.

:func:`compare_runs` returns a :class:`RunComparison` of three DataFrames:

``runs``: one row per run, in time order
    ``run, started_at, n_evaluations, n_completed, n_candidates``. ``run`` is the run's
    label; ``started_at`` its first ``submitted_at`` (UTC, missing when the run has no times).

``candidates``: one row per (candidate, run in which its evaluation completed)
    ``entity, pool`` (the ``on`` columns), ``name, run, returned, rank, tier, tier_num``.
    ``run`` is an ordered Categorical in time order. A candidate that a run's completed
    evaluation did not return has ``returned = False`` and missing rank and tier there; a
    run in which that evaluation did not complete has no row.

``pairs``: one row per consecutive pair of runs (A = earlier, B = later)
    ``run_a, run_b, n_evaluations`` (completed in both), ``n_shared`` (candidates returned in
    both), ``n_new`` (only in B), ``n_dropped`` (only in A), ``tier_changed_share`` (of the
    shared candidates), ``spearman, kendall`` (rank correlations over the shared ones),
    ``top_k_overlap``. Only evaluations that completed in both runs count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import pandas as pd

from .._models import COMPLETED
from ._columns import TIME_DTYPE, confidence_dtype, tier_dtype
from ._compare import _compare_frames, _recode, _with_column
from ._frames import tier_numbers

__all__ = ["RunComparison", "compare_runs"]

RUN_COLUMNS = ("run", "started_at", "n_evaluations", "n_completed", "n_candidates")
PAIR_COLUMNS = (
    "run_a",
    "run_b",
    "n_evaluations",
    "n_shared",
    "n_new",
    "n_dropped",
    "tier_changed_share",
    "spearman",
    "kendall",
    "top_k_overlap",
)


@dataclass(frozen=True, slots=True)
class RunComparison:
    """What :func:`compare_runs` found: ``runs``, ``candidates`` and ``pairs`` DataFrames.

    See :mod:`nexio_lab.results._runs` for their columns.
    """

    runs: pd.DataFrame
    candidates: pd.DataFrame
    pairs: pd.DataFrame

    def __repr__(self) -> str:
        order = " -> ".join(str(r) for r in self.runs["run"])
        return f"<RunComparison {order}: {len(self.candidates)} candidate rows>"


def compare_runs(
    runs: Sequence[Any],
    *,
    labels: Sequence[str] | None = None,
    on: Sequence[str] = ("entity", "pool"),
    k: int = 10,
) -> RunComparison:
    """Compare the same (profile, pool) across runs, in time order.

    ``runs`` are ResultSets or batches (anything with ``evaluations`` and ``candidates``),
    e.g. the same profiles run every month. They are put in order of their first
    ``submitted_at`` (kept as given if a run has no times). An evaluation is identified
    across runs by the ``on`` columns (default ``entity`` and ``pool``; give e.g.
    ``["profile_id", "pool"]`` when entities repeat). ``labels`` name the runs (default:
    a batch's name when the names are distinct, else ``run1``, ``run2``, ... in the order
    given). Per candidate: its tier and rank in each run; per consecutive pair of runs:
    the share of tiers changed, candidates new and dropped, rank correlations.

    >>> drift = compare_runs([october, november])  # doctest: +SKIP
    >>> drift.pairs[["run_a", "run_b", "tier_changed_share", "spearman"]]  # doctest: +SKIP
    """
    runs = list(runs)
    if len(runs) < 2:
        raise ValueError(f"compare_runs needs at least two runs, got {len(runs)}")
    on = list(on)
    if not on:
        raise ValueError("on= needs at least one column to identify an evaluation")
    names = _labels(runs, labels)
    tables = [_run_tables(run, name, on) for run, name in zip(runs, names, strict=True)]
    order = list(range(len(runs)))
    if all(not pd.isna(t.start) for t in tables):
        order.sort(key=lambda i: tables[i].start)
    names = [names[i] for i in order]
    tables = [tables[i] for i in order]
    run_dtype = pd.CategoricalDtype(names, ordered=True)

    runs_frame = pd.DataFrame(
        {
            "run": pd.Categorical(names, dtype=run_dtype),
            "started_at": pd.Series([t.start for t in tables], dtype=object).astype(TIME_DTYPE),
            "n_evaluations": [t.n_evaluations for t in tables],
            "n_completed": [len(t.done) for t in tables],
            "n_candidates": [len(t.best) for t in tables],
        },
        columns=list(RUN_COLUMNS),
    ).astype({"n_evaluations": "int64", "n_completed": "int64", "n_candidates": "int64"})

    seen = [t.best for t in tables]
    tiers = tier_dtype({str(v) for c in seen for v in c["tier"].dropna().unique()})
    confidences = confidence_dtype(
        {str(v) for c in seen if "confidence" in c for v in c["confidence"].dropna().unique()}
    )
    candidates = _candidate_rows(on, names, tables, tiers, run_dtype)
    pairs = []
    for i in range(len(tables) - 1):
        (name_a, t_a), (name_b, t_b) = (names[i], tables[i]), (names[i + 1], tables[i + 1])
        both = t_a.done.merge(t_b.done, on=on)
        side_a = t_a.best.merge(both, on=on)
        side_b = t_b.best.merge(both, on=on)
        _, s = _compare_frames(
            side_a, side_b, (*on, "name"), k, (name_a, name_b), tiers, confidences
        )
        pairs.append(
            {
                "run_a": name_a,
                "run_b": name_b,
                "n_evaluations": len(both),
                "n_shared": s.n_shared,
                "n_new": s.n_b_only,
                "n_dropped": s.n_a_only,
                "tier_changed_share": 1.0 - s.same_tier_share,
                "spearman": s.spearman,
                "kendall": s.kendall,
                "top_k_overlap": s.top_k_overlap,
            }
        )
    pairs_frame = pd.DataFrame(pairs, columns=list(PAIR_COLUMNS))
    for col in ("run_a", "run_b"):
        pairs_frame[col] = pd.Categorical(pairs_frame[col], dtype=run_dtype)
    return RunComparison(runs=runs_frame, candidates=candidates, pairs=pairs_frame)


def _labels(runs: list[Any], labels: Sequence[str] | None) -> list[str]:
    if labels is not None:
        labels = [str(x) for x in labels]
        if len(labels) != len(runs) or len(set(labels)) != len(labels):
            raise ValueError(
                f"labels must be {len(runs)} distinct names, one per run; got {labels!r}"
            )
        return labels
    names = [getattr(run, "name", None) for run in runs]
    if all(isinstance(n, str) and n for n in names) and len(set(names)) == len(names):
        return [str(n) for n in names]
    return [f"run{i}" for i in range(1, len(runs) + 1)]


class _Run(NamedTuple):
    """What one run contributes: its start, size, completed evaluations and candidates."""

    start: Any  # first submitted_at (a Timestamp, or NaT)
    n_evaluations: int
    done: pd.DataFrame  # the ``on`` keys of its completed evaluations
    best: pd.DataFrame  # ``on``, name, rank, tier (confidence): best rank per candidate


def _run_tables(run: Any, name: str, on: list[str]) -> _Run:
    """The run's :class:`_Run`; only completed evaluations' candidates are kept."""
    evaluations = getattr(run, "evaluations", None)
    candidates = getattr(run, "candidates", None)
    if not isinstance(evaluations, pd.DataFrame) or not isinstance(candidates, pd.DataFrame):
        raise TypeError(
            f"cannot compare a {type(run).__name__} ({name}) across runs: expected a ResultSet "
            "or batch"
        )
    missing = [c for c in on if c not in evaluations.columns]
    if missing:
        raise ValueError(f"run {name}: no column {missing} to identify its evaluations by")
    for column in on:
        candidates, _ = _with_column(candidates, evaluations, column)
    done = evaluations[evaluations["status"].eq(COMPLETED).fillna(False).to_numpy(dtype=bool)]
    keys = done[on].drop_duplicates().reset_index(drop=True)
    columns = [*on, "name", "rank", "tier", *(["confidence"] if "confidence" in candidates else [])]
    best = (
        candidates[columns]
        .sort_values("rank", kind="stable")
        .drop_duplicates([*on, "name"], keep="first")
        .merge(keys, on=on)
        .reset_index(drop=True)
    )
    start = evaluations["submitted_at"].min() if "submitted_at" in evaluations else pd.NaT
    return _Run(start, len(evaluations), keys, best)


def _candidate_rows(
    on: list[str],
    names: list[str],
    tables: list[_Run],
    tiers: pd.CategoricalDtype,
    run_dtype: pd.CategoricalDtype,
) -> pd.DataFrame:
    """Every candidate seen, in every run where its evaluation completed (NA when not returned)."""
    seen = pd.concat([t.best[[*on, "name"]] for t in tables], ignore_index=True)
    seen = seen.drop_duplicates(ignore_index=True)
    parts = []
    for name, run in zip(names, tables, strict=True):
        grid = seen.merge(run.done, on=on)
        part = grid.merge(run.best[[*on, "name", "rank", "tier"]], on=[*on, "name"], how="left")
        part.insert(len(on) + 1, "run", name)
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    tier = _recode(frame["tier"], len(frame), tiers)
    out = frame[[*on, "name"]].copy()
    out["run"] = pd.Categorical(frame["run"], dtype=run_dtype)
    out["returned"] = frame["rank"].notna().to_numpy(dtype=bool)
    out["rank"] = frame["rank"].astype("Int64").array
    out["tier"] = tier
    out["tier_num"] = tier_numbers(tier)
    return out.sort_values([*on, "name", "run"], kind="stable").reset_index(drop=True)
