"""tier_distribution: stacked bars of candidate tiers per group."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ._data import (
    NONE,
    axes,
    default_by,
    group_order,
    keep_top,
    need,
    shorten,
    tables_of,
    with_group,
)
from ._palette import UNKNOWN_COLOR, tier_color

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["tier_distribution"]

_HATCHES = ("", "//", "..", "xx", "\\\\", "++")


def tier_distribution(
    data: Any,
    by: str | None = None,
    *,
    normalize: bool = False,
    top_n: int = 30,
    ax: Axes | None = None,
) -> Axes:
    """Horizontal stacked bars: how many candidates of each tier, per pool/evaluation/group.

    ``by`` is a column of ``candidates`` or ``evaluations`` (default: ``pool`` when there are
    several pools, else ``eval_id``); beyond ``top_n`` groups the smallest are summed into
    one ``other (N)`` bar. ``normalize=True`` shows shares instead of counts.

    >>> ax = tier_distribution(rs, by="pool")  # doctest: +SKIP
    """
    tables = tables_of(data)
    candidates = need(tables, "candidates", "tier_distribution")
    by = by or default_by(candidates)
    frame, by = with_group(candidates, by, tables.get("evaluations"))
    tiers = (
        [NONE if pd.isna(t) else str(t) for t in frame["tier"].astype(object)] if len(frame) else []
    )
    frame = frame.assign(_tier=tiers)
    mapping = keep_top(frame.groupby("_group").size(), top_n)
    frame["_group"] = frame["_group"].map(mapping)
    counts = pd.crosstab(frame["_group"], frame["_tier"]) if len(frame) else pd.DataFrame()
    order = [str(t) for t in getattr(candidates["tier"].dtype, "categories", [])]
    columns = [t for t in order if t in counts.columns] + sorted(
        c for c in counts.columns if c not in order
    )
    counts = counts.reindex(index=group_order(list(counts.index)), columns=columns)
    if normalize and len(counts):
        counts = counts.div(counts.sum(axis=1), axis=0)

    ax = axes(ax, 8, 0.32 * len(counts) + 1.6)
    positions = range(len(counts))
    left = pd.Series(0.0, index=counts.index)
    unknown = 0
    for tier in counts.columns:
        color = tier_color(tier)
        hatch = ""
        if color == UNKNOWN_COLOR:
            hatch, unknown = _HATCHES[unknown % len(_HATCHES)], unknown + 1
        ax.barh(
            list(positions),
            counts[tier].to_numpy(dtype=float),
            left=left.to_numpy(),
            color=color,
            hatch=hatch,
            edgecolor="white" if not hatch else "#555555",
            linewidth=0.5,
            label=tier,
        )
        left += counts[tier]
    ax.set_yticks(list(positions), [shorten(g) for g in counts.index])
    ax.invert_yaxis()
    ax.set_xlabel("share of candidates" if normalize else "candidates")
    ax.set_ylabel(by)
    ax.set_title(f"Tiers per {by}")
    if len(counts.columns):
        ax.legend(title="tier", loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return ax
