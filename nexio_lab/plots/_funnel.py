"""funnel: pool size -> after the eligibility filter -> shortlisted, per group."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ._data import axes, default_by, group_order, keep_top, need, shorten, tables_of, with_group
from ._palette import STAGE_COLORS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.container import BarContainer
    from matplotlib.text import Annotation

__all__ = ["funnel"]

STAGES = ("pool", "after filter", "shortlisted")
#: Above this many groups, bars are not labelled with their values.
ANNOTATE_MAX = 12


def funnel(
    data: Any,
    by: str | None = None,
    *,
    agg: Literal["mean", "sum"] = "mean",
    top_n: int = 20,
    ax: Axes | None = None,
) -> Axes:
    """Three bars per group: pool size, candidates left after the filter, shortlisted.

    Uses completed evaluations (those with a ``pool_size``); ``agg`` is per evaluation
    (``mean``) or the total (``sum``). ``by`` as in :func:`tier_distribution`.

    >>> ax = funnel(rs, by="pool")  # doctest: +SKIP
    """
    tables = tables_of(data)
    evaluations = need(tables, "evaluations", "funnel")
    by = by or default_by(evaluations)
    frame, by = with_group(evaluations, by, evaluations)
    frame = frame[frame["pool_size"].notna().to_numpy(dtype=bool)]
    frame = frame.assign(
        **{
            "pool": frame["pool_size"].astype("float64"),
            "after filter": (frame["pool_size"] - frame["filtered"].fillna(0)).astype("float64"),
            "shortlisted": frame["n_candidates"].astype("float64"),
        }
    )
    frame["_group"] = frame["_group"].map(keep_top(frame.groupby("_group").size(), top_n))
    values = frame.groupby("_group")[list(STAGES)].agg(agg) if len(frame) else pd.DataFrame()
    values = values.reindex(index=group_order(list(values.index)), columns=list(STAGES))

    ax = axes(ax, 8, 0.75 * len(values) + 1.6)
    height = 0.8 / len(STAGES)
    labelled: list[tuple[BarContainer, list[Annotation]]] = []
    for s, (stage, color) in enumerate(zip(STAGES, STAGE_COLORS, strict=True)):
        positions = [g + (s - 1) * height for g in range(len(values))]
        bars = ax.barh(positions, values[stage].to_numpy(dtype=float), height, color=color,
                       label=stage)  # fmt: skip
        if len(values) <= ANNOTATE_MAX:
            labels = ax.bar_label(bars, fmt="{:,.0f}", padding=2, fontsize="x-small")
            labelled.append((bars, labels))
    ax.set_yticks(range(len(values)), [shorten(g) for g in values.index])
    ax.invert_yaxis()
    ax.set_xlabel(f"candidates ({agg} per evaluation)" if agg == "mean" else "candidates (total)")
    ax.set_ylabel(by)
    ax.set_title(f"Funnel per {by}: pool → filter → shortlist")
    ax.legend(title="stage", loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    if labelled:
        make_room_for_labels(ax, labelled)
    return ax


def make_room_for_labels(ax: Axes, labelled: list[tuple[BarContainer, list[Annotation]]]) -> None:
    """Widen the x range so every value label right of its bar ends inside the axes.

    Labels are sized in points, the axes in data units: only a layout pass tells how much
    room a label takes, so lay the figure out, measure, and repeat while the (slightly
    different) tick labels of the new range still change the axes' width.
    """
    figure = ax.get_figure(root=True)
    if figure is None:
        return
    canvas = figure.canvas
    if not hasattr(canvas, "get_renderer"):  # a bare Figure: measure with Agg
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = FigureCanvasAgg(figure)
    for _ in range(3):
        figure.draw_without_rendering()  # runs the layout engine: the axes' final size
        renderer = canvas.get_renderer()
        box = ax.get_window_extent(renderer)
        left, right = ax.get_xlim()
        needed = right
        for bars, labels in labelled:
            for bar, label in zip(bars, labels, strict=True):
                end = bar.get_x() + bar.get_width()
                if not np.isfinite(end):
                    continue
                # pixels the label reaches past its bar's end (padding included)
                reach = label.get_window_extent(renderer).x1 - ax.transData.transform((end, 0))[0]
                if reach >= box.width:
                    continue  # cannot fit at any range: leave it
                needed = max(needed, left + (end - left) * box.width / (box.width - reach))
        if needed <= right:
            return
        ax.set_xlim(left, left + (needed - left) * 1.01)
