"""``results.plot.<name>(...)``: every plot, bound to one result set or batch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["PlotAccessor"]


class PlotAccessor:
    """The plots of ``data`` (a ResultSet or batch) as methods; each takes ``ax=None`` and
    returns the Axes it drew on.

    ``rs.plot.rank_shift(by="pool")`` splits on a column, like ``compare(rs, by="pool")``.

    >>> rs.plot.tier_distribution(by="pool")  # doctest: +SKIP
    """

    def __init__(self, data: Any) -> None:
        self._data = data

    def tier_distribution(
        self,
        by: str | None = None,
        *,
        normalize: bool = False,
        top_n: int = 30,
        ax: Axes | None = None,
    ) -> Axes:
        """Candidates per tier and group; see :func:`nexio_lab.plots.tier_distribution`."""
        from ._tiers import tier_distribution

        return tier_distribution(self._data, by, normalize=normalize, top_n=top_n, ax=ax)

    def score_heatmap(
        self, eval_id: str | None = None, *, top_n: int = 30, ax: Axes | None = None
    ) -> Axes:
        """Levels per candidate and dimension of one evaluation; see
        :func:`nexio_lab.plots.score_heatmap`."""
        from ._heatmap import score_heatmap

        return score_heatmap(self._data, eval_id, top_n=top_n, ax=ax)

    def dimension_profile(
        self, by: str | None = None, *, top_n: int = 8, ax: Axes | None = None
    ) -> Axes:
        """Mean level per dimension and group; see :func:`nexio_lab.plots.dimension_profile`."""
        from ._profile import dimension_profile

        return dimension_profile(self._data, by, top_n=top_n, ax=ax)

    def funnel(
        self,
        by: str | None = None,
        *,
        agg: Literal["mean", "sum"] = "mean",
        top_n: int = 20,
        ax: Axes | None = None,
    ) -> Axes:
        """Pool size, filtered and ranked candidates per group; see
        :func:`nexio_lab.plots.funnel`."""
        from ._funnel import funnel

        return funnel(self._data, by, agg=agg, top_n=top_n, ax=ax)

    def rank_shift(
        self,
        other: Any = None,
        *,
        by: str | None = None,
        top_n: int = 20,
        entity: str | None = None,
        ax: Axes | None = None,
    ) -> Axes:
        """Ranks in A against B, against ``other`` or split on a column: ``rank_shift(by=
        "pool")``; see :func:`nexio_lab.plots.rank_shift`."""
        from ._shift import rank_shift

        return rank_shift(self._data, other, by=by, top_n=top_n, entity=entity, ax=ax)

    def tier_transition(
        self, other: Any = None, *, by: str | None = None, ax: Axes | None = None
    ) -> Axes:
        """How tiers move from A to B; see :func:`nexio_lab.plots.tier_transition`."""
        from ._shift import tier_transition

        return tier_transition(self._data, other, by=by, ax=ax)

    def __repr__(self) -> str:
        return f"<PlotAccessor of {type(self._data).__name__}>"
