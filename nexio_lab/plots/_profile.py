"""dimension_profile: the mean level of each dimension, one line per group."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._models import LEVELS
from ._data import axes, default_by, group_order, keep_top, need, shorten, tables_of, with_group
from ._palette import group_color

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["dimension_profile"]

_STYLES = ("-", "--", ":", "-.")


def dimension_profile(
    data: Any,
    by: str | None = None,
    *,
    top_n: int = 8,
    ax: Axes | None = None,
) -> Axes:
    """Mean level (1 = L1 .. 4 = L4) per dimension, one line per group, better up.

    ``by`` is a column of ``scores`` or ``evaluations`` (e.g. ``pool`` or
    ``profile_state``; default ``pool`` when there are several, else ``eval_id``). Beyond
    ``top_n`` groups the smallest are pooled into one ``other (N)`` line.

    >>> ax = dimension_profile(rs, by="profile_state")  # doctest: +SKIP
    """
    tables = tables_of(data)
    scores = need(tables, "scores", "dimension_profile")
    by = by or default_by(scores)
    frame, by = with_group(scores, by, tables.get("evaluations"))
    frame["_group"] = frame["_group"].map(keep_top(frame.groupby("_group").size(), top_n))
    means = (
        frame.assign(_value=frame["level_num"].astype("float64"))
        .groupby(["_group", "dimension"], observed=True)["_value"]
        .mean()
        .unstack("dimension")
    )
    dims = [str(d) for d in scores["dimension"].cat.categories if d in means.columns]
    means = means.reindex(index=group_order(list(means.index)), columns=dims)

    ax = axes(ax, 1.1 * max(len(dims), 4) + 2.5, 4.2)
    x = list(range(len(dims)))
    for i, (group, row) in enumerate(means.iterrows()):
        ax.plot(
            x,
            row.to_numpy(dtype=float),
            marker="o",
            color=group_color(i),
            linestyle=_STYLES[(i // 7) % len(_STYLES)],
            label=shorten(group),
        )
    ax.set_xticks(x, [shorten(d, 16) for d in dims], rotation=30, ha="right")
    ax.set_yticks(range(1, 5), list(LEVELS))
    ax.set_ylim(4.25, 0.75)  # L1 (best) at the top
    ax.set_xlabel("dimension")
    ax.set_ylabel("mean level (L1 best)")
    ax.set_title(f"Mean level per dimension by {by}")
    ax.grid(axis="y", alpha=0.3)
    if len(means):
        ax.legend(title=by, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return ax
