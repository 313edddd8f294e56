"""``results.plot.<name>(...)``: every plot, bound to one result set or batch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["PlotAccessor"]


class PlotAccessor:
    """The plots of ``data`` (a ResultSet or batch) as methods.

    ``rs.plot.rank_shift("pool")`` splits on a column, like ``rs.compare("pool")``.

    >>> rs.plot.tier_distribution(by="pool")  # doctest: +SKIP
    """

    def __init__(self, data: Any) -> None:
        self._data = data

    def tier_distribution(self, by: str | None = None, **kwargs: Any) -> Axes:
        from ._tiers import tier_distribution

        return tier_distribution(self._data, by, **kwargs)

    def score_heatmap(self, eval_id: str | None = None, **kwargs: Any) -> Axes:
        from ._heatmap import score_heatmap

        return score_heatmap(self._data, eval_id, **kwargs)

    def dimension_profile(self, by: str | None = None, **kwargs: Any) -> Axes:
        from ._profile import dimension_profile

        return dimension_profile(self._data, by, **kwargs)

    def funnel(self, by: str | None = None, **kwargs: Any) -> Axes:
        from ._funnel import funnel

        return funnel(self._data, by, **kwargs)

    def rank_shift(self, other: Any = None, *, by: str | None = None, **kwargs: Any) -> Axes:
        """Against ``other``, or split on a column: ``rank_shift("pool")``."""
        from ._shift import rank_shift

        return rank_shift(self._data, other, by=by, **kwargs)

    def tier_transition(self, other: Any = None, *, by: str | None = None, **kwargs: Any) -> Axes:
        from ._shift import tier_transition

        return tier_transition(self._data, other, by=by, **kwargs)

    def __repr__(self) -> str:
        return f"<PlotAccessor of {type(self._data).__name__}>"
