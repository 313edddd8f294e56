"""Matplotlib plots of results; matplotlib is imported only when a plot is drawn.

Each plot takes a ResultSet, a batch, an Evaluation (where it makes sense) or a results
DataFrame, accepts ``ax=``, returns the Axes, and uses one colour-blind-safe palette
(:mod:`nexio_lab.plots._palette`): levels and tiers always have the same colours.

>>> import nexio_lab.plots as plots
>>> sorted(plots.__all__)[:3]
['PlotAccessor', 'dimension_profile', 'funnel']
"""

from ._accessor import PlotAccessor
from ._funnel import funnel
from ._heatmap import score_heatmap
from ._profile import dimension_profile
from ._shift import rank_shift, tier_transition
from ._tiers import tier_distribution

__all__ = [
    "PlotAccessor",
    "dimension_profile",
    "funnel",
    "rank_shift",
    "score_heatmap",
    "tier_distribution",
    "tier_transition",
]
