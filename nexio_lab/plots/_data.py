"""What every plot needs from its input: tables from anything, groups, readable labels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._models import Evaluation
from ..results._columns import CANDIDATE_COLUMNS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Label of the bucket that aggregates the groups beyond ``top_n``.
OTHER = "other"
#: Label of a missing group value.
NONE = "(none)"


def tables_of(data: Any) -> dict[str, pd.DataFrame]:
    """The tables a plot can use, by name: all of a ResultSet/batch/Evaluation, or the one
    table given as a DataFrame (the tables type itself is :class:`nexio_lab.results.Tables`).
    """
    if isinstance(data, Evaluation):
        from ..results import to_frames

        data = to_frames(data)
    if isinstance(data, pd.DataFrame):
        cols = set(data.columns)
        if {"dimension", "level_num"} <= cols:
            return {"scores": data}
        if {"rank", "tier"} <= cols:
            return {"candidates": data}
        if {"pool_size", "filtered"} <= cols:
            return {"evaluations": data}
        raise ValueError(
            "a DataFrame to plot must be an evaluations, candidates or scores table "
            f"(see nexio_lab.columns()), got columns {sorted(cols)[:12]}"
        )
    frames = {name: getattr(data, name, None) for name in ("evaluations", "candidates", "scores")}
    found = {k: v for k, v in frames.items() if isinstance(v, pd.DataFrame)}
    if not found:
        raise TypeError(
            f"cannot plot a {type(data).__name__}: expected a ResultSet, batch, Evaluation "
            "or results DataFrame"
        )
    return found


def need(tables: dict[str, pd.DataFrame], table: str, plot: str) -> pd.DataFrame:
    """The table ``plot`` cannot do without, or an error saying what to pass."""
    if table not in tables:
        raise ValueError(f"{plot} needs the {table} table; pass a ResultSet, batch or that table")
    return tables[table]


def default_by(frame: pd.DataFrame) -> str:
    """Group by pool when there are several pools, else by evaluation."""
    if "pool" in frame and frame["pool"].nunique(dropna=True) > 1:
        return "pool"
    return "eval_id"


def with_group(
    frame: pd.DataFrame, by: str, evaluations: pd.DataFrame | None
) -> tuple[pd.DataFrame, str]:
    """``frame`` with a text column ``_group`` from ``by`` (its own or the evaluations')."""
    if by not in frame.columns:
        if evaluations is None or by not in evaluations.columns:
            known = sorted(set(frame.columns) | set(getattr(evaluations, "columns", [])))
            raise ValueError(f"no column {by!r} to group by; columns are {known}")
        link = evaluations[["row", "pool", by]].drop_duplicates(["row", "pool"])
        frame = frame.merge(link, on=["row", "pool"], how="left")
    # str() once per distinct value, not per row (scores of a large batch have millions)
    codes, uniques = pd.factorize(frame[by], use_na_sentinel=True)
    labels = np.array([*(str(u) for u in uniques), NONE], dtype=object)
    frame = frame.assign(_group=labels[codes])
    return frame, by


def keep_top(sizes: pd.Series, top_n: int) -> dict[str, str]:
    """Map each group to itself or to ``other (N)`` so that at most ``top_n`` bars remain."""
    if len(sizes) <= top_n:
        return {g: g for g in sizes.index}
    keep = set(sizes.sort_values(ascending=False, kind="stable").index[: max(top_n - 1, 1)])
    rest = len(sizes) - len(keep)
    return {g: g if g in keep else f"{OTHER} ({rest})" for g in sizes.index}


def group_order(groups: list[str]) -> list[str]:
    """Sorted groups, the aggregated ``other`` bucket last."""
    return sorted(groups, key=lambda g: (g.startswith(f"{OTHER} ("), g))


def shorten(text: Any, width: int = 28) -> str:
    """Labels stay one short line: long names end in an ellipsis."""
    text = NONE if text is None or (not isinstance(text, str) and pd.isna(text)) else str(text)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def dimension_columns(candidates: pd.DataFrame) -> list[str]:
    return [
        c
        for c in candidates.columns
        if c not in CANDIDATE_COLUMNS and isinstance(candidates[c].dtype, pd.CategoricalDtype)
    ]


def axes(ax: Axes | None, width: float, height: float) -> Axes:
    """``ax``, or the axes of a new figure sized for the content."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=(width, min(max(height, 2.5), 24)), layout="constrained")
    return new
