"""Explore results interactively in Jupyter: plots, filters, top candidates, A/B comparisons.

``nexio_lab.explore(batch)`` returns the app (ipywidgets); its logic lives in
:class:`ExplorerState`, which knows nothing of widgets and can be driven from code.

>>> import nexio_lab
>>> app = nexio_lab.explore(batch)  # doctest: +SKIP
>>> app                             # doctest: +SKIP
"""

from ..results._top import TOP_COLUMNS, top_candidates
from ._app import Explorer, explore
from ._state import AB_KINDS, PLOTS, REVENUE_BANDS, Drawing, ExplorerState, Selection

__all__ = [
    "AB_KINDS",
    "Drawing",
    "Explorer",
    "ExplorerState",
    "PLOTS",
    "REVENUE_BANDS",
    "Selection",
    "TOP_COLUMNS",
    "explore",
    "top_candidates",
]
