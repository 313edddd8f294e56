"""Plots of a comparison: rank_shift (slope chart) and tier_transition (tier A x tier B)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._data import axes, shorten
from ._palette import BETTER_COLOR, SAME_COLOR, WORSE_COLOR, group_color

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["rank_shift", "tier_transition"]

#: Above this many candidates, names are not written next to the points.
LABEL_MAX = 40
ABSENT = "(absent)"


def _comparison(data: Any, b: Any, by: str | None, plot: str) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame) and {"rank_a", "rank_b", "present"} <= set(data.columns):
        diff = data
    else:
        from ..results import compare

        if isinstance(b, str) and by is None:
            b, by = None, b
        diff = compare(data, b, by=by)
    segments = list(pd.unique(diff["segment"])) if "segment" in diff else []
    if len(segments) > 1:
        shown = ", ".join(repr(str(s)) for s in segments[:6]) + (
            " ..." if len(segments) > 6 else ""
        )
        raise ValueError(
            f"{plot} draws one comparison, and this one has {len(segments)} segments "
            f"({shown}): pick one, e.g. diff[diff['segment'] == {str(segments[0])!r}], "
            "or compare(..., by=..., ref=...) with two values"
        )
    return diff


def _labels(diff: pd.DataFrame) -> tuple[str, str]:
    summary = diff.attrs.get("summary")
    if summary is None and "segment" in diff and len(diff):
        # a segment picked out of a comparison of several: its own summary
        summary = (diff.attrs.get("summaries") or {}).get(diff["segment"].iloc[0])
    return (
        str(getattr(summary, "label_a", "A")),
        str(getattr(summary, "label_b", "B")),
    )


def rank_shift(
    data: Any,
    b: Any = None,
    *,
    by: str | None = None,
    top_n: int = 20,
    entity: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Slope chart of candidates' ranks on side A (left) and B (right); rank 1 on top.

    ``data`` is a :func:`~nexio_lab.compare` frame, or what ``compare`` takes (``data, b``
    or ``data, by=``). Shows the ``top_n`` candidates by their better rank (optionally of
    one ``entity``); lines are green when B ranks the candidate better, vermillion when
    worse; candidates on one side only are single points.

    >>> ax = rank_shift(ev_a, ev_b)  # doctest: +SKIP
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    diff = _comparison(data, b, by, "rank_shift")
    label_a, label_b = _labels(diff)
    if entity is not None and "entity" in diff:
        diff = diff[diff["entity"].eq(entity).fillna(False).to_numpy(dtype=bool)]
    ranks_a = diff["rank_a"].astype("float64")
    ranks_b = diff["rank_b"].astype("float64")
    best = np.fmin(ranks_a.to_numpy(), ranks_b.to_numpy())
    chosen = diff.assign(_best=best).sort_values("_best", kind="stable").head(top_n)
    multi_entity = "entity" in chosen and chosen["entity"].nunique(dropna=True) > 1

    ax = axes(ax, 8, 0.28 * len(chosen) + 2.0)
    seen: dict[str, Any] = {}
    for row in chosen.itertuples(index=False):
        ra, rb = row.rank_a, row.rank_b
        name = shorten(row.name if not multi_entity else f"{row.entity} · {row.name}", 26)
        if pd.notna(ra) and pd.notna(rb):
            key, color = (
                ("better on B", BETTER_COLOR)
                if rb < ra
                else ("worse on B", WORSE_COLOR)
                if rb > ra
                else ("same rank", SAME_COLOR)
            )
            ax.plot([0, 1], [ra, rb], color=color, marker="o", linewidth=1.5)
            seen.setdefault(key, Line2D([], [], color=color, marker="o", label=key))
        elif pd.notna(ra):
            key = f"only in {label_a}"
            ax.plot([0], [ra], linestyle="none", marker="o", mfc="white", color=group_color(0))
            seen.setdefault(key, Line2D([], [], linestyle="none", marker="o", mfc="white",
                                        color=group_color(0), label=key))  # fmt: skip
        else:
            key = f"only in {label_b}"
            ax.plot([1], [rb], linestyle="none", marker="s", mfc="white", color=group_color(1))
            seen.setdefault(key, Line2D([], [], linestyle="none", marker="s", mfc="white",
                                        color=group_color(1), label=key))  # fmt: skip
        if len(chosen) <= LABEL_MAX:
            if pd.notna(ra):
                ax.annotate(name, (0, ra), xytext=(-6, 0), textcoords="offset points",
                            ha="right", va="center", fontsize="x-small")  # fmt: skip
            if pd.notna(rb):
                ax.annotate(name, (1, rb), xytext=(6, 0), textcoords="offset points",
                            ha="left", va="center", fontsize="x-small")  # fmt: skip
    ax.set_xlim(-0.9, 1.9)
    ax.set_xticks([0, 1], [shorten(label_a, 20), shorten(label_b, 20)])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.invert_yaxis()
    ax.set_xlabel("side")
    ax.set_ylabel("rank (1 = best)")
    more = f" (top {len(chosen)} of {len(diff)})" if len(diff) > len(chosen) else ""
    ax.set_title(f"Rank shift: {shorten(label_a, 24)} → {shorten(label_b, 24)}{more}")
    if seen:
        order = [
            "better on B",
            "worse on B",
            "same rank",
            f"only in {label_a}",
            f"only in {label_b}",
        ]
        ax.legend(
            handles=[seen[k] for k in order if k in seen],
            loc="upper left",
            bbox_to_anchor=(1.01, 1),
            fontsize="small",
        )
    return ax


def _tier_labels(column: pd.Series) -> pd.Categorical:
    """Each row's tier as text, ``ABSENT`` where missing, as a Categorical without unused
    categories (several categories with the same text become one)."""
    values = column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype(object)
    cat = pd.Categorical(values)
    text = [str(c) for c in cat.categories]
    distinct = list(dict.fromkeys([*text, ABSENT]))
    where = {t: i for i, t in enumerate(distinct)}
    lut = np.array([*(where[t] for t in text), where[ABSENT]], dtype=np.int64)
    codes = lut[np.asarray(cat.codes, dtype=np.int64)]
    used = np.unique(codes)
    remap = np.full(len(distinct), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return pd.Categorical.from_codes(remap[codes], categories=[distinct[i] for i in used])


def tier_transition(
    data: Any,
    b: Any = None,
    *,
    by: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Heatmap of candidates' tier on side A (rows) vs side B (columns), with counts.

    Candidates on one side only count under ``(absent)`` on the other. Input as for
    :func:`rank_shift`. The colour bar is the legend (cividis, colour-blind safe).

    >>> ax = tier_transition(rs, by="pool")  # doctest: +SKIP
    """
    diff = _comparison(data, b, by, "tier_transition")
    label_a, label_b = _labels(diff)
    order = [str(t) for t in getattr(diff["tier_a"].dtype, "categories", [])]

    a, b_tiers = _tier_labels(diff["tier_a"]), _tier_labels(diff["tier_b"])
    present = set(a.categories) | set(b_tiers.categories)
    labels = [t for t in order if t in present] + sorted(present - set(order) - {ABSENT})
    labels += [ABSENT] if ABSENT in present else []
    # counted on codes: a per-row label list and a crosstab cost seconds on 200,000 rows
    position = {t: i for i, t in enumerate(labels)}
    rows = np.array([position.get(t, -1) for t in a.categories], dtype=np.int64)[a.codes]
    cols = np.array([position.get(t, -1) for t in b_tiers.categories], dtype=np.int64)[
        b_tiers.codes
    ]
    n = len(labels)
    counts = np.bincount(rows * n + cols, minlength=n * n).reshape(n, n)
    ax = axes(ax, 0.9 * len(labels) + 3.5, 0.7 * len(labels) + 2.0)
    image = ax.imshow(counts, cmap="cividis", aspect="auto", vmin=0)
    peak = counts.max() if counts.size else 0
    for (i, j), count in np.ndenumerate(counts):
        ax.text(j, i, str(count), ha="center", va="center", fontsize="small",
                color="black" if count > peak / 2 else "white")  # fmt: skip
    ax.set_xticks(range(len(labels)), [shorten(t, 16) for t in labels], rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), [shorten(t, 16) for t in labels])
    ax.set_xlabel(f"tier on {shorten(label_b, 30)}")
    ax.set_ylabel(f"tier on {shorten(label_a, 30)}")
    ax.set_title(f"Tier transition: {shorten(label_a, 24)} → {shorten(label_b, 24)}")
    ax.figure.colorbar(image, ax=ax, label="candidates")
    return ax
