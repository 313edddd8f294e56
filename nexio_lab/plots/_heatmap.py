"""score_heatmap: one evaluation's candidates x dimensions, each cell its level."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._models import LEVELS
from ._data import axes, dimension_columns, need, shorten, tables_of
from ._palette import LEVEL_COLORS, MISSING_COLOR

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["score_heatmap"]

#: Above this many rows, cells are not labelled with their level (they would not fit).
ANNOTATE_MAX = 40


def score_heatmap(
    data: Any,
    eval_id: str | None = None,
    *,
    top_n: int = 30,
    ax: Axes | None = None,
) -> Axes:
    """Candidates (best ``top_n`` by rank) x dimensions, cells coloured ``L1``..``L4``.

    ``data`` holds one evaluation, or pass ``eval_id`` to pick one. Dimensions no shown
    candidate was scored on are left out; unscored cells are light grey. The title names the
    entity and pool when the data has them (never the eval_id, which is random); set your own
    with ``ax.set_title(...)``.

    >>> ax = score_heatmap(rs, eval_id="eval_7xKp2mNc")  # doctest: +SKIP
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    candidates = need(tables_of(data), "candidates", "score_heatmap")
    ids = candidates["eval_id"].dropna().unique().tolist()
    if eval_id is not None:
        candidates = candidates[candidates["eval_id"].eq(eval_id).fillna(False).to_numpy(bool)]
        if candidates.empty:
            raise ValueError(f"no candidates of evaluation {eval_id!r}")
    elif len(ids) > 1:
        shown = ", ".join(repr(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
        raise ValueError(
            f"score_heatmap shows one evaluation; pass eval_id= (one of {len(ids)}: {shown})"
        )
    total = len(candidates)
    shown_rows = candidates.sort_values("rank", kind="stable").head(top_n)
    dims = [c for c in dimension_columns(shown_rows) if shown_rows[c].notna().any()]
    dims = dims or dimension_columns(shown_rows)
    codes = (
        np.column_stack([shown_rows[d].cat.codes.to_numpy(dtype=float) for d in dims])
        if len(shown_rows)
        else np.empty((0, len(dims)))
    )
    codes[codes < 0] = np.nan

    ax = axes(ax, 1.1 * len(dims) + 3.5, 0.3 * len(shown_rows) + 1.8)
    cmap = ListedColormap([LEVEL_COLORS[level] for level in LEVELS]).with_extremes(
        bad=MISSING_COLOR
    )
    ax.imshow(
        np.ma.masked_invalid(codes), cmap=cmap, vmin=-0.5, vmax=3.5, aspect="auto",
        interpolation="nearest",
    )  # fmt: skip
    if len(shown_rows) <= ANNOTATE_MAX:
        for (i, j), code in np.ndenumerate(codes):
            if not np.isnan(code):
                ax.text(j, i, LEVELS[int(code)], ha="center", va="center", fontsize="x-small")
    ax.set_xticks(range(len(dims)), [shorten(d, 16) for d in dims], rotation=30, ha="right")
    ax.set_yticks(
        range(len(shown_rows)),
        [f"{r}. {shorten(n)}" for r, n in zip(shown_rows["rank"], shown_rows["name"], strict=True)],
    )
    ax.set_xlabel("dimension")
    ax.set_ylabel("candidate (by rank)")
    more = f", top {len(shown_rows)} of {total}" if total > len(shown_rows) else ""
    ax.set_title(f"{title_of(candidates)}{more}")
    handles = [Patch(color=LEVEL_COLORS[level], label=level) for level in LEVELS]
    if np.isnan(codes).any():
        handles.append(Patch(color=MISSING_COLOR, label="not scored"))
    ax.legend(
        handles=handles, title="level", loc="upper left", bbox_to_anchor=(1.01, 1),
        fontsize="small",
    )  # fmt: skip
    return ax


def title_of(candidates: pd.DataFrame) -> str:
    """``Scores of <entity> on <pool>`` from the frame's columns, as far as they are known."""
    parts = ["Scores"]
    for column, word in (("entity", "of"), ("pool", "on")):
        if column in candidates.columns:
            values = candidates[column].dropna().unique()
            if len(values) == 1:
                parts.append(f"{word} {shorten(values[0], 32)}")
    return " ".join(parts) if len(parts) > 1 else "Scores per candidate and dimension"
