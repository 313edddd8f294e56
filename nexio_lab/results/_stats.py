"""Rank correlations in numpy, the way scipy computes them (ties averaged, tau-b), without scipy.

Spearman's rho is Pearson's r on average ranks. Kendall's tau-b counts concordant minus
discordant pairs over the tie-corrected number of pairs, from the contingency table of the two
variables' distinct values: the inputs here are ranks, which take few distinct values, so the
table stays small where the pairwise count would be quadratic in the number of rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["kendall_tau_b", "spearman_rho"]


def _clean(x: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(x, dtype="float64")
    b = np.asarray(y, dtype="float64")
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"x and y must be 1-D and of one length, got {a.shape} and {b.shape}")
    keep = ~(np.isnan(a) | np.isnan(b))
    return a[keep], b[keep]


def spearman_rho(x: object, y: object) -> float:
    """Spearman's rho (ties get their average rank); NaN below 2 pairs or for a constant side.

    >>> spearman_rho([1, 2, 3, 4], [1, 3, 2, 4])
    0.8
    """
    a, b = _clean(x, y)
    if len(a) < 2:
        return float("nan")
    ra = pd.Series(a).rank(method="average").to_numpy()
    rb = pd.Series(b).rank(method="average").to_numpy()
    da, db = ra - ra.mean(), rb - rb.mean()
    denom = np.sqrt((da * da).sum() * (db * db).sum())
    return float((da * db).sum() / denom) if denom > 0 else float("nan")


def kendall_tau_b(x: object, y: object) -> float:
    """Kendall's tau-b; NaN below 2 pairs or when a side is constant.

    >>> kendall_tau_b([1, 2, 3, 4], [1, 3, 2, 4])  # 5 concordant, 1 discordant of 6 pairs
    0.6666666666666666
    """
    a, b = _clean(x, y)
    n = len(a)
    if n < 2:
        return float("nan")
    xa = np.unique(a, return_inverse=True)[1].ravel()
    yb = np.unique(b, return_inverse=True)[1].ravel()
    table = np.zeros((xa.max() + 1, yb.max() + 1), dtype=np.int64)
    np.add.at(table, (xa, yb), 1)
    # below_right[i, j]: pairs with a larger x and a larger y than cell (i, j); below_left the
    # same with a smaller y. Suffix sums over rows, prefix/suffix sums over columns.
    rows_after = np.cumsum(table[::-1], axis=0)[::-1]
    rows_after = np.vstack([rows_after[1:], np.zeros((1, table.shape[1]), dtype=np.int64)])
    below_right = np.cumsum(rows_after[:, ::-1], axis=1)[:, ::-1]
    below_right = np.hstack([below_right[:, 1:], np.zeros((table.shape[0], 1), dtype=np.int64)])
    below_left = np.cumsum(rows_after, axis=1)
    below_left = np.hstack([np.zeros((table.shape[0], 1), dtype=np.int64), below_left[:, :-1]])
    concordant_minus_discordant = float((table * (below_right - below_left)).sum())
    pairs = n * (n - 1) / 2
    ties_x = float((np.bincount(xa) * (np.bincount(xa) - 1) / 2).sum())
    ties_y = float((np.bincount(yb) * (np.bincount(yb) - 1) / 2).sum())
    denom = np.sqrt((pairs - ties_x) * (pairs - ties_y))
    return float(concordant_minus_discordant / denom) if denom > 0 else float("nan")
