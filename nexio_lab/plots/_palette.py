"""The one palette of every nexio-lab plot (Okabe–Ito, safe for colour-blind readers).

Levels and tiers share a scale, best to worst: bluish green, sky blue, orange, vermillion;
tiers the API names but we do not know are grey (told apart by hatching). Groups (pools,
segments) take the remaining Okabe–Ito colours, then repeat with other line styles.
"""

from __future__ import annotations

from .._models import LEVELS, TIERS

__all__ = [
    "GROUP_COLORS",
    "LEVEL_COLORS",
    "MISSING_COLOR",
    "STAGE_COLORS",
    "TIER_COLORS",
    "UNKNOWN_COLOR",
    "group_color",
    "tier_color",
]

_BEST_TO_WORST = ("#009E73", "#56B4E9", "#E69F00", "#D55E00")

#: ``L1`` .. ``L4``.
LEVEL_COLORS: dict[str, str] = dict(zip(LEVELS, _BEST_TO_WORST, strict=True))
#: The four known tiers, best first, in the same colours as the levels.
TIER_COLORS: dict[str, str] = dict(zip(TIERS, _BEST_TO_WORST, strict=True))
#: Tiers outside ``TIERS``.
UNKNOWN_COLOR = "#999999"
#: Cells with no value (e.g. a dimension a candidate was not scored on).
MISSING_COLOR = "#EEEEEE"
#: Pools, segments, evaluations: colours not used for levels or tiers first.
GROUP_COLORS = ("#0072B2", "#CC79A7", "#000000", "#F0E442", "#009E73", "#E69F00", "#56B4E9")
#: Funnel stages: pool -> after filter -> shortlisted.
STAGE_COLORS = ("#0072B2", "#56B4E9", "#CC79A7")
#: Rank-shift directions on side B.
BETTER_COLOR, WORSE_COLOR, SAME_COLOR = "#009E73", "#D55E00", "#999999"


def tier_color(tier: str) -> str:
    """A tier's colour; grey for any tier outside ``TIERS``."""
    return TIER_COLORS.get(tier, UNKNOWN_COLOR)


def group_color(index: int) -> str:
    return GROUP_COLORS[index % len(GROUP_COLORS)]
